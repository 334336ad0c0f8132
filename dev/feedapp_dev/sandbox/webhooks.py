"""Webhook deliveries as Jumpseller sends them: the resource as JSON, signed with hooks_token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading

import requests

from feedapp_dev.sandbox.state import SandboxState
from feedapp_dev.sandbox.store import SandboxStore

DELIVERY_TIMEOUT = 15  # seconds Jumpseller waits for a 2xx


def sign(body: bytes, hooks_token: str) -> str:
    """Jumpseller-Hmac-Sha256: base64 of HMAC-SHA256 over the raw body, keyed by hooks_token."""
    digest = hmac.new(hooks_token.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def deliver(state: SandboxState, store: SandboxStore, event: str, product: dict) -> int:
    """POST {"product": ...} to each hook registered for `event`, in the background.

    Returns how many deliveries started; each outcome lands in the stats' webhook log.
    Callers hold the sandbox lock, so everything is read before the threads start.
    """
    body = json.dumps({"product": product}).encode()
    headers = {
        "Content-Type": "application/json",
        "Jumpseller-Event": event,
        "Jumpseller-Store-Code": store.code,
        "Jumpseller-Hmac-Sha256": sign(body, store.hooks_token),
    }
    targets = [hook["url"] for hook in store.hooks.values() if hook["event"] == event]
    for url in targets:
        threading.Thread(
            target=_post,
            args=(state, event, url, body, headers),
            daemon=True,
            name=f"sandbox-webhook-{event}",
        ).start()
    return len(targets)


def _post(state: SandboxState, event: str, url: str, body: bytes, headers: dict[str, str]) -> None:
    record: dict[str, object] = {
        "event": event,
        "url": url,
        "store": headers["Jumpseller-Store-Code"],
    }
    try:
        reply = requests.post(url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT)
        record["status"] = reply.status_code
        reply.close()
    except requests.RequestException as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    with state.lock:
        state.stats.webhooks.append(record)
