"""POST /webhooks/jumpseller: a signed product event is kept for a debounced update of the store's
feeds (feedapp/builds/updates.py), which applies it to the snapshot without paging the catalogue.

A delivery is acknowledged at once and only queues work (Jumpseller waits 15 s and retries). A
signed delivery is acted on once: its event and body are remembered for REPLAY_WINDOW, so a retry
or a captured replay changes nothing and costs no API request; different deliveries in a burst
join one delayed update.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Blueprint, Response, request

from feedapp.builds import queueing, updates
from feedapp.jumpseller.hooks import MAX_BODY, PATH, PRODUCT_EVENTS, signature
from feedapp.stores import Store, valid_store_code
from feedapp.web.context import current_services

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)

#: Jumpseller retries a delivery 4 times, the last hours later: two days covers every retry.
REPLAY_WINDOW = 2 * 24 * 3600


@bp.post(PATH)
def receive() -> Response:
    """Verify a delivery's signature with the store's hooks_token, then keep it for an update."""
    if (request.content_length or 0) > MAX_BODY:
        return Response(status=413)
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return Response(status=413)
    event = request.headers.get("Jumpseller-Event", "")[:64]
    code = request.headers.get("Jumpseller-Store-Code", "")
    sent = request.headers.get("Jumpseller-Hmac-Sha256", "")
    svc = current_services()
    store = svc.registry.find(code) if valid_store_code(code) else None
    if store is None or not _signed(body, sent, store):
        log.warning(
            "webhook refused: store=%r event=%r (unknown store or bad signature)", code[:64], event
        )
        return Response(status=401)
    if not store.installed:
        return Response(status=410)
    if event in PRODUCT_EVENTS:
        delivery = f"{event}:{hashlib.sha256(body).hexdigest()}"
        if not svc.redis.set(
            svc.keys.webhook_seen(store.code, delivery), b"1", nx=True, ex=REPLAY_WINDOW
        ):
            log.info("store=%s webhook %s: a delivery already acted on; ignored", code, event)
            return Response(status=200)
        # A burst of edits becomes one update: later deliveries join the delayed one. Past the
        # events a store keeps, the build pages the whole catalogue instead.
        kept = updates.record_event(svc, store.code, event, body)
        outcome = queueing.request_build(
            svc,
            store.code,
            reason=f"webhook {event}",
            delay=svc.config.WEBHOOK_DEBOUNCE_SECONDS,
            mode="update" if kept else "full",
        )
        log.info("store=%s webhook %s: build %s", store.code, event, outcome)
    return Response(status=200)


def _signed(body: bytes, sent: str, store: Store) -> bool:
    if not store.hooks_token or not sent:
        return False
    return hmac.compare_digest(sent.encode(), signature(body, store.hooks_token).encode())
