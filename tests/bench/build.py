"""Build time and memory: real builds against the sandbox, each in a fresh process of its own.

Each run installs a new sandbox store (a new store code), so both the sandbox's and our limiter's
windows start empty, as a daily rebuild finds them, and times that store's first build (the one a
merchant waits for after installing). The build runs as `flask feeds rebuild --sync` runs it (the
store's build lock around ``builder.build_feed``) in a child process, whose peak RSS is the
build's memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

from feedapp_dev.sandbox.catalogue import generate_categories

from feedapp.feed.publishing import remove_store_feeds
from tests.bench import floor
from tests.bench.report import Row, Section, progress, size_label
from tests.bench.stack import Bench
from tests.processes import ROOT

LATENCY_MS = 100
#: (products, runs): fewer runs of the big store keep the suite within its 10 minutes.
SIZES = ((1_000, 5), (10_000, 3), (20_000, 1), (100_000, 2))
QUICK_SIZES = ((200, 2), (1_000, 2))
#: The target judging each store size (tests/bench/targets.py): wall time over the catalogue's
#: floor (issue 6), or over issue 4's pages/20 floor for the 20k store.
GOALS = {10_000: "build.10k", 20_000: "build.20k.pages", 100_000: "build.100k"}
CHILD_TIMEOUT = 900


def run(bench: Bench, sizes: tuple[tuple[int, int], ...] | None = None) -> list[dict]:
    """Every build run of every size, in order; each a dict of figures."""
    sizes = sizes or (QUICK_SIZES if bench.quick else SIZES)
    return [build_once(bench, products, n) for products, runs in sizes for n in range(runs)]


def build_once(bench: Bench, products: int, run_no: int, tag: str = "") -> dict:
    """Install a fresh store of `products` products, build it in a child process, measure it.

    `tag` sets apart the store codes of another series of runs (e.g. "busy": bench20000-busy1).
    """
    code = f"bench{products}-{tag}{run_no + 1}"
    bench.install(code, products, LATENCY_MS)
    before = bench.sandbox.stats()
    child = subprocess.run(
        [sys.executable, "-m", "tests.bench.build", "--child", code],
        cwd=ROOT,
        env=bench.env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    after = bench.sandbox.stats()
    bench.log(f"build-{code}").write_text(child.stderr)
    if child.returncode != 0:
        raise RuntimeError(f"build of {code} failed:\n{child.stderr[-3000:]}")
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    remove_store_feeds(bench.feeds_dir, code)  # a 100k feed is ~400 MB
    categories = len(generate_categories())
    needed = floor.catalogue_requests(products, categories)
    seen = after["requests"] - before["requests"]
    limited = after["rate_limited"] - before["rate_limited"]
    limited_log = [line for line in child.stderr.splitlines() if "rate-limited" in line]
    duration = figures["duration"]
    progress(
        f"build {size_label(products)} {tag or 'quiet'} run {run_no + 1}: {duration:.1f} s, "
        f"{figures['requests_made']} requests, peak RSS {figures['peak_rss_mib']:.0f} MiB"
    )
    return {
        "store": code,
        "products": products,
        "latency_ms": LATENCY_MS,
        **figures,
        "categories": categories,
        "requests_needed": needed,
        "requests_served": seen - limited,
        "requests_seen_by_sandbox": seen,
        "rate_limited_429": limited,
        "rate_limited_log": limited_log[:5],
        "floor_seconds": round(floor.rate_floor(needed), 3),
        "ratio_to_floor": round(duration / floor.rate_floor(needed), 3),
        "pages_floor_seconds": round(floor.pages_floor(products), 3),
        "ratio_to_pages_floor": round(duration / floor.pages_floor(products), 3),
    }


def medians(runs: list[dict]) -> dict[str, dict[str, float]]:
    """Per store size, the median of every numeric figure of its runs."""
    found: dict[str, dict[str, float]] = {}
    for products in sorted({r["products"] for r in runs}):
        same = [r for r in runs if r["products"] == products]
        numeric = [k for k, v in same[0].items() if isinstance(v, int | float)]
        found[str(products)] = {k: statistics.median(r[k] for r in same) for k in numeric}
    return found


def summarise(runs: list[dict]) -> Section:
    """One row per size: median wall time, the catalogue's floor, the requests made beside it."""
    rows, phases = [], []
    categories = runs[0]["categories"]
    for size, m in medians(runs).items():
        products = int(size)
        same = [r for r in runs if r["products"] == products]
        goal = GOALS.get(products)
        judged = "ratio_to_pages_floor" if goal and goal.endswith(".pages") else "ratio_to_floor"
        rows.append(
            Row(
                f"build {products:,} products",
                f"{m['duration']:.1f} s; {m['ratio_to_floor']:.2f}x floor "
                f"{m['floor_seconds']:.1f} s (R={m['requests_needed']:.0f}, made "
                f"{m['requests_served']:.0f}); {m['ratio_to_pages_floor']:.2f}x pages/20",
                f"{len(same)} runs; 429s {sum(r['rate_limited_429'] for r in same)}; "
                f"items {m['items']:,.0f}",
                goal,
                m[judged] if goal else None,
            )
        )
        phases.append(
            f"{size_label(products)}: {m['phase_before_first_page']:.2f} s to the first page, "
            f"{m['phase_pages']:.2f} s of pages, {m['phase_after_last_page']:.2f} s after the last"
        )
    notes = [
        f"build: sandbox latency {LATENCY_MS} ms, limits 20/s and 800/min; each run a new store "
        "installed just before (its install's one request is in the quota window, as in life); "
        "wall time = the builder's own duration (build start to publish), in a child process.",
        f"build floor: {floor.FLOOR_FORMULA}. {floor.REQUESTS_FORMULA}, for N products and C "
        f"categories (the sandbox's {categories} make R = ceil(N/100) + "
        f"{floor.catalogue_requests(0, categories)}). {floor.NOT_COUNTED}. Requests made = what "
        "the sandbox served for the build (429 answers excluded), shown beside R. "
        f"{floor.PAGES_FORMULA}.",
        "build phases (medians): "
        + "; ".join(phases)
        + " (before: store/info, languages, categories and count; after: publish).",
    ]
    return Section("build", rows, {"medians": medians(runs), "runs": runs}, notes)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(code: str) -> dict:
    """Build one store in this process, as `feeds rebuild --sync` does; print its figures."""
    from config import Config
    from feedapp.builds import builder, queueing
    from feedapp.services import Services

    baseline = _rss_mib()
    svc = Services(Config())
    pages_at: dict[str, float] = {}

    def progress(update: dict[str, object]) -> None:
        now = time.time()
        pages_at.setdefault("first", now)
        if update.get("pages_done") == update.get("pages_total"):
            pages_at["last"] = now
            pages_at["peak_rss"] = _rss_mib()

    result = queueing.run_with_lock(
        svc, code, lambda: builder.build_feed(svc, code, progress=progress)
    )
    if not isinstance(result, builder.BuildResult):
        raise RuntimeError(f"store {code}: the build lock was taken")
    end = result.started_at + result.duration
    first, last = pages_at.get("first", end), pages_at.get("last", end)
    return {
        "duration": round(result.duration, 3),
        "items": result.items,
        "products_built": result.products,
        "requests_made": result.requests,
        "client_rate_limited": result.rate_limited,
        "phase_before_first_page": round(first - result.started_at, 3),
        "phase_pages": round(last - first, 3),
        "phase_after_last_page": round(end - last, 3),
        "peak_rss_mib": round(_rss_mib(), 1),
        "peak_rss_when_pages_done_mib": round(pages_at.get("peak_rss", 0.0), 1),
        "baseline_rss_mib": round(baseline, 1),
    }


def main() -> None:
    """The child's entry point: ``python -m tests.bench.build --child STORE``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", required=True, help="store code to build in this process")
    print(json.dumps(child(parser.parse_args().child)))


if __name__ == "__main__":
    main()
