"""Product events applied to the store's snapshot, and every feed republished from it, in seconds.

A signed product webhook (feedapp/web/webhooks.py) leaves its event here, in a bounded Redis list,
and asks for an "update" build a few seconds later, so a burst of edits becomes one update. The
update, under the store's build lock like any build, applies the events in order to the snapshot
(feedapp/builds/snapshot.py): a deletion removes the product, a payload older than what the
snapshot holds is ignored, a whole product in the default language is taken as it is; whatever
the payload cannot give (another language, a partial payload, two contents with one updated_at)
is read with one ``products/{id}.json`` per language in use. Then every feed is written from the
snapshot and published with the same checks as a full build.

An event leaves the list only once the feeds it changed are published: a worker killed halfway
leaves it for the next update, which applies it again (a no-op on the snapshot) and publishes.
Without a complete snapshot (a new store, a deleted file, a language never paged) an update is a
full build; a full build pages everything, so it takes the events that were waiting with it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable

from feedapp.builds import builder, queueing
from feedapp.builds.snapshot import Snapshot, encode, product_key
from feedapp.builds.status import BuildStatus
from feedapp.feed.taxonomy import CatalogContext
from feedapp.feed.xmlfeed import Channel
from feedapp.jumpseller.client import JumpsellerClient, make_client
from feedapp.services import Services

log = logging.getLogger(__name__)

#: Events a store keeps waiting; past this a burst is cheaper as one full build (and Redis,
#: the scarce memory, holds at most MAX_EVENTS * MAX_EVENT_BYTES of them per store).
MAX_EVENTS = 500
#: A payload larger than this keeps only the product's id and updated_at, and is read again.
MAX_EVENT_BYTES = 32 * 1024
#: What a payload must carry to stand for the whole product in the default language.
WHOLE_PRODUCT = ("id", "name", "permalink", "status", "price", "variants", "updated_at")

Fetch = Callable[[int, str], dict | None]


def record_event(svc: Services, code: str, event: str, body: bytes) -> bool:
    """Keep one signed delivery for the next update; False when the list is full (the next build
    then pages everything instead)."""
    if len(body) > MAX_EVENT_BYTES:
        body = json.dumps(_identity(body)).encode()
    events = svc.keys.webhook_events(code)
    if svc.redis.llen(events) >= MAX_EVENTS:
        svc.redis.set(svc.keys.webhook_overflow(code), b"1", ex=queueing.QUEUED_TTL)
        return False
    svc.redis.rpush(events, event.encode() + b"\n" + body)
    return True


def _identity(body: bytes) -> dict[str, object]:
    """The id and updated_at of a payload too large to keep whole."""
    with contextlib.suppress(ValueError):
        data = json.loads(body)
        product = data.get("product", data) if isinstance(data, dict) else None
        if isinstance(product, dict):
            return {"product": {k: product.get(k) for k in ("id", "updated_at")}}
    return {}


def run(
    svc: Services, code: str, *, force: bool = False, progress: builder.Progress | None = None
) -> object:
    """The build a queued job asked for (queueing.MODES), run under the store's build lock."""
    mode = queueing.take_wanted(svc, code)
    if mode == "full" or svc.redis.getdel(svc.keys.webhook_overflow(code)):
        return full_build(svc, code, force=force, progress=progress)
    return update(svc, code, force=force, render_all=mode == "render", progress=progress)


def full_build(
    svc: Services, code: str, *, force: bool = False, progress: builder.Progress | None = None
) -> object:
    """A full build, which also settles every event waiting when it started."""
    waiting = svc.redis.llen(svc.keys.webhook_events(code))
    result = builder.build_feed(svc, code, force=force, progress=progress)
    svc.redis.ltrim(svc.keys.webhook_events(code), waiting, -1)
    return result


def update(
    svc: Services,
    code: str,
    *,
    force: bool = False,
    render_all: bool = False,
    progress: builder.Progress | None = None,
) -> object:
    """Apply the waiting events (with `render_all`, also settings changed since the snapshot's
    renders) and publish every feed from the snapshot; a full build when the snapshot cannot."""
    events_key = svc.keys.webhook_events(code)
    events = svc.redis.lrange(events_key, 0, MAX_EVENTS - 1)
    if not events and not render_all:
        return {"store": code, "skipped": "no product event waiting"}
    store = svc.registry.get(code)
    started = time.time()
    with Snapshot.open(svc.feeds_dir, code) as snap:
        categories_text = snap.meta("categories")
        categories = json.loads(categories_text) if categories_text else []
        feeds = builder.plan_feeds(store, categories, started)
        groups = builder.by_language(feeds)
        if categories_text is None or not all(snap.complete(lang) for lang in groups):
            log.info("store=%s update: no complete snapshot; a full build instead", code)
            return full_build(svc, code, force=force, progress=progress)
        build_id = builder.new_build_id()
        status = BuildStatus(svc.registry, code, [feed.id for feed in store.feeds])
        status.started(build_id, started)
        catalog = CatalogContext(categories)
        channel = Channel.for_store(store.name or store.code, store.url)
        client: JumpsellerClient | None = None

        def fetch(product_id: int, language: str) -> dict | None:
            nonlocal client
            client = client or make_client(svc, code)
            return client.product(product_id, language)

        phases: dict[str, float] = {}
        try:
            with contextlib.ExitStack() as writers, snap.transaction():
                for event in events:
                    apply_event(snap, list(groups), event, fetch)
                phases["read"] = time.time() - started
                builder.open_writers(feeds, writers, svc.feeds_dir, build_id, channel)
                builder.write_feeds(snap, feeds, catalog)
            phases["write"] = time.time() - started - phases["read"]
            builder.publish_all(svc, status, feeds, force, started)
            phases["publish"] = time.time() - started - phases["read"] - phases["write"]
        except BaseException as exc:
            status.failed(exc, time.time() - started)
            raise
        finally:
            if client is not None:
                client.close()
            builder.discard_unpublished(feeds)
    svc.redis.ltrim(events_key, len(events), -1)
    requests = (client.requests, client.rate_limited) if client else (0, 0)
    return builder.finish(status, code, build_id, started, feeds, requests, phases)


def apply_event(snap: Snapshot, languages: Iterable[str], raw: bytes, fetch: Fetch) -> None:
    """Apply one kept delivery to the snapshot, in each language in use."""
    name, _, body = raw.partition(b"\n")
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    product = data.get("product", data) if isinstance(data, dict) else None
    key = product_key(product.get("id")) if isinstance(product, dict) else None
    if not isinstance(key, int):
        log.warning("snapshot: a %s event without a product id was ignored", name.decode())
        return
    updated = product.get("updated_at")
    updated = updated if isinstance(updated, str) else ""
    if name == b"product_deleted":
        for language in languages:
            snap.remove(language, [key])
        snap.mark_removed(key, updated)
        return
    gone = snap.removed(key)
    if gone is not None and updated <= gone:
        return  # a delivery from before the deletion, arriving late
    whole = all(field in product for field in WHOLE_PRODUCT)
    for language in languages:
        stored = snap.stored(language, key)
        if stored is not None and updated and updated < stored[0]:
            continue  # older than what the snapshot holds: a delivery overtaken by another
        found = product if whole and language == "" else None
        if stored is not None and updated and updated == stored[0]:
            if found is None or encode(found).digest == stored[1]:
                continue  # this version is in the snapshot already
            found = None  # two contents with one updated_at: ask Jumpseller which is true
        if found is None:
            found = fetch(key, language)
        if found is None:
            snap.remove(language, [key])
            continue
        snap.put(language, encode(found), stored[2] if stored else snap.next_seq(language))
