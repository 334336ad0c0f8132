"""Freshness: seconds from a product edit in the sandbox until the edit is in the published feed.

The full-rebuild path: the edit, then ``queueing.request_build(mode="full")`` (what "rebuild now"
or the CLI does), a real ``flask worker`` process picking the job from the queue, a full rebuild,
and publish; the webhook path (an update build) is measured by tests/bench/incremental.py. The
store has a live feed before the first edit, as a store in use has.
"""

from __future__ import annotations

import secrets
import statistics
import time

from feedapp_dev.sandbox.catalogue import product_id

from feedapp.builds import queueing
from feedapp.builds.status import feed_last_good
from feedapp.feed.publishing import published_feed
from feedapp.feed.xmlfeed import FIRST_FEED
from tests.bench.report import Row, Section, progress, size_label
from tests.bench.stack import Bench
from tests.processes import wait_for

PRODUCTS, QUICK_PRODUCTS = 10_000, 300
RUNS, QUICK_RUNS = 3, 1
LATENCY_MS = 100
STORE = "benchfresh"
BUILD_TIMEOUT, QUICK_BUILD_TIMEOUT = 300, 60


def wait_published(
    bench: Bench, after: float, code: str = STORE, timeout: float | None = None
) -> dict:
    """The store's first feed's last good build once one finished after `after`; raise if a
    build failed meanwhile."""

    def published() -> dict | None:
        build = bench.svc.registry.get_json(code, "build") or {}
        if build.get("state") == "failed" and float(build.get("finished_at") or 0) > after:
            raise RuntimeError(f"store {code}: build failed: {build.get('error')}")
        last_good = feed_last_good(bench.svc.registry, code, FIRST_FEED)
        if float(last_good.get("finished_at") or 0) > after:
            return {**last_good, "started_at": build.get("started_at")}
        return None

    if timeout is None:
        timeout = QUICK_BUILD_TIMEOUT if bench.quick else BUILD_TIMEOUT
    return wait_for(published, timeout, f"a published build of {code}", every=0.05)


def edit_once(bench: Bench, products: int, run_no: int) -> dict:
    """Rename one product, ask for a build, wait until the new name is in the live feed."""
    marker = f"Bench edit {run_no} {secrets.token_hex(4)}"
    pid = product_id(products // 2)
    edited_at = time.time()
    bench.sandbox.control(f"stores/{STORE}/products/{pid}", {"name": marker})
    outcome = queueing.request_build(
        bench.svc, STORE, reason="bench: a product was edited", mode="full"
    )
    build = wait_published(bench, edited_at)
    feed = published_feed(bench.feeds_dir, STORE)
    if feed is None or marker.encode() not in feed.xml_path.read_bytes():
        raise RuntimeError(f"store {STORE}: the published feed lacks the edit {marker!r}")
    return {
        "seconds": round(float(build["finished_at"]) - edited_at, 3),
        "waited_for_worker": round(float(build["started_at"]) - edited_at, 3),
        "build_seconds": build["duration"],
        "items": build["items"],
        "request": outcome,
    }


def run(bench: Bench) -> Section:
    """A first build, then several edit-to-feed runs on the same store."""
    products = QUICK_PRODUCTS if bench.quick else PRODUCTS
    bench.install(STORE, products, LATENCY_MS)
    bench.start_worker("freshness-worker")
    first = time.time()
    queueing.request_build(bench.svc, STORE, reason="bench: first feed")
    wait_published(bench, first)
    runs = []
    for n in range(QUICK_RUNS if bench.quick else RUNS):
        runs.append(edit_once(bench, products, n + 1))
        progress(f"freshness run {n + 1}: {runs[-1]['seconds']:.1f} s edit to feed")
    median = statistics.median(r["seconds"] for r in runs)
    waited = statistics.median(r["waited_for_worker"] for r in runs)
    rows = [
        Row(
            f"edit to published feed, full rebuild ({size_label(products)} products)",
            f"{median:.1f} s",
            f"{len(runs)} runs; {waited:.2f} s of it before the worker started",
        )
    ]
    notes = [
        f"freshness: sandbox store of {products:,} products at {LATENCY_MS} ms latency; "
        "edit via the sandbox control API, then queueing.request_build (mode full), a `flask "
        "worker` process, a full rebuild and publish; measured from the edit to the build's finish "
        "(publish done), and the edit checked in the published file."
    ]
    data = {"products": products, "median_seconds": median, "runs": runs}
    return Section("freshness", rows, data, notes)
