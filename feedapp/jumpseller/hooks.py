"""Jumpseller webhooks, the domain side: which events matter, signatures, keeping hooks registered.

Builds call `ensure_hooks` beside their work, so a merchant who deletes our hooks gets them back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

from feedapp.jumpseller.client import JumpsellerClient
from feedapp.services import Services
from feedapp.stores import Store

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
    public_url = svc.config.PUBLIC_URL
    if not public_url or not HOOK_SCOPES <= set(store.scopes.split()):
        return
    try:
        created = register_hooks(client, public_url + PATH)
    except Exception as exc:
        log.warning("store=%s webhooks not registered: %s", store.code, exc)
        return
    if created:
        log.info("store=%s registered webhooks: %s", store.code, ", ".join(created))
