"""Jumpseller webhooks: product changes queue a debounced rebuild, and builds keep hooks registered.

A delivery is acknowledged at once and only queues work (Jumpseller waits 15 s and retries), and a
repeated delivery changes nothing: the queue keeps one build per store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

from flask import Blueprint, Response, request

from feedapp import rebuilds, services
from feedapp.jumpseller import JumpsellerClient
from feedapp.services import Services
from feedapp.stores import Store, valid_store_code

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)

PATH = "/webhooks/jumpseller"
#: Events that change what the feed holds; the others are acknowledged and ignored.
PRODUCT_EVENTS = ("product_created", "product_updated", "product_deleted", "product_stock_updated")
#: A product document is a few kB; anything this large is not a delivery of ours.
MAX_BODY = 1024 * 1024
#: Scopes needed to list and create the store's hooks.
HOOK_SCOPES = frozenset({"read_hooks", "write_hooks"})
HOOKS_PAGE = 100


def signature(body: bytes, hooks_token: str) -> str:
    """Jumpseller-Hmac-Sha256: base64 of HMAC-SHA256 over the raw body, keyed by hooks_token."""
    return base64.b64encode(hmac.new(hooks_token.encode(), body, hashlib.sha256).digest()).decode()


def debounce_seconds(svc: Services) -> float:
    """How long a webhook's build waits, so a burst of edits becomes one build."""
    try:
        return max(0.0, float(str(svc.settings.get("WEBHOOK_DEBOUNCE_SECONDS") or 60)))
    except ValueError:
        return 60.0


@bp.post(PATH)
def receive() -> Response:
    """Verify a delivery's signature with the store's hooks_token, then queue a rebuild."""
    if (request.content_length or 0) > MAX_BODY:
        return Response(status=413)
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return Response(status=413)
    event = request.headers.get("Jumpseller-Event", "")[:64]
    code = request.headers.get("Jumpseller-Store-Code", "")
    sent = request.headers.get("Jumpseller-Hmac-Sha256", "")
    svc = services.current()
    store = svc.registry.find(code) if valid_store_code(code) else None
    if store is None or not _signed(body, sent, store):
        log.warning(
            "webhook refused: store=%r event=%r (unknown store or bad signature)", code[:64], event
        )
        return Response(status=401)
    if not store.installed:
        return Response(status=410)
    if event in PRODUCT_EVENTS:
        outcome = rebuilds.request_build(
            svc, store.code, reason=f"webhook {event}", delay=debounce_seconds(svc)
        )
        log.info("store=%s webhook %s: build %s", store.code, event, outcome)
    return Response(status=200)


def _signed(body: bytes, sent: str, store: Store) -> bool:
    if not store.hooks_token or not sent:
        return False
    return hmac.compare_digest(sent.encode(), signature(body, store.hooks_token).encode())


def register_hooks(client: JumpsellerClient, callback_url: str) -> list[str]:
    """Create the product hooks the store lacks (others are left alone); the events created."""
    present = {(h.get("event"), h.get("url")) for h in _hooks(client)}
    created = []
    for event in PRODUCT_EVENTS:
        if (event, callback_url) not in present:
            client.post("hooks.json", {"hook": {"event": event, "url": callback_url}})
            created.append(event)
    return created


def _hooks(client: JumpsellerClient) -> list[dict]:
    """Every hook of the store, paging until a page adds nothing new."""
    found: dict[object, dict] = {}
    for page in range(1, 100):
        batch = client.get("hooks.json", page=page, limit=HOOKS_PAGE)
        rows = [r.get("hook", r) for r in batch if isinstance(r, dict)] if batch else []
        new = [r for r in rows if isinstance(r, dict) and r.get("id") not in found]
        for row in new:
            found[row.get("id")] = row
        if not new or len(rows) < HOOKS_PAGE:
            break
    return list(found.values())


def ensure_hooks(svc: Services, store: Store, client: JumpsellerClient) -> None:
    """Re-create hooks the merchant deleted, once per build; never fails the build."""
    public_url = str(svc.settings.get("PUBLIC_URL") or "").rstrip("/")
    if not public_url or not HOOK_SCOPES <= set(store.scopes.split()):
        return
    try:
        created = register_hooks(client, public_url + PATH)
    except Exception as exc:  # noqa: BLE001 - fresher feeds are a bonus; the build goes on
        log.warning("store=%s webhooks not registered: %s", store.code, exc)
        return
    if created:
        log.info("store=%s registered webhooks: %s", store.code, ", ".join(created))
