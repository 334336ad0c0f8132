"""What stands in front of every /v1 call: latency, bearer auth, scopes, rate limits and faults."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, g, jsonify, request

from feedapp_dev.sandbox.grants import AccessToken, GrantError
from feedapp_dev.sandbox.ratelimit import ALLOWED, BANNED
from feedapp_dev.sandbox.state import DROP, MALFORMED, SandboxState

API_PREFIX = "/v1/"


def requires(*scopes: str) -> Callable:
    """Mark a view as needing any one of these OAuth scopes."""

    def mark(view: Callable) -> Callable:
        view.required_scopes = scopes  # type: ignore[attr-defined]
        return view

    return mark


def init_app(app: Flask) -> None:
    """Run the gate around API paths only; accounts, admin and control pages stay ungated."""
    app.before_request(_before)
    app.after_request(_after)
    app.teardown_request(_teardown)


def _state() -> SandboxState:
    return current_app.extensions["sandbox"]


def _before() -> Response | None:
    if not request.path.startswith(API_PREFIX):
        return None
    state = _state()
    with state.lock:
        stats = state.stats
        stats.requests += 1
        stats.in_flight += 1
        stats.max_concurrent = max(stats.max_concurrent, stats.in_flight)
        g.sandbox_in_flight = True
        config = state.config
    now = time.time()  # requests are counted as they arrive; the latency is their processing
    with state.lock:
        grant: AccessToken | None = None
        try:
            revoke = config.revoke_replaced_access_tokens
            grant = state.grants.authenticate(_bearer(), now, revoke)
            key, refusal = f"store:{grant.store}", ""
        except GrantError as exc:
            key, refusal = f"ip:{request.remote_addr}", str(exc)
        verdict = state.limiter.check(key, now, state.config)
        g.sandbox_headers = verdict.headers
        if verdict.outcome != ALLOWED:
            stats.rate_limited += 1
            stats.bans += int(verdict.ban_started)
        elif grant is None:
            stats.unauthorized += 1
    if config.latency_ms:
        time.sleep(config.latency_ms / 1000)
    if verdict.outcome == BANNED:
        return _error(429, "Too Many Requests: banned for exceeding the rate limit too often.")
    if verdict.outcome != ALLOWED:
        return _error(429, "Too Many Requests: Rate Limit Exceeded.")
    if grant is None:
        reply = _error(401, refusal)
        reply.headers["WWW-Authenticate"] = (
            f'Bearer realm="Jumpseller", error="invalid_token", error_description="{refusal}"'
        )
        return reply
    needed = getattr(current_app.view_functions.get(request.endpoint or ""), "required_scopes", ())
    if needed and not set(needed) & set(grant.scope.split()):
        return _error(403, f"This action needs the scope {' or '.join(needed)}.")
    g.sandbox_store = state.store(grant.store)
    return _fault(state)


def _fault(state: SandboxState) -> Response | None:
    fault = state.draw_fault()
    if fault is None:
        return None
    if fault == DROP:
        with state.lock:
            state.stats.dropped += 1
        _drop_connection()
        return Response(status=500)
    if fault == MALFORMED:
        g.sandbox_malformed = True
        return None
    with state.lock:
        state.stats.server_errors += 1
    return Response(
        "<html><body><h1>Bad Gateway</h1></body></html>"
        if fault == 502
        else "<html><body><h1>Service Unavailable</h1></body></html>",
        status=int(fault),
        mimetype="text/html",
    )


def _drop_connection() -> None:
    """Close the socket under the request: the client sees the connection end with no reply.

    Werkzeug's server then fails to write the reply, treats that as a dropped connection and
    stays quiet; outside it (the Flask test client) there is no socket and a 500 goes out.
    """
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the client already went away, which is what we wanted


def _after(response: Response) -> Response:
    headers = g.pop("sandbox_headers", None)
    if headers:
        response.headers.update(headers)
    if g.pop("sandbox_malformed", False) and response.status_code == 200:
        body = response.get_data()
        response.set_data(body[: max(len(body) // 2, 1)])
        with _state().lock:
            _state().stats.malformed += 1
    return response


def _teardown(_exc: BaseException | None) -> None:
    if g.pop("sandbox_in_flight", False):
        state = _state()
        with state.lock:
            state.stats.in_flight -= 1


def _bearer() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _error(status: int, message: str) -> Response:
    reply = jsonify({"message": message})
    reply.status_code = status
    return reply
