"""Who is looking at a page inside the admin iframe, CSRF, and the headers every response needs.

The page lives in a third-party iframe, so its session cookie (``SameSite=None; Secure;
Partitioned``) may be dropped by the browser. Every page therefore also carries a short-lived
signed *page token* naming the store; links, forms and fetch calls send it back. A store code in
the query string is never trusted: only the cookie or a valid page token says which store this is.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, Response, current_app, g, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

from feedapp.messages import N_
from feedapp.stores import valid_store_code
from feedapp.web.context import current_services

#: How long a page token is honoured: long enough for a working session, short if it leaks.
PAGE_TOKEN_SECONDS = 2 * 3600
#: The cookie session outlives a page token, so a reload after a break still works.
SESSION_LIFETIME = timedelta(hours=12)
_SALT = "feedapp.page-token"
_MAX_TOKEN_LENGTH = 512


class CsrfError(BadRequest):
    """A POST without this page's CSRF token: possibly forged, so nothing is done."""

    page_message = N_(
        "This form expired or did not come from this page, so nothing was changed. Reload the "
        "page and try again."
    )


@dataclass(frozen=True)
class PageSession:
    """The store this browser proved it manages, and the random id its CSRF token derives from."""

    store_code: str
    sid: str

    @property
    def csrf(self) -> str:
        """The CSRF token bound to this session id (an HMAC, so nothing extra is stored)."""
        key = current_app.secret_key
        if not isinstance(key, bytes):
            key = str(key).encode()
        return hmac.new(key, f"csrf:{self.sid}".encode(), hashlib.sha256).hexdigest()

    @property
    def page_token(self) -> str:
        """A fresh signed token naming the store, for the page's links, forms and fetch calls."""
        return _serializer().dumps({"store": self.store_code, "sid": self.sid})


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def read_page_token(token: str) -> PageSession | None:
    """The session a page token proves, or None when it is forged, malformed or expired."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    try:
        data = _serializer().loads(token, max_age=PAGE_TOKEN_SECONDS)
    except BadSignature:
        return None
    return _checked(data.get("store"), data.get("sid")) if isinstance(data, dict) else None


def _checked(code: object, sid: object) -> PageSession | None:
    if isinstance(code, str) and isinstance(sid, str) and valid_store_code(code) and sid:
        return PageSession(code, sid)
    return None


def current_session() -> PageSession | None:
    """This request's session: a valid page token first (the page's own), else the cookie."""
    if "page_session" not in g:
        token = (
            request.headers.get("X-Page-Token")
            or request.form.get("t")
            or request.args.get("t")
            or ""
        )
        found = read_page_token(token)
        if found is None:
            found = _checked(session.get("store"), session.get("sid"))
        g.page_session = found
    return g.page_session


def start_session(store_code: str) -> PageSession:
    """A new session for a store this browser has just connected."""
    page = PageSession(store_code, secrets.token_urlsafe(18))
    remember(page)
    return page


def remember(page: PageSession) -> None:
    """Mirror the session into the cookie, for browsers that keep third-party cookies."""
    if session.get("store") != page.store_code or session.get("sid") != page.sid:
        session.clear()
        session["store"], session["sid"] = page.store_code, page.sid
    session.permanent = True
    g.page_session = page


def check_csrf(page: PageSession) -> None:
    """Refuse a state-changing request whose CSRF token is not this session's."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf") or ""
    if not hmac.compare_digest(sent.encode(), page.csrf.encode()):
        raise CsrfError()


def content_security_policy(frame_ancestors: list[str]) -> str:
    """Only the app's own assets; framed only by itself and the configured admin origins."""
    ancestors = " ".join(dict.fromkeys(["'self'", *frame_ancestors]))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
        f"frame-ancestors {ancestors}"
    )


def _security_headers(response: Response) -> Response:
    """Framing rules on every response; pages carry page tokens, so they are never cached."""
    policy = content_security_policy(current_services().config.FRAME_ANCESTORS)
    response.headers["Content-Security-Policy"] = policy
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.pop("X-Frame-Options", None)
    if response.mimetype in ("text/html", "application/json"):
        response.cache_control.no_store = True
    return response


def init_app(app: Flask) -> None:
    """Cookie rules for a third-party iframe, the security headers, and https behind the proxy."""
    app.config.update(
        SESSION_COOKIE_NAME="feedapp_session",
        SESSION_COOKIE_SAMESITE="None",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.after_request(_security_headers)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
