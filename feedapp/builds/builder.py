"""One store's build, start to finish: fetch the catalogue once per language, make every feed of
the store from it, stream each feed out, publish each.

A store has one feed per market (feedapp/storefeeds.py). Feeds in the same language share one
paging of the catalogue: each product is fetched once per language and mapped once per feed, with
that feed's options, rules, shipping and country, into that feed's own file.

A feed that fails its checks at publish (the collapse guard, a damaged file) keeps its live file
and is reported for that feed; the store's other feeds are still published. The build as a whole
then counts as failed (its "build" status, `feeds rebuild --sync`'s exit code, the scheduler's
back-off) and is not retried: a refusal is final, as building again would page the whole
catalogue to meet the same refusal. ``force`` publishes every feed over the collapse guard.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

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
from feedapp.feed.publishing import FeedRefused, PublishResult, publish
from feedapp.feed.rules import LabelLedger, RuleContext, RuleSet, parse_rules
from feedapp.feed.shipping import ShippingOptions, shipping_fields
from feedapp.feed.uniqueness import GtinLedger
from feedapp.feed.xmlfeed import Channel, FeedWriter
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


class FeedBuild:
    """One feed's part in a build: its facts, rules and ledgers, its writer, its outcome."""

    def __init__(self, store: Store, feed: StoreFeed) -> None:
        self.feed = feed
        self.info = store_info(store, feed)
        self.diagnostics = BuildDiagnostics()
        self.gtins = GtinLedger()
        self.labels = LabelLedger()
        self.writer: FeedWriter | None = None
        self.published: PublishResult | None = None
        self.rules: RuleSet | None = None
        self.shipping: ShippingOptions | None = None
        self.decimals = 0
        self.refused: FeedRefused | None = self._plan(store.code)

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
        if self.feed.shipping.mode != "none":
            try:  # the price does not matter here: a mistake is in the settings, for every item
                shipping_fields(self.feed.shipping, 0, self.info.country, self.info.currency)
            except ValueError as exc:
                return FeedRefused(code, f"{exc} The current feed was kept.")
            self.shipping = self.feed.shipping
            self.decimals = minor_units(self.info.currency)
        return None

    @property
    def language(self) -> str:
        """The ``locale`` its products are fetched in ("" for the store's default language)."""
        return self.info.language

    def add(self, product: dict, catalog: CatalogContext, context: RuleContext) -> None:
        """Map one product for this feed, apply its rules, settle its GTINs, write its items.

        Rules come first, so an item a rule leaves out claims no GTIN and no label value.
        """
        mapped = map_safely(product, self.info, self.feed.options, catalog)
        if self.rules is not None and mapped.items:
            try:
                mapped = self.rules.apply(product, mapped, context)
            except Exception as exc:
                mapped = unreadable(product, self.info.code, exc)
            self.labels.settle(mapped)
        self.gtins.settle(mapped)
        write = self.writer.write
        if self.shipping is None:
            for item in mapped.items:
                write(item)
        else:
            for item in mapped.items:
                write(self.shipped(item))
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


def build_feed(
    svc: Services, store_code: str, *, force: bool = False, progress: Progress | None = None
) -> BuildResult:
    """Build and publish every feed of one store (see the module's docstring for refusals);
    on any other failure every live feed stays as it was."""
    registry = svc.registry
    store = registry.get(store_code)
    build_id = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
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
        context = RuleContext(categories, started)
        feeds = [FeedBuild(store, feed) for feed in store.feeds]
        by_language: dict[str, list[FeedBuild]] = {}
        for plan in feeds:
            if plan.refused is None:
                by_language.setdefault(plan.language, []).append(plan)
        active = [plan for group in by_language.values() for plan in group]

        def on_page(passes_before: int) -> Callable[[int, int], None]:
            def report(done: int, total: int) -> None:
                update = {
                    "pages_done": passes_before * total + done,
                    "pages_total": total * len(by_language),
                    "items": sum(plan.diagnostics.items_written for plan in active),
                    "products": max(plan.diagnostics.products for plan in active),
                }
                status.progress(update)
                if progress:
                    progress(update)

            return report

        channel = Channel.for_store(store.name or store.code, store.url)
        with contextlib.ExitStack() as writers:
            for plan in active:
                plan.writer = writers.enter_context(
                    FeedWriter(
                        svc.feeds_dir, store_code, build_id, channel=channel, feed_id=plan.feed.id
                    )
                )
            for index, (language, group) in enumerate(by_language.items()):
                products = client.products(language, on_page(index), count=count.result())
                for product in products:
                    for plan in group:
                        plan.add(product, catalog, context)
        for plan in feeds:
            publish_one(svc, status, plan, force, started)
        refused = [plan for plan in feeds if plan.refused is not None]
        if refused and len(feeds) == 1:
            raise refused[0].refused
        if refused:
            reasons = {plan.feed.id: (plan.feed.name, plan.refused) for plan in refused}
            raise FeedsRefused(store_code, reasons)
    except BaseException as exc:
        status.failed(exc, time.time() - started)
        raise
    finally:
        hooks_check.join(timeout=30)
        client.close()
        for plan in feeds:  # written but never published: a failure came first
            if plan.writer is not None and plan.published is None:
                plan.writer.path.unlink(missing_ok=True)
    duration = time.time() - started
    items = sum(plan.published.items for plan in feeds if plan.published)
    products = max((plan.diagnostics.products for plan in feeds), default=0)
    status.succeeded(duration, client.requests, items, products)
    log.info(
        "store=%s build=%s published %d items from %d products in %.1fs (%d requests; %s)",
        store_code,
        build_id,
        items,
        products,
        duration,
        client.requests,
        ", ".join(f"feed {plan.feed.id}: {plan.published.items}" for plan in feeds),
    )
    return BuildResult(
        store_code,
        build_id,
        started,
        items,
        products,
        duration,
        client.requests,
        client.rate_limited,
        [plan.outcome() for plan in feeds],
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
