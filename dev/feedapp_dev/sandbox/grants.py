"""OAuth codes and tokens as Jumpseller's accounts server keeps them, with RFC 6749 errors."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass


class GrantError(Exception):
    """An RFC 6749 error reply: `error` is the code, the message its description."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error = error
        self.status = status


@dataclass
class AuthCode:
    """A one-time authorization code, bound to its client and exact redirect_uri."""

    client_id: str
    redirect_uri: str
    store: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class AccessToken:
    """A bearer token for one store; `replaces` is the token it supersedes after a refresh."""

    store: str
    scope: str
    client_id: str
    expires_at: float
    replaces: str | None = None
    revoked: bool = False


@dataclass
class RefreshToken:
    """A refresh token; it works once, then only its successor does."""

    store: str
    scope: str
    client_id: str
    access_token: str
    used: bool = False


class GrantBook:
    """Every code and token the sandbox issued; callers hold the sandbox lock."""

    def __init__(self) -> None:
        self.codes: dict[str, AuthCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}
        #: How often each refresh token reached the token endpoint, valid or not.
        self.refresh_uses: Counter[str] = Counter()

    def issue_code(
        self, client_id: str, redirect_uri: str, store: str, scope: str, expires_at: float
    ) -> str:
        """A fresh authorization code for an approved request."""
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthCode(client_id, redirect_uri, store, scope, expires_at)
        return code

    def redeem_code(self, code: str, client_id: str, redirect_uri: str, now: float) -> AuthCode:
        """Use up a code; raises invalid_grant unless it is fresh, unused and bound to these."""
        grant = self.codes.get(code)
        if grant is None or grant.used:
            raise GrantError("invalid_grant", "The authorization code is invalid or already used.")
        if grant.client_id != client_id:
            raise GrantError("invalid_grant", "The authorization code belongs to another client.")
        if grant.redirect_uri != redirect_uri:
            raise GrantError(
                "invalid_grant", "The redirect_uri does not match the authorization request."
            )
        if now >= grant.expires_at:
            raise GrantError("invalid_grant", "The authorization code expired.")
        grant.used = True
        return grant

    def issue_tokens(
        self,
        store: str,
        scope: str,
        client_id: str,
        ttl: int,
        now: float,
        replaces: str | None = None,
    ) -> dict:
        """A new access/refresh pair, as the token endpoint replies it."""
        access = secrets.token_hex(32)
        refresh = secrets.token_hex(32)
        self.access[access] = AccessToken(store, scope, client_id, now + ttl, replaces)
        self.refresh[refresh] = RefreshToken(store, scope, client_id, access)
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ttl,
            "refresh_token": refresh,
            "scope": scope,
            "created_at": int(now),
        }

    def use_refresh_token(self, token: str, client_id: str, ttl: int, now: float) -> dict:
        """Rotate: the presented token dies and a new pair is issued in its place."""
        grant = self.refresh.get(token)
        if grant is None or grant.used:
            raise GrantError(
                "invalid_grant", "The refresh token is invalid, revoked or was already used."
            )
        if grant.client_id != client_id:
            raise GrantError("invalid_grant", "The refresh token was issued to another client.")
        grant.used = True
        return self.issue_tokens(
            grant.store, grant.scope, client_id, ttl, now, replaces=grant.access_token
        )

    def authenticate(self, token: str, now: float, revoke_replaced: bool) -> AccessToken:
        """The live access token, or GrantError('invalid_token', why) with status 401."""
        grant = self.access.get(token) if token else None
        if grant is None:
            raise GrantError("invalid_token", "The access token is invalid.", 401)
        if grant.revoked:
            raise GrantError("invalid_token", "The access token was revoked.", 401)
        if now >= grant.expires_at:
            raise GrantError("invalid_token", "The access token expired.", 401)
        if grant.replaces and revoke_replaced:
            previous = self.access.get(grant.replaces)
            if previous is not None:
                previous.revoked = True
            grant.replaces = None
        return grant

    def expire_all(self, now: float) -> int:
        """Make every access token expired right now; returns how many there were."""
        for grant in self.access.values():
            grant.expires_at = min(grant.expires_at, now)
        return len(self.access)
