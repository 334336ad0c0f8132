"""One feed build, start to finish: fetch the catalogue, map it, stream it out, publish it."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from feedapp.builds.status import BuildStatus
from feedapp.feed.diagnostics import BuildDiagnostics
from feedapp.feed.mapping import CatalogContext, MappedProduct, Problem, StoreInfo, map_product
from feedapp.feed.publishing import publish
from feedapp.feed.uniqueness import GtinLedger
from feedapp.feed.xmlfeed import Channel, FeedWriter
from feedapp.jumpseller import hooks
from feedapp.jumpseller.client import make_client
from feedapp.jumpseller.installation import apply_store_info
from feedapp.services import Services
from feedapp.stores import Store

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, object]], None]


@dataclass
class BuildResult:
    """What a finished build produced, for the job result and the CLI."""

    store_code: str
    build_id: str
    started_at: float
    items: int
    products: int
    duration: float
    requests: int
    rate_limited: int


def build_feed(
    svc: Services, store_code: str, *, force: bool = False, progress: Progress | None = None
) -> BuildResult:
    """Build and publish one store's feed; on any failure the live feed stays as it was."""
    registry = svc.registry
    store = registry.get(store_code)
    build_id = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    started = time.time()
    status = BuildStatus(registry, store_code)
    status.started(build_id, started)
    client = make_client(svc, store_code)
    # Hooks are checked beside the build, never in its way (ensure_hooks never raises).
    hooks_check = threading.Thread(
        target=hooks.ensure_hooks, args=(svc, store, client), daemon=True
    )
    hooks_check.start()
    try:
        with ThreadPoolExecutor(4, thread_name_prefix=f"info-{store_code}") as pool:
            info_reply = pool.submit(client.store_info)
            languages = pool.submit(client.languages)
            categories_reply = pool.submit(client.categories)
            count = pool.submit(client.product_count)
            store = refresh_profile(svc, store, info_reply.result(), languages.result())
            categories = categories_reply.result()
        info = store_info(store)
        registry.set_json(store_code, "categories", {"categories": categories})
        catalog = CatalogContext(categories)
        diagnostics = BuildDiagnostics()
        gtins = GtinLedger()

        def on_page(done: int, total: int) -> None:
            update = {
                "pages_done": done,
                "pages_total": total,
                "items": diagnostics.items_written,
                "products": diagnostics.products,
            }
            status.progress(update)
            if progress:
                progress(update)

        channel = Channel.for_store(store.name or store.code, store.url)
        with FeedWriter(svc.feeds_dir, store_code, build_id, channel=channel) as writer:
            products = client.products(info.language, on_page, count=count.result())
            for product in products:
                mapped = map_safely(product, info, store, catalog)
                gtins.settle(mapped)
                for item in mapped.items:
                    writer.write(item)
                diagnostics.add(mapped)
        result = publish(svc.feeds_dir, store_code, writer.path, writer.count, force=force)
    except BaseException as exc:
        status.failed(exc, time.time() - started)
        raise
    finally:
        hooks_check.join(timeout=30)
        client.close()
    duration = time.time() - started
    status.succeeded(result, diagnostics, duration, client.requests)
    log.info(
        "store=%s build=%s published %d items from %d products in %.1fs (%d requests)",
        store_code,
        build_id,
        result.items,
        diagnostics.products,
        duration,
        client.requests,
    )
    return BuildResult(
        store_code,
        build_id,
        started,
        result.items,
        diagnostics.products,
        duration,
        client.requests,
        client.rate_limited,
    )


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


def store_info(store: Store) -> StoreInfo:
    """The store facts the mapping needs; the feed's language is the merchant's choice."""
    language = store.options.language
    if language == store.default_language or language not in store.languages:
        language = ""
    return StoreInfo(
        code=store.code,
        name=store.name or store.code,
        url=store.url,
        currency=store.currency or "USD",
        weight_unit=store.weight_unit or "kg",
        country=store.country,
        language=language,
    )


def map_safely(
    product: dict, info: StoreInfo, store: Store, catalog: CatalogContext
) -> MappedProduct:
    """Map one product; a product the mapping cannot read is reported, never fatal."""
    try:
        return map_product(product, info, store.options, catalog)
    except Exception as exc:
        pid = product.get("id") if isinstance(product, dict) else None
        log.warning("store=%s product=%s could not be mapped: %r", store.code, pid, exc)
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
