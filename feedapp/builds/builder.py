"""One store's build, start to finish: fetch the catalogue once per language into the store's
snapshot, make every feed of the store from it, publish each.

A store has one feed per market (feedapp/storefeeds.py). Feeds in the same language share one
paging of the catalogue: each product is fetched once per language and, when its content or the
feed's settings changed since the snapshot last saw it, mapped once per feed with that feed's
options, rules, shipping and country (feedapp/builds/snapshot.py keeps what it made). Every feed
is then written from the snapshot in the snapshot's order: a full build and an update applied
from a webhook (feedapp/builds/updates.py) write a feed the same way, so to the same bytes.

A feed that fails its checks at publish (the collapse guard, a damaged file) keeps its live file
and is reported for that feed; the store's other feeds are still published. The build as a whole
then counts as failed (its "build" status, `feeds rebuild --sync`'s exit code, the scheduler's
back-off) and is not retried: a refusal is final, as building again would page the whole
catalogue to meet the same refusal. ``force`` publishes every feed over the collapse guard.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from feedapp.builds import renderpool
from feedapp.builds.renderpool import RenderPool
from feedapp.builds.snapshot import Key, Rendered, RenderedItem, Snapshot, decode, encode
from feedapp.builds.status import BuildStatus, FeedsRefused
from feedapp.feed.currency import minor_units
from feedapp.feed.diagnostics import BuildDiagnostics
from feedapp.feed.mapping import (
    CatalogContext,
    Item,
    MappedProduct,
    Problem,
    StoreInfo,
    map_product,
)
from feedapp.feed.options import FeedOptions
from feedapp.feed.publishing import FeedRefused, PublishResult, publish, published_layout
from feedapp.feed.rules import LABELS, LabelLedger, RuleContext, RuleSet, parse_rules
from feedapp.feed.segments import Piece, ends_segment
from feedapp.feed.shipping import ShippingOptions, shipping_fields
from feedapp.feed.uniqueness import GtinLedger, duplicate
from feedapp.feed.xmlfeed import Channel, FeedWriter, ItemRenderer
from feedapp.jumpseller import hooks
from feedapp.jumpseller.client import make_client
from feedapp.jumpseller.installation import apply_store_info
from feedapp.services import Services
from feedapp.storefeeds import StoreFeed
from feedapp.stores import Store

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, object]], None]


@dataclass
class FeedOutcome:
    """What one feed of a build came to: the items it published, or why it was refused."""

    feed_id: str
    name: str
    items: int | None
    refused: str | None = None


@dataclass
class BuildResult:
    """What a finished build produced, for the job result and the CLI (items: every feed's)."""

    store_code: str
    build_id: str
    started_at: float
    items: int
    products: int
    duration: float
    requests: int
    rate_limited: int
    feeds: list[FeedOutcome] = field(default_factory=list)
    #: Seconds spent per phase, for the benchmark: "read" (paging, or applying events), "write"
    #: (writing items: in a full build, the part of the paging spent on it; in an update, every
    #: feed from the snapshot, renders included), "publish" (closing, checks and swaps).
    phases: dict[str, float] = field(default_factory=dict)
    #: Feed segments (feedapp/feed/segments.py) made afresh, and copied from the live files.
    segments: dict[str, int] = field(default_factory=dict)


#: The modules whose code decides an item's bytes: a deploy that changes any of them re-renders
#: every product once, as the snapshot's renders were made by the old code.
_RENDERING_CODE = ("feed", "builds/builder.py", "builds/snapshot.py")


@functools.cache
def code_version() -> bytes:
    """A digest of the code that renders items (read once per process, on first use)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.blake2b(digest_size=16)
    for name in _RENDERING_CODE:
        path = root / name
        for source in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            digest.update(source.read_bytes())
    return digest.digest()


_LABEL_NAMES = frozenset(LABELS)


class FeedBuild:
    """One feed's part in a build: its facts, rules and ledgers, its writer, its outcome."""

    def __init__(
        self,
        store: Store,
        feed: StoreFeed,
        context: RuleContext,
        renderer: ItemRenderer,
        categories_digest: str = "",
    ) -> None:
        self.feed = feed
        self.info = store_info(store, feed)
        self.context = context
        self.renderer = renderer
        self.diagnostics = BuildDiagnostics()
        self.gtins = GtinLedger()
        self.labels = LabelLedger()
        self.writer: FeedWriter | None = None
        self.published: PublishResult | None = None
        self.rules: RuleSet | None = None
        self.shipping: ShippingOptions | None = None
        self.decimals = 0
        self.clocked = False
        self.refused: FeedRefused | None = self._plan(store.code)
        self.fingerprint = self._fingerprint(categories_digest)

    def _plan(self, code: str) -> FeedRefused | None:
        """Read the feed's rules and shipping once; what makes the feed unbuildable refuses it."""
        rules, errors = parse_rules(self.feed.rules)
        if errors:
            first = errors[0]
            reason = first.error.msgid % dict(first.error.params)
            return FeedRefused(
                code,
                f"The feed's rules could not be read ({first.place or 'file'}: {reason}); "
                "import them again. The current feed was kept.",
            )
        ruleset = RuleSet(rules)
        self.rules = ruleset if ruleset else None
        self.clocked = any(c.field == "created" for rule in rules for c in rule.conditions)
        if self.feed.shipping.mode != "none":
            try:  # the price does not matter here: a mistake is in the settings, for every item
                shipping_fields(self.feed.shipping, 0, self.info.country, self.info.currency)
            except ValueError as exc:
                return FeedRefused(code, f"{exc} The current feed was kept.")
            self.shipping = self.feed.shipping
            self.decimals = minor_units(self.info.currency)
        return None

    def _fingerprint(self, categories_digest: str) -> bytes:
        """Everything besides a product that decides what it makes for this feed: a render made
        under another fingerprint is made again. A rule on the creation date depends on the
        build's clock, so such a feed renders every product every time."""
        settings = {
            "info": repr(self.info),
            "options": repr(self.feed.options),
            "rules": self.feed.rules,
            "shipping": repr(self.feed.shipping),
            "categories": categories_digest,
            "clock": self.context.now if self.clocked else None,
        }
        text = json.dumps(settings, sort_keys=True, default=str).encode()
        return hashlib.blake2b(code_version() + text, digest_size=16).digest()

    @property
    def language(self) -> str:
        """The ``locale`` its products are fetched in ("" for the store's default language)."""
        return self.info.language

    def mapped(self, product: dict, catalog: CatalogContext) -> MappedProduct:
        """Map one product for this feed and apply its rules (before the feed-wide ledgers)."""
        mapped = map_safely(product, self.info, self.feed.options, catalog)
        if self.rules is not None and mapped.items:
            try:
                mapped = self.rules.apply(product, mapped, self.context)
            except Exception as exc:
                mapped = unreadable(product, self.info.code, exc)
        return mapped

    def render(self, product: dict, catalog: CatalogContext) -> Rendered:
        """What one product makes for this feed, its items as bytes, ready to keep and write."""
        mapped = self.mapped(product, catalog)
        items, xmls = [], []
        try:
            for item in mapped.items:
                named = dict(item.fields)  # each name with its last value
                labels = ()
                if not _LABEL_NAMES.isdisjoint(named):  # rare: only rules set labels
                    labels = tuple(pair for pair in item.fields if pair[0] in _LABEL_NAMES)
                shipped = item if self.shipping is None else self.shipped(item)
                xml = self.renderer.render(shipped)
                items.append(RenderedItem(item.id, named.get("gtin"), labels, len(xml)))
                xmls.append(xml)
        except Exception as exc:
            mapped = unreadable(product, self.info.code, exc)
            items, xmls = [], []
        problems = list(mapped.problems)
        xml = b"".join(xmls)
        return Rendered(mapped.product_id, mapped.product_name, mapped.offers, items, problems, xml)

    def emit(
        self,
        key: Key,
        source: bytes,
        rendered: Rendered,
        product: Callable[[], dict],
        catalog: CatalogContext,
        xml: Callable[[], bytes] | None = None,
        packed: bytes | None = None,
    ) -> None:
        """Write one product's items, in feed order, through the feed-wide ledgers.

        `source` is the digest of the product's content. When `rendered` holds only its items'
        facts, their bytes are `packed` (as the snapshot keeps them), or `xml` reads them; either
        is used only if the product's segment cannot be copied from the live feed, which is
        reused only under the same fingerprint.
        An item whose GTIN an earlier item sent goes out without it (its ``<g:gtin>`` element
        taken out of its bytes, as GtinLedger.settle drops the field); label values past
        Google's limit of distinct ones, which are rare, send the product through the mapping
        again, to settle and render it afresh.
        """
        labels = [pair for item in rendered.items for pair in item.labels]
        if labels:
            if not self.labels.fits(labels):
                self.add(key, product(), catalog)
                return
            self.labels.admit(labels)
        cuts: list[int] = []
        owner = self.gtins.owner
        for index, item in enumerate(rendered.items):
            gtin = item.gtin
            if gtin is None:
                continue
            first = owner(gtin, item.item_id)
            if first != item.item_id:
                cuts.append(index)
                rendered.problems.append(
                    duplicate(rendered.product_id, rendered.product_name, item.item_id, gtin, first)
                )
        ident = source
        if cuts:
            marks = b"".join(index.to_bytes(4, "big") for index in cuts)
            ident = hashlib.blake2b(source + marks, digest_size=16).digest()
        items = rendered.items
        piece = Piece(ident, len(items), rendered.size, ends_segment(key))
        if rendered.xml is not None:
            piece.xml = _cut(items, cuts, rendered.xml)
        elif packed is not None:
            piece.packed = packed
            piece.cut = functools.partial(_cut, items, cuts) if cuts else None
        else:
            piece.make = functools.partial(_stored_cut, items, cuts, xml)
        self.writer.add(piece)
        self.diagnostics.add(rendered)

    def add(self, key: Key, product: dict, catalog: CatalogContext) -> None:
        """Map, settle and write one product here and now (rules before ledgers, so an item a
        rule leaves out claims no GTIN and no label value)."""
        mapped = self.mapped(product, catalog)
        if self.rules is not None and mapped.items:
            self.labels.settle(mapped)
        self.gtins.settle(mapped)
        render = self.renderer.render
        if self.shipping is None:
            xml = b"".join(render(item) for item in mapped.items)
        else:
            xml = b"".join(render(self.shipped(item)) for item in mapped.items)
        self.writer.add(Piece(None, len(mapped.items), len(xml), ends_segment(key), xml))
        self.diagnostics.add(mapped)

    def shipped(self, item: Item) -> Item:
        """The item with its shipping group, priced on what the shopper pays (the sale price)."""
        paid = ""
        for name, value in item.fields:
            if name == "sale_price":
                paid = value
                break
            if name == "price":
                paid = value
        amount = int(Decimal(paid.partition(" ")[0]).scaleb(self.decimals))
        group = shipping_fields(self.shipping, amount, self.info.country, self.info.currency)
        return Item(id=item.id, fields=[*item.fields, *group])

    def outcome(self) -> FeedOutcome:
        """This feed's line in the build's result."""
        items = self.published.items if self.published else None
        refused = self.refused.message if self.refused else None
        return FeedOutcome(self.feed.id, self.feed.name, items, refused)


def _cut(items: list[RenderedItem], cuts: list[int], xml: bytes) -> bytes:
    """A product's items' bytes, each item in `cuts` without its ``<g:gtin>`` element."""
    if not cuts:
        return xml
    xmls, at = [], 0
    for item in items:
        xmls.append(xml[at : at + item.length])
        at += item.length
    for index in cuts:
        element = b"<g:gtin>" + items[index].gtin.encode() + b"</g:gtin>"
        xmls[index] = xmls[index].replace(element, b"", 1)
    return b"".join(xmls)


def _stored_cut(items: list[RenderedItem], cuts: list[int], xml: Callable[[], bytes]) -> bytes:
    """The same, reading the items' bytes from the snapshot first."""
    return _cut(items, cuts, xml())


def plan_feeds(store: Store, categories: list[dict], now: float) -> list[FeedBuild]:
    """Every feed of the store, planned; the refused ones stay in the list to be reported."""
    renderer = ItemRenderer()
    context = RuleContext(categories, now)
    text = json.dumps(categories, sort_keys=True, default=str).encode()
    digest = hashlib.blake2b(text, digest_size=16).hexdigest()
    return [FeedBuild(store, feed, context, renderer, digest) for feed in store.feeds]


def by_language(feeds: list[FeedBuild]) -> dict[str, list[FeedBuild]]:
    """The buildable feeds, grouped by the language their products are read in."""
    groups: dict[str, list[FeedBuild]] = {}
    for plan in feeds:
        if plan.refused is None:
            groups.setdefault(plan.language, []).append(plan)
    return groups


@dataclass(slots=True)
class _Product:
    """A product just read, on its way to the feeds: its key, its digest, its content
    (snapshot.encode), and the product itself."""

    key: Key
    digest: bytes
    content: bytes
    value: dict

    def load(self) -> dict:
        """The product, decoded afresh (the slow path of a label past Google's limit)."""
        return decode(self.content)


class _InOrder:
    """Products written to a group's feeds in their order as their renders are ready: renders
    made by the pool come back after later products were read."""

    def __init__(self, snap: Snapshot, group: list[FeedBuild], catalog: CatalogContext) -> None:
        self.snap, self.group, self.catalog = snap, group, catalog
        self._queue: deque[_Waiting] = deque()
        self._waiting: dict[object, _Waiting] = {}
        #: Seconds spent writing items (and reading kept renders back), for BuildResult.phases.
        self.seconds = 0.0

    def add(self, product: _Product, renders: dict[str, Rendered | None]) -> None:
        """A product read, with the renders it has (None: one the pool will bring)."""
        missing = sum(r is None for r in renders.values())
        entry = _Waiting(product, renders, missing)
        self._queue.append(entry)
        if entry.missing:
            self._waiting[product.key] = entry
        self._write_ready()

    def made(self, made: list[renderpool.Made]) -> None:
        """Renders the pool brought: kept in the snapshot, then written when their turn comes."""
        self.snap.put_renders(made)
        for feed_id, key, _source, _fingerprint, meta, _packed, xml in made:
            entry = self._waiting[key]
            entry.renders[feed_id] = Rendered.unpack(meta, xml=xml)
            entry.missing -= 1
            if not entry.missing:
                del self._waiting[key]
        self._write_ready()

    def kept(self, feed_id: str, key: Key) -> Rendered:
        """A render the snapshot holds already."""
        started = time.perf_counter()
        rendered = Rendered.unpack(*self.snap.render(feed_id, key))
        self.seconds += time.perf_counter() - started
        return rendered

    def _write_ready(self) -> None:
        started = time.perf_counter()
        queue = self._queue
        while queue and not queue[0].missing:
            entry = queue.popleft()
            product = entry.product
            for plan in self.group:
                rendered = entry.renders[plan.feed.id]
                plan.emit(product.key, product.digest, rendered, product.load, self.catalog)
        self.seconds += time.perf_counter() - started


@dataclass
class _Waiting:
    """A product read and not yet written, and its renders, some maybe still missing."""

    product: _Product
    renders: dict[str, Rendered | None]
    missing: int


def write_in_order(
    snap: Snapshot,
    group: list[FeedBuild],
    catalog: CatalogContext,
    products: Iterable[_Product],
    pooled: bool,
) -> float:
    """Write each product to the group's feeds (their writers open) in the order given,
    rendering for each feed only what its snapshot render does not hold (on every core when
    `pooled`: there are many); returns the seconds spent writing."""
    sources = {plan.feed.id: snap.render_sources(plan.feed.id, plan.fingerprint) for plan in group}
    in_order = _InOrder(snap, group, catalog)
    with contextlib.ExitStack() as stack:
        pool: RenderPool | None = None
        for product in products:
            key = product.key
            renders: dict[str, Rendered | None] = {}
            wanted = []
            for plan in group:
                feed_id = plan.feed.id
                if sources[feed_id].get(key) == product.digest:
                    renders[feed_id] = in_order.kept(feed_id, key)
                    continue
                if pooled:
                    pool = pool or stack.enter_context(
                        RenderPool(group, catalog, in_order.made, as_is=True)
                    )
                    renders[feed_id] = None
                    wanted.append(feed_id)
                    continue
                rendered = plan.render(product.value, catalog)
                renders[feed_id] = rendered
                snap.put_render(feed_id, key, product.digest, plan.fingerprint, rendered.pack())
            in_order.add(product, renders)
            if wanted:
                pool.add((key, product.content, False, product.digest, wanted))
        if pool is not None:
            pool.finish()
    return in_order.seconds


def take_pages(
    snap: Snapshot,
    language: str,
    group: list[FeedBuild],
    products: Iterable[dict],
    catalog: CatalogContext,
    expected: int = 0,
) -> tuple[int, float]:
    """Page a language's catalogue into the snapshot and write it to the group's feeds (their
    writers open) as it comes, rendering for each feed only what changed (on every core when
    the catalogue is large: `expected` products); what Jumpseller no longer has leaves the
    snapshot. Returns how many products were read, and the seconds spent writing them."""
    known = snap.known(language)
    seen: set[Key] = set()

    def taken() -> Iterator[_Product]:
        for product in products:
            encoded = encode(product)
            key = encoded.key
            if key in seen:
                continue
            seen.add(key)
            seq = len(seen)
            before = known.get(key)
            if before is None or before[0] != encoded.digest:
                snap.put(language, encoded, seq)
            elif before[1] != seq:
                snap.move(language, key, seq)
            yield _Product(key, encoded.digest, encoded.content, product)

    pooled = expected >= renderpool.MIN_PRODUCTS
    seconds = write_in_order(snap, group, catalog, taken(), pooled)
    snap.remove(language, [key for key in known if key not in seen])
    snap.mark_complete(language)
    for plan in group:
        snap.prune(plan.feed.id, language)
    return len(seen), seconds


def open_writers(
    feeds: list[FeedBuild],
    writers: contextlib.ExitStack,
    feeds_dir: Path,
    build_id: str,
    channel: Channel,
) -> None:
    """A temp file for every buildable feed, closed (or discarded) with `writers`; a feed
    whose live file was made under the same settings is written copying what did not change."""
    for group in by_language(feeds).values():
        for plan in group:
            fingerprint = plan.fingerprint.hex()
            live = published_layout(feeds_dir, plan.info.code, plan.feed.id)
            plan.writer = writers.enter_context(
                FeedWriter(
                    feeds_dir,
                    plan.info.code,
                    build_id,
                    channel=channel,
                    feed_id=plan.feed.id,
                    renderer=plan.renderer,
                    previous=live if live and live.fingerprint == fingerprint else None,
                    fingerprint=fingerprint,
                )
            )


def render_missing(
    snap: Snapshot, language: str, group: list[FeedBuild], catalog: CatalogContext
) -> None:
    """Render on every core what a language's feeds lack (a change of their settings), when
    there is enough of it to be worth the processes; write_feeds renders any rest itself."""
    wanted: dict[Key, list[str]] = {}
    for plan in group:
        for key in snap.stale(language, plan.feed.id, plan.fingerprint):
            wanted.setdefault(key, []).append(plan.feed.id)
    if len(wanted) < renderpool.MIN_PRODUCTS:
        return
    with RenderPool(group, catalog, snap.put_renders) as pool:
        for key, stored, digest in snap.stored_contents(language):
            feed_ids = wanted.get(key)
            if feed_ids is not None:
                pool.add((key, stored, True, digest, feed_ids))
        pool.finish()


def write_feeds(snap: Snapshot, feeds: list[FeedBuild], catalog: CatalogContext) -> None:
    """Write every buildable feed (its writer open) from the snapshot, in its order; a product
    without a render for the feed's current settings (an edit, a settings change) is rendered
    now and kept."""
    for language, group in by_language(feeds).items():
        if not all(plan.writer.reusing for plan in group):
            # Copying from a live file made under the same settings, what is left to render
            # is what the events changed: too little to be worth the processes.
            render_missing(snap, language, group, catalog)
        for plan in group:
            feed_id = plan.feed.id
            # Copying from the live file, only the segments made afresh need their bytes.
            lazy = plan.writer.reusing
            rows = snap.order(language, feed_id, plan.fingerprint, xml=not lazy)
            for key, source, current, meta, xml in rows:
                product = functools.partial(snap.product, language, key)
                stored = None
                if not current:
                    rendered = plan.render(product(), catalog)
                    snap.put_render(feed_id, key, source, plan.fingerprint, rendered.pack())
                else:  # its XML as stored, or read only if its segment is made afresh
                    rendered = Rendered.unpack(meta)
                    if lazy:
                        stored = functools.partial(snap.render_xml, feed_id, key)
                plan.emit(key, source, rendered, product, catalog, stored, xml)


def build_feed(
    svc: Services, store_code: str, *, force: bool = False, progress: Progress | None = None
) -> BuildResult:
    """Build and publish every feed of one store (see the module's docstring for refusals);
    on any other failure every live feed stays as it was."""
    registry = svc.registry
    store = registry.get(store_code)
    build_id = new_build_id()
    started = time.time()
    status = BuildStatus(registry, store_code, [feed.id for feed in store.feeds])
    status.started(build_id, started)
    client = make_client(svc, store_code)
    # Hooks are checked beside the build, never in its way (ensure_hooks never raises).
    hooks_check = threading.Thread(
        target=hooks.ensure_hooks, args=(svc, store, client), daemon=True
    )
    hooks_check.start()
    feeds: list[FeedBuild] = []
    phases: dict[str, float] = {}
    try:
        with ThreadPoolExecutor(4, thread_name_prefix=f"info-{store_code}") as pool:
            info_reply = pool.submit(client.store_info)
            languages = pool.submit(client.languages)
            categories_reply = pool.submit(client.categories)
            count = pool.submit(client.product_count)
            store = refresh_profile(svc, store, info_reply.result(), languages.result())
            categories = categories_reply.result()
        registry.set_json(store_code, "categories", {"categories": categories})
        catalog = CatalogContext(categories)
        feeds = plan_feeds(store, categories, started)
        groups = by_language(feeds)
        active = [plan for group in groups.values() for plan in group]
        read = dict.fromkeys(groups, 0)

        def on_page(passes_before: int) -> Callable[[int, int], None]:
            def report(done: int, total: int) -> None:
                update = {
                    "pages_done": passes_before * total + done,
                    "pages_total": total * len(groups),
                    "items": sum(plan.diagnostics.items_written for plan in active),
                    "products": max(read.values(), default=0),
                }
                status.progress(update)
                if progress:
                    progress(update)

            return report

        channel = Channel.for_store(store.name or store.code, store.url)
        with Snapshot.open(svc.feeds_dir, store_code) as snap, contextlib.ExitStack() as writers:
            open_writers(feeds, writers, svc.feeds_dir, build_id, channel)
            with snap.transaction():
                snap.set_meta("categories", json.dumps(categories, sort_keys=True))
                phases["write"] = 0.0
                for index, (language, group) in enumerate(groups.items()):
                    products = client.products(language, on_page(index), count=count.result())
                    read[language], writing = take_pages(
                        snap, language, group, products, catalog, count.result()
                    )
                    phases["write"] += writing
                phases["read"] = time.time() - started
                snap.drop_feeds([feed.id for feed in store.feeds])
        paged_at = time.time()
        publish_all(svc, status, feeds, force, started)
        phases["publish"] = time.time() - paged_at
    except BaseException as exc:
        status.failed(exc, time.time() - started)
        raise
    finally:
        hooks_check.join(timeout=30)
        client.close()
        discard_unpublished(feeds)
    requests = (client.requests, client.rate_limited)
    return finish(status, store_code, build_id, started, feeds, requests, phases)


def new_build_id() -> str:
    """A build's id: when it started, and a random part."""
    return f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"


def publish_all(
    svc: Services, status: BuildStatus, feeds: list[FeedBuild], force: bool, started: float
) -> None:
    """Put every written feed live; refused feeds keep their live files and fail the build."""
    for plan in feeds:
        publish_one(svc, status, plan, force, started)
    refused = [plan for plan in feeds if plan.refused is not None]
    if refused and len(feeds) == 1:
        raise refused[0].refused
    if refused:
        reasons = {plan.feed.id: (plan.feed.name, plan.refused) for plan in refused}
        raise FeedsRefused(feeds[0].info.code, reasons)


def discard_unpublished(feeds: list[FeedBuild]) -> None:
    """Remove the temp files of feeds written but never published: a failure came first."""
    for plan in feeds:
        if plan.writer is not None and plan.published is None:
            plan.writer.path.unlink(missing_ok=True)
            if plan.writer.written is not None:
                plan.writer.written.gz_path.unlink(missing_ok=True)


def finish(
    status: BuildStatus,
    store_code: str,
    build_id: str,
    started: float,
    feeds: list[FeedBuild],
    requests: tuple[int, int],
    phases: dict[str, float],
) -> BuildResult:
    """Record a finished build's figures (`requests`: made, and answered 429), log them, and
    return them."""
    requests, rate_limited = requests
    duration = time.time() - started
    items = sum(plan.published.items for plan in feeds if plan.published)
    products = max((plan.diagnostics.products for plan in feeds), default=0)
    status.succeeded(duration, requests, items, products)
    log.info(
        "store=%s build=%s published %d items from %d products in %.1fs (%d requests; %s)",
        store_code,
        build_id,
        items,
        products,
        duration,
        requests,
        ", ".join(f"feed {plan.feed.id}: {plan.published.items}" for plan in feeds),
    )
    return BuildResult(
        store_code,
        build_id,
        started,
        items,
        products,
        duration,
        requests,
        rate_limited,
        [plan.outcome() for plan in feeds],
        {name: round(seconds, 3) for name, seconds in phases.items()},
        {
            "made": sum(plan.writer.made for plan in feeds if plan.writer),
            "copied": sum(plan.writer.copied for plan in feeds if plan.writer),
        },
    )


def publish_one(
    svc: Services, status: BuildStatus, plan: FeedBuild, force: bool, started: float
) -> None:
    """Put one written feed live, or record why it was refused (its live file stays)."""
    if plan.refused is None and plan.writer is not None:
        try:
            plan.published = publish(
                svc.feeds_dir,
                plan.info.code,
                plan.writer.path,
                plan.writer.count,
                force=force,
                feed_id=plan.feed.id,
                written=plan.writer.written,
            )
        except FeedRefused as exc:
            plan.refused = exc
        else:
            status.feed_published(
                plan.feed.id, plan.published, plan.diagnostics, time.time() - started
            )
            return
    written = plan.writer is not None
    status.feed_refused(plan.feed.id, plan.refused, plan.diagnostics if written else None)
    log.warning("store=%s feed=%s refused: %s", plan.info.code, plan.feed.id, plan.refused)


def refresh_profile(svc: Services, store: Store, data: dict, languages: list[str]) -> Store:
    """Re-read store/info and languages each build: currency, URL or name may have changed."""

    def refresh(store: Store) -> None:
        apply_store_info(store, data)
        if languages:
            store.languages = languages
            store.default_language = store.default_language or languages[0]

    # Read and written in one transaction: a token refreshed meanwhile, or a feed password
    # turned on from the page, is never overwritten with what this build read earlier.
    return svc.registry.update(store.code, refresh)


def store_info(store: Store, feed: StoreFeed) -> StoreInfo:
    """The store facts one feed's mapping needs: the feed's language (the merchant's choice; a
    language the store no longer has falls back to the default) and its target country."""
    language = feed.language
    if language == store.default_language or language not in store.languages:
        language = ""
    return StoreInfo(
        code=store.code,
        name=store.name or store.code,
        url=store.url,
        currency=store.currency or "USD",
        weight_unit=store.weight_unit or "kg",
        country=feed.country or store.country,
        language=language,
    )


def map_safely(
    product: dict, info: StoreInfo, options: FeedOptions, catalog: CatalogContext
) -> MappedProduct:
    """Map one product; a product the mapping cannot read is reported, never fatal."""
    try:
        return map_product(product, info, options, catalog)
    except Exception as exc:
        return unreadable(product, info.code, exc)


def unreadable(product: object, code: str, exc: Exception) -> MappedProduct:
    """A product that broke its mapping or its rules: left out, reported with the error's type."""
    pid = product.get("id") if isinstance(product, dict) else None
    log.warning("store=%s product=%s could not be mapped: %r", code, pid, exc)
    problem = Problem(
        code="product_unreadable",
        severity="error",
        product_id=str(pid or "?"),
        variant_id=None,
        item_id=str(pid or "?"),
        product_name=str(product.get("name", ""))[:150] if isinstance(product, dict) else "",
        detail=type(exc).__name__,
    )
    return MappedProduct(items=[], problems=[problem])
