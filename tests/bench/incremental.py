"""Incremental builds (issue 13): a webhook edit, an options change and an unchanged catalogue, each
timed to the published feed, with the API requests they cost and the Redis they hold.

The stack is the deployed one: signed product deliveries go to the app's own webhook route (a Flask
test client of ``create_app`` in this process: the route's code, without an HTTP server), a real
``flask worker`` process runs the debounced "update" builds, and the sandbox serves the API at
100 ms latency. A 10k store measures edits alone; one 100k store, installed and built once, is then
edited, re-rendered after an options change, reconciled by a second full build (its write phase
beside a bare lxml loop writing the same items) and sent a burst of edits, with Redis measured
after its first build and while that burst waits for its debounce.
"""

from __future__ import annotations

import dataclasses
import filecmp
import hashlib
import itertools
import json
import mmap
import re
import secrets
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from feedapp_dev.sandbox.catalogue import generate_categories
from lxml import etree
from rq.job import Job
from rq.registry import FinishedJobRegistry

from feedapp.builds import builder, queueing
from feedapp.feed.publishing import published_feed, remove_store_feeds
from feedapp.feed.xmlfeed import FIRST_FEED, Channel
from feedapp.jumpseller.hooks import PATH, signature
from feedapp.storefeeds import StoreFeed
from tests.bench import floor, freshness, render
from tests.bench.report import Row, Section, progress, size_label
from tests.bench.stack import Bench
from tests.processes import wait_for

if TYPE_CHECKING:
    from flask.testing import FlaskClient

SMALL, LARGE = 10_000, 100_000
QUICK_SMALL, QUICK_LARGE = 200, 600
EDIT_RUNS, QUICK_EDIT_RUNS = 3, 1
BURST, QUICK_BURST = 50, 10
LATENCY_MS = 100
STORE = "benchinc"
#: A first full build of 100k products under the per-minute limit takes about 80 s.
BUILD_TIMEOUT, QUICK_BUILD_TIMEOUT = 900, 120
#: Items the bare lxml loop parses (untimed) before it writes them (timed).
CHUNK = 5_000
#: The options change: literal text before the name, so a re-rendered title can be found.
TITLE_PATTERN = "Renamed {name} - {options}"
MB = 1_000_000
#: The per-store keys issue 13 added; their peak is judged (incremental.redis).
ISSUE_13_KEYS = ("webhook_events", "webhook_overflow", "build_wanted")
#: The targets judging the small and the large store's webhook edits (tests/bench/targets.py);
#: a quick run's tiny stores carry them too, left unjudged unless set on the command line.
EDIT_GOALS = ("incremental.edit.10k", "incremental.edit.100k")


@dataclass
class Shop:
    """An installed sandbox store under test, and the app route its webhook deliveries go to."""

    code: str
    products: int
    web: FlaskClient
    hooks_token: str
    #: The Jumpseller-Event and body of every delivery posted, to find its replay marker.
    delivered: list[tuple[str, bytes]] = field(default_factory=list)
    #: Ids of the products the first build published, in feed order: the ones worth editing.
    in_feed: list[int] = field(default_factory=list)


def served(bench: Bench) -> int:
    """API requests the sandbox has answered so far (429 answers excluded)."""
    stats = bench.sandbox.stats()
    return int(stats["requests"]) - int(stats["rate_limited"])


def open_shop(bench: Bench, web: FlaskClient, products: int, label: str) -> Shop:
    """Install a new sandbox store of `products` products through OAuth."""
    code = f"{STORE}-{label}"
    store = bench.install(code, products, LATENCY_MS)
    if store.code != code:
        raise RuntimeError(f"the sandbox installed {store.code!r}, not {code!r}")
    return Shop(code, products, web, store.hooks_token)


def edit(bench: Bench, shop: Shop, index: int, name: str) -> dict:
    """Rename the index-th product of the feed in the sandbox; the product as Jumpseller would
    send it (a product the feed leaves out would never show the new name)."""
    path = f"stores/{shop.code}/products/{shop.in_feed[index]}"
    return bench.sandbox.control(path, {"name": name})["product"]


def deliver(shop: Shop, product: dict, event: str = "product_updated") -> None:
    """Post the signed delivery Jumpseller sends for `product` to the app's webhook route."""
    body = json.dumps({"product": product}).encode()
    headers = {
        "Content-Type": "application/json",
        "Jumpseller-Event": event,
        "Jumpseller-Store-Code": shop.code,
        "Jumpseller-Hmac-Sha256": signature(body, shop.hooks_token),
    }
    answer = shop.web.post(PATH, data=body, headers=headers)
    if answer.status_code != 200:
        raise RuntimeError(f"store {shop.code}: the webhook route answered {answer.status_code}")
    shop.delivered.append((event, body))


def timeout(bench: Bench) -> float:
    """How long any one build may take before the run gives up."""
    return QUICK_BUILD_TIMEOUT if bench.quick else BUILD_TIMEOUT


def job_result(bench: Bench, code: str, build_id: str) -> dict:
    """The return value of the finished job whose build published `build_id`."""
    registry = FinishedJobRegistry(queueing.QUEUE, connection=bench.svc.redis)

    def finished() -> dict | None:
        for job_id in registry.get_job_ids():
            if job_id.startswith(f"build-{code}-"):
                value = Job.fetch(job_id, connection=bench.svc.redis).return_value()
                if isinstance(value, dict) and value.get("build_id") == build_id:
                    return value
        return None

    return wait_for(finished, 30, f"the job result of build {build_id} of {code}", every=0.05)


def contains(path: Path, needle: bytes) -> bool:
    """Whether a (possibly 300 MB) file holds `needle`, without reading it into memory."""
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        return m.find(needle) != -1


def numbered(path: Path, prefix: bytes, digits: int) -> set[int]:
    """The `digits`-digit numbers that follow `prefix` anywhere in a file, in one pass."""
    found = set()
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        at = m.find(prefix)
        while at != -1:
            number = m[at + len(prefix) : at + len(prefix) + digits]
            if number.isdigit():
                found.add(int(number))
            at = m.find(prefix, at + len(prefix))
    return found


_ITEM_ID = re.compile(rb"<g:id>([0-9]+)")


def feed_products(path: Path) -> list[int]:
    """The product ids of a feed's items (an item id starts with its product's), in feed order."""
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        return list(dict.fromkeys(int(found.group(1)) for found in _ITEM_ID.finditer(m)))


def feed_path(bench: Bench, code: str) -> Path:
    """The store's first feed as served."""
    feed = published_feed(bench.feeds_dir, code, FIRST_FEED)
    if feed is None:
        raise RuntimeError(f"store {code}: no published feed")
    return feed.xml_path


def published(bench: Bench, shop: Shop, after: float, needle: bytes, what: str) -> dict:
    """Wait for a publish later than `after` holding `needle`; its job's result, and when."""
    last_good = freshness.wait_published(bench, after, shop.code, timeout(bench))
    if not contains(feed_path(bench, shop.code), needle):
        raise RuntimeError(f"store {shop.code}: the published feed lacks {what} ({needle!r})")
    result = job_result(bench, shop.code, str(last_good["build_id"]))
    return {**result, "published_at": float(last_good["finished_at"])}


def phases_text(result: dict) -> str:
    """A build's phases as `read 0.01, write 0.31, publish 0.05 s`."""
    phases = result.get("phases") or {}
    return ", ".join(f"{name} {phases.get(name, 0):.2f}" for name in ("read", "write", "publish"))


def dominant(results: list[dict]) -> str:
    """The phase with the largest median share of these builds' duration."""
    shares = {
        name: statistics.median((r.get("phases") or {}).get(name, 0.0) for r in results)
        for name in ("read", "write", "publish")
    }
    return max(shares, key=shares.__getitem__)


def full_build(bench: Bench, shop: Shop, reason: str) -> dict:
    """A full build through the queue and the worker: its job result and the requests it made."""
    before = served(bench)
    asked = time.time()
    outcome = queueing.request_build(bench.svc, shop.code, reason=f"bench: {reason}", mode="full")
    result = published(bench, shop, asked, b"<item>", "any item")
    return {**result, "asked_at": asked, "request": outcome, "served": served(bench) - before}


def webhook_edit(bench: Bench, shop: Shop, run_no: int) -> dict:
    """Rename a product, post its delivery, wait until the rename is in the published feed."""
    marker = f"Bench edit {run_no} {secrets.token_hex(4)}"
    before = served(bench)
    edited_at = time.time()
    product = edit(bench, shop, len(shop.in_feed) // 2 + run_no, marker)
    deliver(shop, product)
    posted_at = time.time()
    result = published(bench, shop, edited_at, marker.encode(), "the edit")
    requests = served(bench) - before
    return {
        "seconds": round(result["published_at"] - edited_at, 3),
        "delivered_after": round(posted_at - edited_at, 3),
        "job_started_after": round(result["started_at"] - edited_at, 3),
        "build_seconds": round(result["duration"], 3),
        "phases": result.get("phases"),
        "requests": requests,
        "build_requests": result["requests"],
        "items": result["items"],
        "marker": marker,
    }


def options_change(bench: Bench, shop: Shop, renamed: str) -> dict:
    """Change the first feed's title pattern and ask for a re-render, as the settings page does."""
    before = served(bench)
    changed_at = time.time()

    def retitle(feed: StoreFeed) -> None:
        feed.options = dataclasses.replace(feed.options, title_pattern=TITLE_PATTERN)

    bench.svc.registry.update_feed(shop.code, FIRST_FEED, retitle)
    queueing.request_build(bench.svc, shop.code, reason="bench: options changed", mode="render")
    needle = f"<g:title>{TITLE_PATTERN.split('{', 1)[0]}{renamed}".encode()
    result = published(bench, shop, changed_at, needle, "the new title pattern")
    return {
        "seconds": round(result["published_at"] - changed_at, 3),
        "job_started_after": round(result["started_at"] - changed_at, 3),
        "build_seconds": round(result["duration"], 3),
        "phases": result.get("phases"),
        "requests": served(bench) - before,
        "items": result["items"],
    }


def reconcile(bench: Bench, shop: Shop, first: dict) -> dict:
    """A second full build of the unchanged catalogue, against the catalogue's floor.

    A full run first waits until the first build's paging is a minute old: the floor assumes
    the per-minute quota window empty, as a daily reconciliation finds it.
    """
    if not bench.quick:
        quiet_at = first["started_at"] + first["phases"]["read"] + floor.MINUTE
        time.sleep(max(0.0, quiet_at - time.time()))
    result = full_build(bench, shop, "reconciliation of an unchanged catalogue")
    categories = len(generate_categories())
    needed = floor.catalogue_requests(shop.products, categories)
    least = floor.rate_floor(needed)
    return {
        "duration": round(result["duration"], 3),
        "phases": result.get("phases"),
        "items": result["items"],
        "requests_needed": needed,
        "requests_served": result["served"],
        "floor_seconds": round(least, 3),
        "ratio_to_floor": round(result["duration"] / least, 3),
        "read_ratio_to_floor": round(result["phases"]["read"] / least, 3),
    }


Element = tuple[str, str | list[tuple[str, str]]]


def feed_items(path: Path) -> Iterator[list[Element]]:
    """Each item of a feed file as its elements' (tag, text, or a group's (tag, text) pairs)."""
    for _, item in etree.iterparse(str(path), events=("end",), tag="item"):
        yield [
            (child.tag, [(sub.tag, sub.text or "") for sub in child])
            if len(child)
            else (child.tag, child.text or "")
            for child in item
        ]
        item.clear(keep_tail=True)
        parent = item.getparent()
        while item.getprevious() is not None:
            del parent[0]


def write_bare(xf: etree.xmlfile, items: list[list[Element]]) -> None:
    """The floor: every item's elements through bare xmlfile calls, no cleaning, no checks."""
    for elements in items:
        with xf.element("item"):
            for tag, content in elements:
                with xf.element(tag):
                    if content.__class__ is str:
                        xf.write(content)
                        continue
                    for subtag, text in content:
                        with xf.element(subtag):
                            xf.write(text)
        xf.write("\n")


def bare_write(bench: Bench, shop: Shop, write_phase: float) -> dict:
    """Re-write the published feed's items with bare lxml (parsing untimed, chunk by chunk)."""
    source = feed_path(bench, shop.code)
    store = bench.svc.registry.get(shop.code)
    channel = Channel.for_store(store.name or store.code, store.url)
    copy = bench.scratch / f"{shop.code}.bare.xml"
    seconds, count = 0.0, 0
    items = feed_items(source)
    with open(copy, "wb") as out, render.raw_feed(out, channel) as xf:
        while chunk := list(itertools.islice(items, CHUNK)):
            tick = time.perf_counter()
            write_bare(xf, chunk)
            seconds += time.perf_counter() - tick
            count += len(chunk)
    same = filecmp.cmp(source, copy, shallow=False)
    copy.unlink()
    return {
        "items": count,
        "bare_seconds": round(seconds, 3),
        "write_phase_seconds": write_phase,
        "ratio": round(seconds / write_phase, 3),
        "same_bytes": same,
    }


def redis_bytes(bench: Bench, shop: Shop) -> dict:
    """MEMORY USAGE of every key of the store (its own, its feed tokens'), by kind of key."""
    svc = bench.svc
    store = svc.registry.get(shop.code)
    named = svc.keys.of_store(shop.code) + [svc.keys.feed_token(f.token) for f in store.feeds]
    by_kind: dict[str, int] = {}
    for key in named:
        used = svc.redis.memory_usage(key, samples=0)
        if used:
            kind = svc.keys.kind_of(key) or key
            by_kind[kind] = by_kind.get(kind, 0) + int(used)
    seen = [
        svc.keys.webhook_seen(shop.code, f"{event}:{hashlib.sha256(body).hexdigest()}")
        for event, body in shop.delivered
    ]
    seen_bytes = sum(int(svc.redis.memory_usage(key, samples=0) or 0) for key in seen)
    return {
        "total": sum(by_kind.values()),
        "issue_13": sum(by_kind.get(kind, 0) for kind in ISSUE_13_KEYS),
        "by_kind": by_kind,
        "replay_markers": len(seen),
        "replay_marker_bytes": seen_bytes,
    }


def burst(bench: Bench, shop: Shop, count: int) -> dict:
    """Deliver `count` edits at once, measure Redis while they wait, then time their one update."""
    prefix = f"Bench burst {secrets.token_hex(4)} "
    products = [
        edit(bench, shop, len(shop.in_feed) // 4 + n, f"{prefix}{n:03d}") for n in range(count)
    ]
    before = served(bench)
    first_post = time.time()
    for product in products:
        deliver(shop, product)
    posting = time.time() - first_post
    memory = redis_bytes(bench, shop)
    waiting = bench.svc.redis.llen(bench.svc.keys.webhook_events(shop.code))
    if waiting != count or queueing.is_running(bench.svc, shop.code):
        raise RuntimeError(
            f"store {shop.code}: {waiting} of {count} events waiting when Redis was measured, "
            "or the update had begun: the burst took longer than the debounce"
        )
    last = f"{prefix}{count - 1:03d}"
    result = published(bench, shop, first_post, last.encode(), "the burst's last edit")
    missing = set(range(count)) - numbered(feed_path(bench, shop.code), prefix.encode(), 3)
    if missing:
        raise RuntimeError(
            f"store {shop.code}: edits {sorted(missing)} of the burst are not published"
        )
    return {
        "edits": count,
        "posting_seconds": round(posting, 3),
        "seconds": round(result["published_at"] - first_post, 3),
        "build_seconds": round(result["duration"], 3),
        "phases": result.get("phases"),
        "requests": served(bench) - before,
        "memory": memory,
    }


def edits(bench: Bench, shop: Shop) -> list[dict]:
    """Several webhook edits of one store, one after the other."""
    runs = []
    for n in range(QUICK_EDIT_RUNS if bench.quick else EDIT_RUNS):
        runs.append(webhook_edit(bench, shop, n + 1))
        progress(
            f"incremental {size_label(shop.products)} edit {n + 1}: {runs[-1]['seconds']:.2f} s "
            f"to the feed, {runs[-1]['requests']} API requests"
        )
    return runs


def rendering_code() -> str:
    """A digest of the code that renders items now (re-read: others may be changing it)."""
    return builder.code_version.__wrapped__().hex()


class CodeWatch:
    """The steps around which the rendering code changed: a build after such a change
    re-renders every product (builder.code_version), so its figure is not an incremental one."""

    def __init__(self) -> None:
        self.last = rendering_code()
        self.changed: list[str] = []

    def check(self, step: str) -> None:
        """Note `step` if the code changed since the last check (before or during it)."""
        now = rendering_code()
        if now != self.last:
            self.changed.append(step)
            self.last = now


def run(bench: Bench) -> Section:
    """The 10k store's edits, then the 100k store's edits, options change, reconciliation, burst."""
    from feedapp import create_app

    watch = CodeWatch()
    web = create_app(bench.config, bench.svc.redis).test_client()
    bench.start_worker("incremental-worker")
    small = open_shop(bench, web, QUICK_SMALL if bench.quick else SMALL, "small")
    first_small = full_build(bench, small, "first feed")
    small.in_feed = feed_products(feed_path(bench, small.code))
    watch.check("first builds")
    small_edits = edits(bench, small)
    watch.check(f"{size_label(small.products)} edits")
    remove_store_feeds(bench.feeds_dir, small.code)
    large = open_shop(bench, web, QUICK_LARGE if bench.quick else LARGE, "large")
    first = full_build(bench, large, "first feed")
    large.in_feed = feed_products(feed_path(bench, large.code))
    progress(f"incremental {size_label(large.products)} first build: {first['duration']:.1f} s")
    memory_built = redis_bytes(bench, large)
    watch.check(f"{size_label(large.products)} first build")
    large_edits = edits(bench, large)
    watch.check(f"{size_label(large.products)} edits")
    rendered = options_change(bench, large, large_edits[-1]["marker"])
    progress(f"incremental options change: {rendered['seconds']:.1f} s to the feed")
    watch.check("options change")
    reconciled = reconcile(bench, large, first)
    watch.check("reconciliation")
    progress(f"incremental reconciliation: {reconciled['duration']:.1f} s")
    bare = bare_write(bench, large, reconciled["phases"]["write"])
    progress(f"incremental bare lxml: {bare['ratio']:.2f}x the write phase")
    burst_run = burst(bench, large, QUICK_BURST if bench.quick else BURST)
    progress(f"incremental burst of {burst_run['edits']}: {burst_run['seconds']:.1f} s to the feed")
    watch.check("burst")
    remove_store_feeds(bench.feeds_dir, large.code)
    data = {
        "products": {"small": small.products, "large": large.products},
        "debounce_seconds": bench.config.WEBHOOK_DEBOUNCE_SECONDS,
        "first_builds": {"small": first_small, "large": first},
        "edits": {str(small.products): small_edits, str(large.products): large_edits},
        "options_change": rendered,
        "reconciliation": reconciled,
        "bare_lxml": bare,
        "redis_after_first_build": memory_built,
        "burst": burst_run,
        "rendering_code_changed_by": watch.changed,
    }
    return summarise(data)


def edit_row(products: int, runs: list[dict], debounce: float, goal: str) -> Row:
    """The median edit-to-feed time of one store size, and where it went."""
    median = statistics.median(r["seconds"] for r in runs)
    started = statistics.median(r["job_started_after"] for r in runs)
    build = statistics.median(r["build_seconds"] for r in runs)
    middle = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return Row(
        f"webhook edit to published feed ({size_label(products)} products)",
        f"{median:.2f} s; job began at {started:.2f} s (debounce {debounce:g} s), "
        f"build {build:.2f} s",
        f"{len(runs)} runs; {phases_text(middle)} s ({dominant(runs)} dominates); "
        f"items {runs[0]['items']:,}",
        goal,
        median,
    )


def summarise(data: dict) -> Section:
    """The section's rows and notes from its figures."""
    small, large = data["products"]["small"], data["products"]["large"]
    debounce = data["debounce_seconds"]
    small_edits, large_edits = data["edits"][str(small)], data["edits"][str(large)]
    every_edit = small_edits + large_edits
    rendered, reconciled, bare = data["options_change"], data["reconciliation"], data["bare_lxml"]
    built, peak = data["redis_after_first_build"], data["burst"]["memory"]
    burst_run = data["burst"]
    worst = max(r["requests"] for r in every_edit)
    large_label = size_label(large)
    rows = [
        edit_row(small, small_edits, debounce, EDIT_GOALS[0]),
        edit_row(large, large_edits, debounce, EDIT_GOALS[1]),
        Row(
            "API requests per webhook edit",
            f"{worst} at most ({size_label(small)}: "
            f"{', '.join(str(r['requests']) for r in small_edits)}; {large_label}: "
            f"{', '.join(str(r['requests']) for r in large_edits)})",
            f"{len(every_edit)} edits, each event the whole product",
            "incremental.edit.requests",
            worst,
        ),
        Row(
            f"options change to published feed ({large_label} products)",
            f"{rendered['seconds']:.1f} s; job began at {rendered['job_started_after']:.2f} s, "
            f"build {rendered['build_seconds']:.1f} s",
            f"1 run (title_pattern, mode render); {phases_text(rendered)} s; "
            f"items {rendered['items']:,}",
            "incremental.render",
            rendered["seconds"],
        ),
        Row(
            "API requests per options change",
            f"{rendered['requests']}",
            "1 run",
            "incremental.render.requests",
            rendered["requests"],
        ),
        Row(
            f"reconcile unchanged {large_label} catalogue",
            f"{reconciled['duration']:.1f} s; {reconciled['ratio_to_floor']:.2f}x floor "
            f"{reconciled['floor_seconds']:.1f} s (R={reconciled['requests_needed']}, made "
            f"{reconciled['requests_served']})",
            f"1 run; {phases_text(reconciled)} s (read {reconciled['read_ratio_to_floor']:.2f}x "
            f"floor); items {reconciled['items']:,}",
            "incremental.reconcile",
            reconciled["ratio_to_floor"],
        ),
        Row(
            "reconcile: bare lxml over the write phase",
            f"{bare['ratio']:.2f}x (bare {bare['bare_seconds']:.2f} s, write phase "
            f"{bare['write_phase_seconds']:.2f} s)",
            f"{bare['items']:,} items; same bytes: {'yes' if bare['same_bytes'] else 'NO'}",
            "incremental.write",
            bare["ratio"],
        ),
        Row(
            f"Redis per {large_label} store, after its first build",
            f"{built['total']:,} bytes; issue 13 keys {built['issue_13']:,} bytes",
            f"{len(built['by_kind'])} keys' kinds; largest {largest(built)}",
        ),
        Row(
            f"Redis per {large_label} store, {burst_run['edits']} edits pending",
            f"issue 13 keys {peak['issue_13'] / MB:.3f} MB; total {peak['total']:,} bytes",
            f"largest {largest(peak)}; beside: {peak['replay_markers']} replay markers "
            f"{peak['replay_marker_bytes']:,} bytes",
            "incremental.redis",
            peak["issue_13"] / MB,
        ),
        Row(
            f"{burst_run['edits']} webhook edits to published feed ({large_label} products)",
            f"{burst_run['seconds']:.1f} s from the first delivery; build "
            f"{burst_run['build_seconds']:.1f} s",
            f"1 update; {phases_text(burst_run)} s; {burst_run['requests']} API requests; "
            f"posted in {burst_run['posting_seconds']:.2f} s",
        ),
    ]
    first_small, first_large = data["first_builds"]["small"], data["first_builds"]["large"]
    notes = [
        f"incremental: stores of {small:,} and {large:,} products, sandbox latency {LATENCY_MS} "
        "ms; each edit renames one product through the sandbox's control API, then the signed "
        'delivery the sandbox would send ({"product": ...}, HMAC with the store\'s hooks_token) '
        f"goes to the app's webhook route (a Flask test client of create_app, in the suite's "
        f"process), debounce WEBHOOK_DEBOUNCE_SECONDS={debounce:g}; a `flask worker` process "
        "runs the update; time = from the edit until the feed's last_good finished_at, the "
        "edit checked in the published file; API requests = the sandbox's count before and "
        "after. Build phases (BuildResult.phases): read = paging (its wall time) or applying "
        "events, write = writing items (in a full build the part of the paging spent writing "
        "kept renders to the feeds, as the pages come; in an update every feed written from "
        "the snapshot, renders included), publish = closing, checks and swap.",
        f"incremental, first full builds (untimed for targets, snapshot from empty): "
        f"{size_label(small)} {first_small['duration']:.1f} s, {large_label} "
        f"{first_large['duration']:.1f} s ({phases_text(first_large)} s); the {large_label} "
        "store then takes its edits, the options change (title_pattern, request_build mode "
        "render), the reconciliation (a second full build of the unchanged catalogue, started "
        "once the first build's paging is a minute old, so the quota window is empty as the "
        f"floor assumes; floor as in build) and the burst of {burst_run['edits']} edits.",
        "incremental, bare lxml: the reconciled feed's items parsed (untimed) in chunks of "
        f"{CHUNK:,} and re-written by bare xmlfile calls (timed); ratio = bare time / the "
        "build's write phase; same bytes = the copy equals the published file.",
        "incremental, Redis: MEMORY USAGE (SAMPLES 0) summed over the store's keys "
        "(Keyspace.of_store, with the store hash) and its feed token keys; issue 13 keys = "
        f"{', '.join(ISSUE_13_KEYS)}; measured after the first full build and right after the "
        "burst's deliveries, their update not begun (checked); replay markers (webhook:seen, "
        "48 h, named by digest, not by store) shown beside. MB = 1,000,000 bytes.",
    ]
    if data["rendering_code_changed_by"]:
        notes.append(
            "incremental: the code that renders items (builder.code_version) changed during the "
            f"run, by the end of: {', '.join(data['rendering_code_changed_by'])}; a build "
            "after such a change re-renders every product, so those figures (or the next "
            "step's) include a full re-render."
        )
    return Section("incremental", rows, data, notes)


def largest(memory: dict) -> str:
    """The kind of key using the most bytes, and how many."""
    kind, used = max(memory["by_kind"].items(), key=lambda pair: pair[1])
    return f"{kind} {used:,} bytes"
