"""Sessions in a third-party iframe, page tokens, CSRF and the headers on every response."""

from __future__ import annotations

import copy
import re

import pytest
from flask import Flask
from freezegun import freeze_time

from feedapp import create_app
from feedapp.builds import queueing
from feedapp.stores import Store, StoreRegistry
from feedapp.web.security import PAGE_TOKEN_SECONDS, PageSession, open_session

#: What a page bound to no store may be framed by: any store's admin, nothing else.
ANCESTORS = "frame-ancestors 'self' https://*.jumpseller.com"


def session_for(app: Flask, code: str) -> PageSession:
    """A real server-side session for a store, as the OAuth callback opens one."""
    with app.test_request_context():
        return open_session(code)


def token_for(app: Flask, code: str) -> str:
    return signed(app, session_for(app, code))["t"]


def signed(app: Flask, page: PageSession) -> dict[str, str]:
    """The page token and CSRF token a page of this session carries."""
    with app.test_request_context():
        return {"t": page.page_token, "csrf": page.csrf}


def ancestors_of(store_code: str) -> str:
    """The framing a page bound to this store is sent with."""
    return f"frame-ancestors 'self' https://{store_code}.jumpseller.com"


@pytest.fixture
def other_store(registry: StoreRegistry) -> Store:
    return registry.save(
        Store(code="otherstore", name="Other Store", access_token="a", refresh_token="r")
    )


def categories(registry: StoreRegistry, code: str) -> None:
    """Cache a category list so pages never call Jumpseller."""
    registry.set_json(code, "categories", {"categories": [{"id": 7, "name": "Zapatos"}]})


def test_session_cookie_is_fit_for_a_third_party_iframe(app, client, store: Store) -> None:
    categories(app.extensions["feedapp"].registry, store.code)
    reply = client.get("/", query_string={"t": token_for(app, store.code)})
    (cookie,) = [c for c in reply.headers.getlist("Set-Cookie") if c.startswith("feedapp_session=")]
    for attribute in ("SameSite=None", "Secure", "Partitioned", "HttpOnly", "Path=/"):
        assert attribute in cookie
    # The cookie alone now opens the page.
    assert 'id="options-form"' in client.get("/").get_data(as_text=True)


def test_page_token_works_without_any_cookie(app, store: Store) -> None:
    categories(app.extensions["feedapp"].registry, store.code)
    cookieless = app.test_client(use_cookies=False)
    page = cookieless.get("/", query_string={"t": token_for(app, store.code)})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Test Store" in html
    token = re.search(r'name="t" value="([^"]+)"', html).group(1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    reply = cookieless.post(
        "/settings/rebuild", data={"t": token, "csrf": csrf}, headers={"Accept": "application/json"}
    )
    assert reply.status_code == 200 and reply.json["result"] == "queued"


def test_expired_forged_or_tampered_tokens_open_nothing(app, client, store: Store) -> None:
    with freeze_time() as frozen:
        token = token_for(app, store.code)
        frozen.tick(PAGE_TOKEN_SECONDS + 5)
        expired = client.get("/", query_string={"t": token}).get_data(as_text=True)
    assert 'id="expired"' in expired and 'id="options-form"' not in expired
    forged_config = copy.copy(app.extensions["feedapp"].config)
    forged_config.SECRET_KEY = "another-key"
    forged_app = create_app(forged_config)
    forged = token_for(forged_app, store.code)
    token = token_for(app, store.code)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (forged, tampered, "not-a-token", "x" * 2000):
        html = client.get("/", query_string={"t": bad}).get_data(as_text=True)
        assert 'id="options-form"' not in html and "Test Store" not in html


def test_a_store_code_in_the_query_string_is_never_trusted(
    app,
    client,
    store: Store,
    other_store: Store,
    registry: StoreRegistry,
) -> None:
    categories(registry, store.code)
    categories(registry, other_store.code)
    for name in ("store", "store_code", "code", "shop"):
        html = client.get("/", query_string={name: store.code}).get_data(as_text=True)
        assert 'id="connect-button"' in html and "Test Store" not in html
    page = signed(app, session_for(app, store.code))
    token = page["t"]
    html = client.get("/", query_string={"t": token, "store": other_store.code}).get_data(
        as_text=True
    )
    assert "Test Store" in html and "Other Store" not in html
    reply = client.post(
        "/settings/options",
        query_string={"store": other_store.code},
        data={
            "t": token,
            "csrf": page["csrf"],
            "store": other_store.code,
            "default_brand": "Injected",
            "condition": "new",
            "frequency_hours": "24",
        },
    )
    assert reply.status_code == 303
    assert registry.get(store.code).first_feed.options.default_brand == "Injected"
    assert registry.get(other_store.code).first_feed.options.default_brand == ""


@pytest.mark.parametrize("csrf", [None, "", "wrong", "0" * 64, "other-session"])
def test_posts_without_the_right_csrf_token_change_nothing(
    app,
    client,
    store: Store,
    registry: StoreRegistry,
    csrf: str | None,
) -> None:
    token = token_for(app, store.code)
    other = signed(app, session_for(app, store.code))["csrf"]
    sent = other if csrf == "other-session" else csrf
    form = {"t": token, "default_brand": "Changed", "condition": "new", "frequency_hours": "6"}
    if sent is not None:
        form["csrf"] = sent
    reply = client.post("/settings/options", data=form)
    assert reply.status_code == 400
    assert "no se cambió nada" in reply.get_data(as_text=True)
    assert reply.headers["Content-Security-Policy"].endswith(ancestors_of(store.code))
    assert registry.get(store.code).first_feed.options.default_brand == ""
    rebuild = client.post("/settings/rebuild", data={k: v for k, v in form.items() if k != "t"})
    assert rebuild.status_code in (400, 401)
    rebuild = client.post("/settings/rebuild", data=form, headers={"Accept": "application/json"})
    assert rebuild.status_code == 400
    assert not queueing.is_queued(app.extensions["feedapp"], store.code)


def test_posts_without_a_session_are_refused(app, client, store: Store) -> None:
    csrf = signed(app, session_for(app, store.code))["csrf"]
    reply = client.post("/settings/options", data={"csrf": csrf, "default_brand": "X"})
    assert reply.status_code == 401
    assert client.get("/settings/status").status_code == 401
    assert client.get("/settings/taxonomy", query_string={"q": "shoes"}).status_code == 401


def _sample_url(rule, code: str) -> str:
    values = {
        arg: "sample-feed-token-0000" if arg == "token" else "feedapp.css" for arg in rule.arguments
    }
    return rule.build(values)[1]


def test_every_html_response_may_be_framed_only_by_jumpseller(app, store: Store) -> None:
    """Every route, with and without a session, plus the error pages: frame-ancestors, no XFO.

    A response for the store's session names that store's admin only; one without names any
    store's admin (the connect page must load in whichever admin opens the app).
    """
    registry = app.extensions["feedapp"].registry
    categories(registry, store.code)
    token = token_for(app, store.code)
    responses = []
    for rule in app.url_map.iter_rules():
        url = _sample_url(rule, store.code)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for query in ({}, {"t": token}):
                client = app.test_client()
                responses.append(client.open(url, method=method, query_string=query))
    client = app.test_client()
    responses += [
        client.get("/no-such-page"),
        client.post("/install"),
        client.get("/callback"),
        client.get("/callback", query_string={"error": "access_denied", "state": "x" * 40}),
        client.post("/settings/options", data={"t": token}),
    ]
    html = [r for r in responses if r.mimetype == "text/html"]
    statuses = {r.status_code for r in html}
    assert {200, 400, 401, 404, 405} <= statuses
    for reply in html:
        policy = reply.headers["Content-Security-Policy"]
        assert policy.endswith((ANCESTORS, ancestors_of(store.code))), reply.request.path
        assert "X-Frame-Options" not in reply.headers
        assert reply.headers["Referrer-Policy"] == "no-referrer"
        assert reply.headers["Cache-Control"] == "no-store"
    (not_allowed,) = [r for r in html if r.status_code == 405 and r.request.path == "/install"]
    assert "GET" in not_allowed.headers["Allow"]  # the error page keeps the error's own headers
    for reply in responses:
        reply.close()


def test_a_crash_still_answers_with_a_frameable_page(config) -> None:
    config.FRAME_ANCESTORS = ["https://*.jumpseller.com", "http://localhost:5001"]
    app = create_app(config)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    reply = app.test_client().get("/boom", headers={"Accept-Language": "en"})
    assert reply.status_code == 500
    assert "The app failed unexpectedly" in reply.get_data(as_text=True)
    policy = reply.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://*.jumpseller.com http://localhost:5001" in policy


def test_the_page_loads_nothing_from_other_hosts(app, store: Store) -> None:
    categories(app.extensions["feedapp"].registry, store.code)
    html = (
        app.test_client()
        .get("/", query_string={"t": token_for(app, store.code)})
        .get_data(as_text=True)
    )
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert all(a.startswith(("/", "data:", "#")) for a in assets), assets
    assert "script-src 'self'" in app.test_client().get("/").headers["Content-Security-Policy"]
