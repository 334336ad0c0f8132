"""Turning a fresh OAuth token into a store record: shared by the callback route and the CLI."""

from __future__ import annotations

import logging
import time

import requests

from feedapp.jumpseller.ratelimit import RateLimiter
from feedapp.jumpseller.tokens import OAuthClient, TokenError, expiry_of
from feedapp.services import Services
from feedapp.sessions import SessionStore
from feedapp.stores import Store, valid_store_code

log = logging.getLogger(__name__)


class InstallError(RuntimeError):
    """The install could not finish; nothing was saved and the message says what to do."""


def fetch_store_info(api_url: str, access_token: str) -> tuple[dict, dict[str, str]]:
    """store/info.json with a new token (wrapped live, bare in the spec), and reply headers."""
    try:
        reply = requests.get(
            f"{api_url}/store/info.json",
            timeout=(5, 20),
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )
        reply.raise_for_status()
        data = reply.json()
    except (requests.RequestException, ValueError) as exc:
        raise InstallError(
            f"Jumpseller did not return the store's details ({type(exc).__name__}); "
            "open the app again from the Jumpseller admin to retry."
        ) from exc
    info = data.get("store", data) if isinstance(data, dict) else {}
    return info, dict(reply.headers)


def apply_store_info(store: Store, data: dict) -> None:
    """Copy the fields the feed needs from a store/info.json reply."""
    for name in ("name", "url", "email", "currency", "country", "timezone", "weight_unit"):
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            setattr(store, name, value.strip())
    if isinstance(data.get("hooks_token"), str):
        store.hooks_token = data["hooks_token"]
    lang = data.get("default_language") or data.get("language")
    if isinstance(lang, str) and lang:
        store.default_language = lang


def complete_install(svc: Services, token: dict) -> Store:
    """Create or revive the store record from a token reply; keeps an old store's feed URL."""
    info, headers = fetch_store_info(svc.config.JUMPSELLER_API_URL, str(token["access_token"]))
    code = str(info.get("code") or "").strip().lower()
    if not valid_store_code(code):
        raise InstallError("Jumpseller returned no valid store code; nothing was saved.")
    limiter = RateLimiter(svc.redis, code, prefix=svc.keys.prefix)
    limiter.record()  # the first build starts at once: it must know this request was spent
    limiter.observe(headers)

    def install(store: Store) -> None:
        apply_store_info(store, info)
        store.state, store.uninstalled_at, store.uninstall_reason = "installed", None, ""
        store.installed_at = store.installed_at or time.time()
        store.access_token = str(token["access_token"])
        store.refresh_token = str(token.get("refresh_token") or "")
        store.token_expires_at = expiry_of(token)
        store.token_lifetime = max(0.0, store.token_expires_at - time.time())
        scope = token.get("scope")
        store.scopes = " ".join(scope) if isinstance(scope, list) else str(scope or "")

    if svc.registry.find(code) is None:
        fresh = Store(code=code)
        install(fresh)
        store = svc.registry.save(fresh)
    else:  # a reinstall: read and written at once, so no concurrent change is lost
        store = svc.registry.update(code, install)
    # A new authorization may follow an uninstall Jumpseller never told us about: sessions from
    # before it end, and whoever authorized now gets a fresh one.
    SessionStore(svc.redis, svc.keys).end_store(code)
    log.info("store=%s installed", code)
    return store


def connect_sandbox(svc: Services) -> Store:
    """Install against a sandbox in auto-approve mode, through the real authorize/exchange path."""
    oauth = OAuthClient.from_config(svc.config)
    reply = requests.get(oauth.authorize_url("cli-connect"), allow_redirects=False, timeout=10)
    location = reply.headers.get("Location", "")
    if reply.status_code not in (302, 303) or "code=" not in location:
        raise InstallError(
            f"The accounts server at {oauth.auth_url} did not approve automatically "
            "(is it the sandbox started with --auto-approve?)."
        )
    from urllib.parse import parse_qs, urlsplit

    code = parse_qs(urlsplit(location).query)["code"][0]
    try:
        token = oauth.exchange(code)
    except TokenError as exc:
        raise InstallError(str(exc)) from exc
    return complete_install(svc, token)
