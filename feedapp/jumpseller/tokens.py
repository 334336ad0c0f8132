"""OAuth tokens: the code exchange and a refresh that runs once per store across all processes."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from oauthlib.oauth2 import InvalidGrantError, OAuth2Error
from redis import Redis
from requests.exceptions import RequestException
from requests_oauthlib import OAuth2Session

from feedapp.stores import Store, StoreRegistry

if TYPE_CHECKING:
    from config import Config

log = logging.getLogger(__name__)

#: Refresh this long before the access token's expiry (or a quarter of its lifetime if shorter),
#: so no request goes out with a dying token.
REFRESH_MARGIN = 120.0
TOKEN_TIMEOUT = 15.0


class TokenError(RuntimeError):
    """A token could not be obtained; the message says for which store and what to do."""


class StoreRevoked(TokenError):
    """Jumpseller refused the refresh token: the merchant removed the app."""


@dataclass(frozen=True)
class OAuthClient:
    """The app's OAuth registration and where Jumpseller's accounts server is."""

    client_id: str
    client_secret: str
    auth_url: str
    redirect_uri: str
    scopes: tuple[str, ...]

    @classmethod
    def from_config(cls, config: Config) -> OAuthClient:
        """The registration as the app's settings give it."""
        _allow_loopback_http(config.JUMPSELLER_AUTH_URL)
        return cls(
            client_id=config.JUMPSELLER_CLIENT_ID,
            client_secret=config.JUMPSELLER_CLIENT_SECRET,
            auth_url=config.JUMPSELLER_AUTH_URL,
            redirect_uri=f"{config.PUBLIC_URL}/callback",
            scopes=tuple(config.JUMPSELLER_SCOPES),
        )

    @property
    def token_url(self) -> str:
        """Jumpseller's token endpoint."""
        return f"{self.auth_url}/oauth/token"

    def authorize_url(self, state: str) -> str:
        """Where to send the merchant to approve the app."""
        session = OAuth2Session(
            self.client_id, redirect_uri=self.redirect_uri, scope=list(self.scopes), state=state
        )
        url, _ = session.authorization_url(f"{self.auth_url}/oauth/authorize")
        return url

    def exchange(self, code: str) -> dict[str, object]:
        """Trade an authorization code for tokens (the callback route's one call)."""
        session = OAuth2Session(self.client_id, redirect_uri=self.redirect_uri)
        try:
            return dict(
                session.fetch_token(
                    self.token_url,
                    code=code,
                    client_secret=self.client_secret,
                    include_client_id=True,
                    timeout=TOKEN_TIMEOUT,
                )
            )
        except OAuth2Error as exc:
            raise TokenError(f"Jumpseller refused the authorization code ({exc.error}).") from exc
        except RequestException as exc:
            raise TokenError(
                f"Jumpseller's token endpoint did not answer ({type(exc).__name__}); try again."
            ) from exc

    def refresh(self, refresh_token: str) -> dict[str, object]:
        """Trade a refresh token for a new token pair."""
        session = OAuth2Session(self.client_id)
        return dict(
            session.refresh_token(
                self.token_url,
                refresh_token=refresh_token,
                client_id=self.client_id,
                client_secret=self.client_secret,
                timeout=TOKEN_TIMEOUT,
            )
        )


def expiry_of(token: Mapping[str, object]) -> float:
    """Absolute expiry time of a token reply (Jumpseller's last an hour)."""
    if token.get("expires_at"):
        return float(token["expires_at"])  # type: ignore[arg-type]
    return time.time() + float(token.get("expires_in") or 3600)  # type: ignore[arg-type]


class TokenKeeper:
    """Hands out a valid access token for a store, refreshing it under a per-store Redis lock."""

    def __init__(
        self, registry: StoreRegistry, oauth: OAuthClient, redis: Redis | None = None
    ) -> None:
        self.registry = registry
        self.oauth = oauth
        self.redis = redis or registry.redis
        self._known: dict[str, Store] = {}  # per process: no Redis round trip per API call

    def access_token(self, code: str, *, stale: str | None = None) -> str:
        """A token valid for at least REFRESH_MARGIN; `stale` names one Jumpseller just refused."""
        known = self._known.get(code)
        if known is not None and self._usable(known, stale):
            return known.access_token
        store = self.registry.get(code)
        if self._usable(store, stale):
            self._known[code] = store
            return store.access_token
        lock = self.redis.lock(
            self.registry.keys.refresh_lock(code), timeout=60, blocking_timeout=45
        )
        if not lock.acquire():
            raise TokenError(f"Store '{code}': another process held the token refresh too long.")
        try:
            store = self.registry.get(code)  # re-read: another process may have refreshed it
            if not self._usable(store, stale):
                store = self._refresh(store)
            self._known[code] = store
            return store.access_token
        finally:
            lock.release()

    @staticmethod
    def _usable(store: Store, stale: str | None) -> bool:
        if not store.installed:
            raise StoreRevoked(
                f"Store '{store.code}' has removed the app; reinstall it from the Jumpseller admin."
            )
        margin = min(REFRESH_MARGIN, store.token_lifetime / 4)
        fresh = store.token_expires_at - time.time() > margin
        return bool(store.access_token) and fresh and store.access_token != stale

    def _refresh(self, store: Store) -> Store:
        if not store.refresh_token:
            raise StoreRevoked(f"Store '{store.code}' has no refresh token; reinstall the app.")
        try:
            token = self.oauth.refresh(store.refresh_token)
        except InvalidGrantError as exc:
            self.registry.mark_uninstalled(store.code, "Jumpseller refused the refresh token")
            raise StoreRevoked(
                f"Store '{store.code}': Jumpseller refused the refresh token, so the app was "
                "removed or its access revoked. The merchant must reinstall it."
            ) from exc
        except (OAuth2Error, RequestException) as exc:
            raise TokenError(
                f"Store '{store.code}': token refresh failed ({type(exc).__name__}); "
                "will retry on the next build."
            ) from exc
        log.info("store=%s access token refreshed", store.code)
        return self.registry.save_tokens(
            store.code,
            str(token["access_token"]),
            str(token.get("refresh_token") or store.refresh_token),
            expiry_of(token),
        )


def _allow_loopback_http(url: str) -> None:
    """oauthlib refuses plain http; allow it for the local sandbox only, never a real host."""
    host = urlsplit(url).hostname or ""
    if url.startswith("http://") and host in ("127.0.0.1", "localhost", "::1"):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
