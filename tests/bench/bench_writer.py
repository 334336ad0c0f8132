"""Writer benchmark: items per second and peak memory, to show the build stays flat at any size.

Run from the project root: ``python -m tests.bench.bench_writer [--sizes 10000,100000] [--json P]``.
Each size runs in a fresh child process, and its peak memory is that child's peak resident set
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``): everything the process held, interpreter and lxml
included, which is what a worker's memory limit sees. Python-heap-only numbers (tracemalloc) would
miss lxml's C buffers.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "writer.json"
TARGET_RATIO = 1.3
WORDS = (
    "camisa algodón orgánico suave transpirable corte clásico cuello manga larga botones nácar "
    "lavable máquina talla ajuste perfecto verano invierno tejido premium color duradero diseño "
    "chileno hecho a mano costuras reforzadas cómoda elegante oficina fin de semana regalo ideal"
).split()
COLORS = ("Rojo", "Azul", "Negro", "Blanco", "Verde")
SIZES = ("S", "M", "L")


@dataclass(slots=True)
class Item:
    """Shaped like mapping.Item: an id and ordered (attribute, value) pairs."""

    id: str
    fields: list[tuple[str, str]]


def realistic_items(count: int, seed: int = 7) -> Iterator[Item]:
    """Items like a real apparel catalogue: three variants per product, ~20 attributes each."""
    rng = random.Random(seed)
    for n in range(count):
        product, variant = divmod(n, 3)
        if variant == 0:
            description = " ".join(rng.choices(WORDS, k=70))[:500]
            name = f"Camisa {' '.join(rng.choices(WORDS, k=3))} {product}"
            price = rng.randrange(5_000, 90_000, 10)
        base = f"https://tienda.example.com/camisa-{product}"
        image = f"https://images.jumpseller.com/store/tienda/{product}"
        item_id = f"{product}-{n}"
        yield Item(
            item_id,
            [
                ("id", item_id),
                ("title", f"{name} - {COLORS[n % 5]} / {SIZES[variant]}"),
                ("description", description),
                ("link", f"{base}?variant={n}&utm_source=google&utm_medium=shopping"),
                ("image_link", f"{image}/main.jpg"),
                *[("additional_image_link", f"{image}/extra-{k}.jpg") for k in range(3)],
                ("availability", "in_stock" if n % 7 else "out_of_stock"),
                ("price", f"{price} CLP"),
                ("sale_price", f"{price * 9 // 10} CLP"),
                ("brand", "Algodones del Sur"),
                ("gtin", f"{7800000000000 + n}"),
                ("condition", "new"),
                ("google_product_category", "212"),
                ("product_type", "Ropa > Hombre > Camisas"),
                ("item_group_id", str(product)),
                ("color", COLORS[n % 5]),
                ("size", SIZES[variant]),
                ("shipping_weight", "0.35 kg"),
            ],
        )


def peak_rss_mib() -> float:
    """This process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(count: int) -> dict[str, float | int]:
    """Write and publish one feed of ``count`` items in this process and measure it."""
    from feedapp.feed.publishing import publish
    from feedapp.feed.xmlfeed import Channel, FeedWriter

    baseline = peak_rss_mib()  # interpreter, lxml and the app's modules, before any item
    channel = Channel.for_store("Tienda", "https://tienda.example.com")
    writing = 0.0
    with tempfile.TemporaryDirectory() as feeds:
        start = time.perf_counter()
        tick = time.perf_counter()
        with FeedWriter(feeds, "tienda", "bench", channel=channel) as writer:
            for item in realistic_items(count):
                tick = time.perf_counter()
                writer.write(item)
                writing += time.perf_counter() - tick
            tick = time.perf_counter()
        writing += time.perf_counter() - tick
        wall = time.perf_counter() - start
        peak_write = peak_rss_mib()
        tick = time.perf_counter()
        result = publish(feeds, "tienda", writer.path, writer.count)
        publishing = time.perf_counter() - tick
    return {
        "items": writer.count,
        "write_seconds": round(writing, 3),
        "items_per_second": round(count / writing),
        "wall_items_per_second": round(count / wall),
        "publish_seconds": round(publishing, 3),
        "feed_mib": round(result.size / 2**20, 1),
        "gz_mib": round(result.gz_size / 2**20, 1),
        "baseline_rss_mib": round(baseline, 1),
        "peak_rss_write_mib": round(peak_write, 1),
        "peak_rss_total_mib": round(peak_rss_mib(), 1),
    }


def run_child(count: int) -> dict[str, float | int]:
    """Run one size in a fresh interpreter so its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_writer", "--child", str(count)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def report(runs: list[dict[str, float | int]]) -> dict[str, object]:
    """Print the table and the memory ratio; return the same figures for the JSON file."""
    print("FeedWriter benchmark: one fresh process per size; memory = that process's peak RSS")
    print(
        f"{'items':>9} {'items/s':>9} {'wall/s':>9} {'write s':>8} {'publish s':>9} "
        f"{'feed MiB':>9} {'gz MiB':>7} {'base RSS':>9} {'peak write':>11} {'peak total':>11}"
    )
    for r in runs:
        print(
            f"{r['items']:>9,} {r['items_per_second']:>9,} {r['wall_items_per_second']:>9,} "
            f"{r['write_seconds']:>8} {r['publish_seconds']:>9} {r['feed_mib']:>9} "
            f"{r['gz_mib']:>7} {r['baseline_rss_mib']:>9} {r['peak_rss_write_mib']:>11} "
            f"{r['peak_rss_total_mib']:>11}"
        )
    print("items/s = writer only; wall/s includes generating the items; RSS figures in MiB")
    figures: dict[str, object] = {
        "memory_measure": "ru_maxrss of a fresh child process per size (MiB), "
        "interpreter and lxml included",
        "python": platform.python_version(),
        "runs": runs,
        "target_ratio": TARGET_RATIO,
    }
    if len(runs) >= 2:
        small, large = runs[0], runs[-1]
        ratios = {
            key: round(large[key] / small[key], 3)
            for key in ("peak_rss_write_mib", "peak_rss_total_mib")
        }
        figures["ratio_sizes"] = [small["items"], large["items"]]
        figures["ratios"] = ratios
        print(
            f"peak RSS ratio {large['items']:,}/{small['items']:,} items: "
            f"write {ratios['peak_rss_write_mib']}, write+publish {ratios['peak_rss_total_mib']} "
            f"(target <= {TARGET_RATIO}: "
            f"{'met' if max(ratios.values()) <= TARGET_RATIO else 'NOT met'})"
        )
    return figures


def main() -> None:
    """Parse arguments; run each size in a child, or be that child."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated item counts")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write figures")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child)))
        return
    runs = [run_child(int(size)) for size in args.sizes.split(",")]
    figures = report(runs)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
