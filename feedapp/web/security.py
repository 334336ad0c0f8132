"""Who is looking at a page inside the admin iframe, CSRF, and the headers every response needs.

The page lives in a third-party iframe, so its session cookie (``SameSite=None; Secure;
Partitioned``) may be dropped by the browser. Every page therefore also carries a short-lived
signed *page token*; links, forms and fetch calls send it back. Both carry only a session id:
the session itself lives on the server (feedapp/sessions.py) with an absolute lifetime, and ends
when the store uninstalls or authorizes again. A store code in the query string is never trusted,
and a page token for another store than the cookie's does not replace the cookie's session unless
the merchant confirms the switch (a link can't silently move a browser onto another store).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

from feedapp.messages import N_
from feedapp.sessions import SESSION_LIFETIME_SECONDS, SessionStore
from feedapp.web.context import current_services

#: How long a page token is honoured: long enough for a working session, short if it leaks.
PAGE_TOKEN_SECONDS = 2 * 3600
_SALT = "feedapp.page-token"
_MAX_TOKEN_LENGTH = 512
#: Sent on https responses: browsers then refuse plain http for the app's host for two years.
HSTS = "max-age=63072000"


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
        """A fresh signed token naming the session, for the page's links, forms and fetch calls."""
        return _serializer().dumps({"sid": self.sid})


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _sessions() -> SessionStore:
    svc = current_services()
    return SessionStore(svc.redis, svc.keys)


def _live(sid: object) -> PageSession | None:
    """The page session for a session id, while the server still holds that session."""
    found = _sessions().find(sid) if isinstance(sid, str) else None
    return PageSession(found.store_code, found.sid) if found else None


def read_page_token(token: str) -> PageSession | None:
    """The session a page token proves, or None when forged, malformed, expired or ended."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    try:
        data = _serializer().loads(token, max_age=PAGE_TOKEN_SECONDS)
    except BadSignature:
        return None
    return _live(data.get("sid")) if isinstance(data, dict) else None


def current_session() -> PageSession | None:
    """This request's session: the page's token, else the cookie; the cookie's if they disagree.

    A token for another store than the cookie's is kept aside as `switch_offer()`: the merchant
    must confirm before it replaces the cookie's session.
    """
    if "page_session" not in g:
        token = (
            request.headers.get("X-Page-Token")
            or request.form.get("t")
            or request.args.get("t")
            or ""
        )
        from_token = read_page_token(token)
        from_cookie = _live(session.get("sid"))
        g.switch_offer = None
        if from_token and from_cookie and from_token.store_code != from_cookie.store_code:
            g.switch_offer = from_token
            g.page_session = from_cookie
        else:
            g.page_session = from_token or from_cookie
    return g.page_session


def ended_store() -> str | None:
    """The store whose session this browser held until an uninstall or reauthorization ended it."""
    token = request.headers.get("X-Page-Token") or request.args.get("t") or ""
    sids = [session.get("sid")]
    if token and len(token) <= _MAX_TOKEN_LENGTH:
        try:
            data = _serializer().loads(token, max_age=PAGE_TOKEN_SECONDS)
        except BadSignature:
            data = None
        sids.insert(0, data.get("sid") if isinstance(data, dict) else None)
    for sid in sids:
        found = _sessions().find(sid, ended=True) if isinstance(sid, str) else None
        if found is not None:
            return found.store_code
    return None


def switch_offer() -> PageSession | None:
    """A valid session for another store than the cookie's, sent by a link: only on confirmation."""
    current_session()
    return g.switch_offer


def open_session(store_code: str) -> PageSession:
    """A new server-side session for a store, not yet bound to this browser's cookie."""
    found = _sessions().start(store_code)
    return PageSession(found.store_code, found.sid)


def start_session(store_code: str) -> PageSession:
    """A new session for a store this browser has just connected."""
    page = open_session(store_code)
    remember(page)
    return page


def remember(page: PageSession) -> None:
    """Mirror the session into the cookie, for browsers that keep third-party cookies."""
    if session.get("sid") != page.sid:
        session.clear()
        session["sid"] = page.sid
    session.permanent = True
    g.page_session = page
    g.switch_offer = None


def check_csrf(page: PageSession) -> None:
    """Refuse a state-changing request whose CSRF token is not this session's."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf") or ""
    if not hmac.compare_digest(sent.encode(), page.csrf.encode()):
        raise CsrfError()


def content_security_policy(frame_ancestors: list[str], store_code: str | None = None) -> str:
    """Only the app's own assets; framed only by itself and the admin of the page's store.

    ``{store}`` in a configured source stands for the store code of the page's session, so a page
    bound to one store can't be framed by another store's pages; a page bound to no store yet (the
    connect page) may be framed by any store's admin.
    """
    sources = [source.replace("{store}", store_code or "*") for source in frame_ancestors]
    ancestors = " ".join(dict.fromkeys(["'self'", *sources]))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
        f"frame-ancestors {ancestors}"
    )


def _security_headers(response: Response) -> Response:
    """Framing rules on every response; pages carry page tokens, so they are never cached."""
    page = g.get("page_session")
    policy = content_security_policy(
        current_services().config.FRAME_ANCESTORS, page.store_code if page else None
    )
    response.headers["Content-Security-Policy"] = policy
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
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
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME_SECONDS,
    )
    app.after_request(_security_headers)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
