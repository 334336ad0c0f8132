"""Render throughput: mapping plus writing already-fetched products, next to a bare lxml loop.

Both run in the same pass, chunk by chunk, so machine noise hits them alike: each chunk of sandbox
products (generated untimed) goes through the builder's per-product code (``map_safely``, then
``FeedWriter.write`` and ``BuildDiagnostics.add``; the chunk is mapped first and written next, to
time the two apart), then the items it produced are written again by a loop of bare
``lxml.etree.xmlfile`` calls with no checks at all: the floor. Both files must come
out byte for byte the same, which proves the floor wrote the same elements.
"""

from __future__ import annotations

import contextlib
import filecmp
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from feedapp_dev.sandbox.catalogue import generate_categories, generate_product
from lxml import etree

from feedapp.builds import builder
from feedapp.feed.diagnostics import BuildDiagnostics
from feedapp.feed.mapping import MappedProduct
from feedapp.feed.taxonomy import CatalogContext
from feedapp.feed.xmlfeed import FIRST_FEED, GOOGLE_NS, Channel, FeedWriter, store_dir
from feedapp.storefeeds import StoreFeed
from feedapp.stores import Store
from tests.bench.report import Row, Section, progress, size_label
from tests.bench.stack import Bench
from tests.bench.targets import TARGETS

ITEMS = 100_000
QUICK_ITEMS = 2_000
PASSES = 3
QUICK_PASSES = 1
CHUNK = 500
STORE = "benchfeed"
SEED = 7


@dataclass
class PassResult:
    """One pass: items written, seconds spent by each writer, and the feed left for serving."""

    items: int
    products: int
    map_seconds: float
    write_seconds: float
    raw_seconds: float
    same_bytes: bool
    feed_tmp: Path

    def as_dict(self) -> dict[str, object]:
        """JSON-ready figures of the pass."""
        rendering = self.map_seconds + self.write_seconds
        return {
            "items": self.items,
            "products": self.products,
            "map_seconds": round(self.map_seconds, 3),
            "write_seconds": round(self.write_seconds, 3),
            "raw_seconds": round(self.raw_seconds, 3),
            "render_items_per_second": round(self.items / rendering),
            "raw_items_per_second": round(self.items / self.raw_seconds),
            "writer_items_per_second": round(self.items / self.write_seconds),
            "ratio": round(self.raw_seconds / rendering, 3),
            "mapping_share": round(self.map_seconds / rendering, 3),
            "same_bytes": self.same_bytes,
        }


def bench_store() -> Store:
    """A store record like the sandbox's, with default feed options."""
    return Store(
        code=STORE,
        name="Tienda Bench",
        url=f"https://{STORE}.jumpseller.com",
        currency="CLP",
        country="CL",
        weight_unit="kg",
        languages=["es", "en"],
        default_language="es",
    )


@contextlib.contextmanager
def raw_feed(out: IO[bytes], channel: Channel) -> Iterator[etree.xmlfile]:
    """The same document head FeedWriter writes, by bare lxml calls."""
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element("rss", nsmap={"g": GOOGLE_NS}, version="2.0"):
            xf.write("\n")
            with xf.element("channel"):
                for name in ("title", "link", "description"):
                    xf.write("\n")
                    with xf.element(name):
                        xf.write(getattr(channel, name))
                xf.write("\n")
                yield xf


def write_raw(xf: etree.xmlfile, batch: list[MappedProduct], tags: dict[str, str]) -> None:
    """The floor: every item's fields as elements, no cleaning, no checks."""
    for mapped in batch:
        for item in mapped.items:
            with xf.element("item"):
                for name, value in item.fields:
                    tag = tags.get(name) or tags.setdefault(name, f"{{{GOOGLE_NS}}}{name}")
                    with xf.element(tag):
                        xf.write(value)
            xf.write("\n")


def render_pass(feeds_dir: Path, target_items: int, build_id: str) -> PassResult:
    """Render until `target_items` items are written; time both writers chunk by chunk."""
    store = bench_store()
    feed = StoreFeed(FIRST_FEED)  # a new store's first feed: today's default options
    info = builder.store_info(store, feed)
    categories = generate_categories()
    catalog = CatalogContext(categories)
    diagnostics = BuildDiagnostics()
    channel = Channel.for_store(store.name, store.url)
    raw_path = store_dir(feeds_dir, STORE) / f"{build_id}.floor.xml"
    tags: dict[str, str] = {}
    mapping = writing = raw = 0.0
    index = 0
    with FeedWriter(feeds_dir, STORE, build_id, channel=channel) as writer:
        with open(raw_path, "wb") as out, raw_feed(out, channel) as xf:
            while writer.count < target_items:
                chunk = [
                    generate_product(i, SEED, STORE, "CLP", categories).product
                    for i in range(index, index + CHUNK)
                ]
                index += CHUNK
                tick = time.perf_counter()
                batch = [builder.map_safely(p, info, feed.options, catalog) for p in chunk]
                mapped_at = time.perf_counter()
                for mapped in batch:
                    for item in mapped.items:
                        writer.write(item)
                    diagnostics.add(mapped)
                written_at = time.perf_counter()
                mapping += mapped_at - tick
                writing += written_at - mapped_at
                tick = time.perf_counter()
                write_raw(xf, batch, tags)
                raw += time.perf_counter() - tick
    same = filecmp.cmp(writer.path, raw_path, shallow=False)
    raw_path.unlink()
    return PassResult(writer.count, index, mapping, writing, raw, same, writer.path)


def run(bench: Bench) -> Section:
    """Several passes; the median of each writer's items/s and of the per-pass ratio."""
    target = QUICK_ITEMS if bench.quick else ITEMS
    passes = []
    for n in range(QUICK_PASSES if bench.quick else PASSES):
        result = render_pass(bench.feeds_dir, target, f"render-{n + 1}")
        if bench.rendered is not None:
            bench.rendered[0].unlink(missing_ok=True)
        bench.rendered = (result.feed_tmp, result.items)  # serving publishes the last one
        passes.append(result.as_dict())
        progress(
            f"render pass {n + 1}: {passes[-1]['render_items_per_second']:,} items/s vs "
            f"floor {passes[-1]['raw_items_per_second']:,} items/s"
        )
    ratio = statistics.median(p["ratio"] for p in passes)
    rendered = statistics.median(p["render_items_per_second"] for p in passes)
    floor = statistics.median(p["raw_items_per_second"] for p in passes)
    writer = statistics.median(p["writer_items_per_second"] for p in passes)
    mapping_share = statistics.median(p["mapping_share"] for p in passes)
    same = all(p["same_bytes"] for p in passes)
    runs = f"{len(passes)} passes of {size_label(target)} items"
    rows = [
        Row("render: map + write", f"{rendered:,.0f} items/s", runs),
        Row("render: writing alone", f"{writer:,.0f} items/s ({writer / floor:.2f}x floor)", runs),
        Row("render floor: bare lxml", f"{floor:,.0f} items/s", runs),
        Row(
            "render ratio to floor",
            f"{ratio:.2f}x",
            f"same bytes: {'yes' if same else 'NO'}",
            "render.ratio",
            ratio,
        ),
    ]
    per_item = {
        key: statistics.median(p[f"{key}_seconds"] / p["items"] for p in passes) * 1e6
        for key in ("map", "write", "raw")
    }
    wanted = TARGETS["render.ratio"].value
    budget = per_item["raw"] / wanted - per_item["write"]
    notes = [
        "render: sandbox products generated untimed in chunks of "
        f"{CHUNK}; timed = builder.map_safely + FeedWriter.write + BuildDiagnostics.add per "
        "product; floor = the same items through bare lxml xmlfile calls in the same pass; "
        "ratio = floor time / render time.",
        f"render, per item (medians): mapping {per_item['map']:.0f} µs ({mapping_share:.0%} of "
        f"the render time: every Google rule checked, text and URLs cleaned, GTINs verified), "
        f"writing {per_item['write']:.0f} µs, the bare lxml floor {per_item['raw']:.0f} µs; a "
        f"ratio of {wanted:g}x leaves {budget:.0f} µs for mapping.",
    ]
    medians = {
        "render_items_per_second": rendered,
        "raw_items_per_second": floor,
        "writer_items_per_second": writer,
        "ratio": ratio,
        "mapping_share": mapping_share,
    }
    return Section("render", rows, {"medians": medians, "passes": passes}, notes)
