"""The App URL (`/`) and the OAuth install: `/install` starts it, `/callback` finishes it.

Jumpseller loads `/` in its admin iframe with no parameter saying which store it is, so the app
runs OAuth to learn it. Jumpseller's authorize page may refuse to be framed, so `/install` runs in
a popup (or the top window); the callback hands a signed page token back to the iframe with
``postMessage``, which works even when the browser drops the iframe's cookies.

Starting an install stores nothing on the server: the state travels in a signed first-party
cookie, so unauthenticated visitors can't grow Redis. Only a callback that presents a state this
server signed, in the browser it was given to, leaves a marker, so the same state works once.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from requests.exceptions import RequestException
from werkzeug.exceptions import HTTPException

from feedapp.builds import queueing
from feedapp.jumpseller.installation import InstallError, complete_install
from feedapp.jumpseller.tokens import OAuthClient, TokenError
from feedapp.messages import N_
from feedapp.web import i18n, security
from feedapp.web.context import current_services
from feedapp.web.page import render_page

bp = Blueprint("connect", __name__)
log = logging.getLogger(__name__)

#: How long an authorization may take, from /install to /callback.
STATE_TTL = 600
#: A first-party cookie set by /install and checked at /callback: binds the state to the browser.
BROWSER_COOKIE = "feedapp_oauth"
_STATE_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")
_STATE_SALT = "feedapp.oauth-state"
#: A signed state cookie is about 150 characters; anything much longer is not one of ours.
_MAX_STATE_COOKIE = 512

#: Why an install did not finish, in the merchant's words (the popup's failure page).
FAILED_STATE = N_(
    "This connection link expired, was already used or was started in another browser. Nothing "
    "was saved. Start again from the app in your Jumpseller admin."
)
FAILED_DENIED = N_(
    "You did not approve the app in Jumpseller, so nothing was connected or saved. You can "
    "connect whenever you like."
)
FAILED_REFUSED = N_(
    "Jumpseller answered the connection with an error (%(error)s). Nothing was saved; try again."
)
FAILED_CODE = N_(
    "Jumpseller did not accept this authorization (it may have been used already or expired). "
    "Nothing was saved; connect again."
)
FAILED_DOWN = N_(
    "Jumpseller could not be reached to finish the connection. Nothing was saved; try again in "
    "a few minutes."
)
FAILED_INSTALL = N_(
    "Jumpseller did not send your store's details. Nothing was saved; try again in a few minutes."
)


@bp.get("/")
def root() -> Response | str:
    """The merchant's page: their settings with a session, otherwise the connect page."""
    page = security.current_session()
    store = current_services().registry.find(page.store_code) if page else None
    if page is None or store is None:
        ended = security.ended_store()
        store = current_services().registry.find(ended) if ended else None
        if store is not None and not store.installed:  # say why, and that reconnecting keeps all
            return render_template("connect/connect.html", expired=False, store=store)
        expired = bool(request.args.get("t") or ended)
        return render_template("connect/connect.html", expired=expired, store=None)
    offer = security.switch_offer()
    other = current_services().registry.find(offer.store_code) if offer else None
    if offer is not None and other is not None:
        return render_template(
            "connect/switch.html", page=page, store=store, offer=offer, other=other
        )
    security.remember(page)
    if not store.installed:
        return render_template("connect/connect.html", expired=False, store=store)
    return render_page(page, store)


@bp.post("/session/switch")
def switch() -> Response:
    """The merchant confirmed: this browser's session moves to the store the link was for."""
    page = security.current_session()
    offer = security.switch_offer()
    if page is None:
        return redirect(url_for("connect.root"), code=303)
    security.check_csrf(page)  # the cookie's session must ask, so a forged form moves nothing
    if offer is None:
        return redirect(url_for("connect.root", t=page.page_token), code=303)
    security.remember(offer)
    return redirect(url_for("connect.root", t=offer.page_token), code=303)


def _state_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_STATE_SALT)


@bp.get("/install")
def install() -> Response:
    """Start the authorization-code flow with a fresh single-use state bound to this browser."""
    svc = current_services()
    state = secrets.token_urlsafe(32)
    mode = "popup" if request.args.get("popup") == "1" else "top"
    response = redirect(OAuthClient.from_config(svc.config).authorize_url(state))
    response.set_cookie(
        BROWSER_COOKIE,
        _state_serializer().dumps({"state": state, "mode": mode}),
        max_age=STATE_TTL,
        path=url_for("connect.callback"),
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    return response


@bp.get("/callback")
def callback() -> Response:
    """Finish the install: check and spend the state, exchange the code, save, build, hand back."""
    pending = _take_pending()
    if pending is None:
        return _failed(FAILED_STATE, 400)
    error = request.args.get("error", "")
    if error == "access_denied":
        return _failed(FAILED_DENIED, 400)
    if error:
        return _failed(FAILED_REFUSED, 400, error=error[:60])
    code = request.args.get("code", "")
    if not code or len(code) > 512:
        return _failed(FAILED_REFUSED, 400, error="no code")
    svc = current_services()
    try:
        token = OAuthClient.from_config(svc.config).exchange(code)
    except TokenError as exc:
        log.warning("install: code exchange failed: %s", exc)
        down = isinstance(exc.__cause__, RequestException)
        return _failed(FAILED_DOWN if down else FAILED_CODE, 502 if down else 400)
    try:
        store = complete_install(svc, token)
    except InstallError as exc:
        log.warning("install: %s", exc)
        return _failed(FAILED_INSTALL, 502)
    queueing.request_build(svc, store.code, reason="install")
    page = security.start_session(store.code)
    target = url_for("connect.root", t=page.page_token)
    if pending.get("mode") == "popup":
        response = Response(
            render_template(
                "connect/done.html",
                store=store,
                page_token=page.page_token,
                origin=request.host_url.rstrip("/"),
                target=target,
            )
        )
    else:
        response = redirect(target, code=303)
    response.delete_cookie(BROWSER_COOKIE, path=url_for("connect.callback"))
    return response


def _take_pending() -> dict | None:
    """The authorization this browser started, spent at once; None unless the state matches.

    Any callback presenting this browser's signed cookie spends its state, so a wrong guess
    also ends the authorization it was guessing at.
    """
    cookie = request.cookies.get(BROWSER_COOKIE, "")
    if not cookie or len(cookie) > _MAX_STATE_COOKIE:
        return None
    try:
        pending = _state_serializer().loads(cookie, max_age=STATE_TTL)
    except BadSignature:
        return None
    own = pending.get("state") if isinstance(pending, dict) else None
    if not isinstance(own, str) or not _STATE_RE.fullmatch(own):
        return None
    svc = current_services()
    if not svc.redis.set(svc.keys.oauth_spent(own), b"1", nx=True, ex=STATE_TTL):
        return None  # a callback already ran with this state
    state = request.args.get("state", "")
    if not hmac.compare_digest(own.encode(), state.encode()):
        return None
    return pending


def _failed(message: str, status: int, **values: str) -> Response:
    """A clear page in the merchant's language; the browser binding cookie is dropped."""
    response = Response(
        render_template("connect/failed.html", message=i18n.gettext(message, **values)),
        status=status,
    )
    response.delete_cookie(BROWSER_COOKIE, path=url_for("connect.callback"))
    return response


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    """HTTP errors as a small page in the merchant's language, keeping the error's own headers.

    The feed routes keep werkzeug's plain answers (e.g. 416 with its Content-Range).
    """
    response = exc.get_response()
    if request.blueprint == "serving":
        return response
    status = exc.code or 500
    fallback = i18n.HTTP_ERRORS[400 if status < 500 else 500]
    message = i18n.gettext(getattr(exc, "page_message", i18n.HTTP_ERRORS.get(status, fallback)))
    if request.accept_mimetypes.best == "application/json":  # the page's own fetch calls
        response.set_data(json.dumps({"error": status, "message": message}))
        response.mimetype = "application/json"
    else:
        response.set_data(render_template("error.html", message=message, status=status))
    return response
