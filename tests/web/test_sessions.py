"""Sessions the server bounds and ends, framing by the store's own admin, HSTS, install state."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from feedapp_dev.sandbox import SandboxConfig
from flask import Flask
from freezegun import freeze_time
from live_servers import connect_store
from redis import Redis
from sandbox_server import SandboxServer, point_at_sandbox

from config import Config
from feedapp.sessions import SESSION_LIFETIME_SECONDS
from feedapp.stores import Store, StoreRegistry
from feedapp.web.security import HSTS, PageSession, open_session

CATEGORIES = {"categories": [{"id": 7, "name": "Zapatos"}]}


@pytest.fixture
def two_stores(registry: StoreRegistry, store: Store) -> tuple[Store, Store]:
    """The test store and a second installed store, both with cached categories (no API call)."""
    other = registry.save(
        Store(code="otherstore", name="Other Store", access_token="a", refresh_token="r")
    )
    for code in (store.code, other.code):
        registry.set_json(code, "categories", CATEGORIES)
    return store, other


def session_for(app: Flask, code: str) -> PageSession:
    """A server-side session as the OAuth callback opens one."""
    with app.test_request_context():
        return open_session(code)


def token_of(app: Flask, page: PageSession) -> str:
    with app.test_request_context():
        return page.page_token


def framing(policy: str) -> list[str]:
    """The sources of a Content-Security-Policy's frame-ancestors directive."""
    (directive,) = [d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors")]
    return directive.split()[1:]


def opened_store(html: str) -> str | None:
    """Which store's page a response shows (the options form belongs to it), if any."""
    if 'id="options-form"' not in html:
        return None
    return "Other Store" if "Other Store" in html else "Test Store"


# -- framing ---------------------------------------------------------------------------------
def test_a_store_page_may_be_framed_by_that_store_admin_only(app, two_stores) -> None:
    """Store A's page never admits store B's origin (nor a wildcard), and the reverse."""
    store, other = two_stores
    policies = {}
    for each in (store, other):
        reply = app.test_client().get(
            "/", query_string={"t": token_of(app, session_for(app, each.code))}
        )
        assert opened_store(reply.get_data(as_text=True)) == each.name
        policies[each.code] = framing(reply.headers["Content-Security-Policy"])
    assert policies[store.code] == ["'self'", "https://teststore.jumpseller.com"]
    assert policies[other.code] == ["'self'", "https://otherstore.jumpseller.com"]
    for code, sources in policies.items():
        assert not any("*" in source for source in sources), code
    # The page for no store yet (the connect page) loads in any store's admin, nothing else.
    unbound = app.test_client().get("/")
    assert framing(unbound.headers["Content-Security-Policy"]) == [
        "'self'",
        "https://*.jumpseller.com",
    ]


# -- a link can't move a browser onto another store ------------------------------------------
def test_a_link_with_another_store_token_asks_before_switching(app, two_stores) -> None:
    store, other = two_stores
    client = app.test_client()
    mine = session_for(app, store.code)
    assert (
        opened_store(client.get("/", query_string={"t": token_of(app, mine)}).text) == "Test Store"
    )
    assert opened_store(client.get("/").text) == "Test Store"  # the cookie now holds A's session
    foreign = token_of(app, session_for(app, other.code))

    offer = client.get("/", query_string={"t": foreign})
    html = offer.text
    assert 'id="switch-notice"' in html and opened_store(html) is None
    assert "Test Store" in html and "Other Store" in html  # the merchant sees both names
    assert framing(offer.headers["Content-Security-Policy"])[1:] == [
        "https://teststore.jumpseller.com"
    ]
    assert opened_store(client.get("/").text) == "Test Store"  # nothing switched by the link
    # A forged confirmation (no CSRF token of A's session, or B's own) moves nothing.
    with app.test_request_context():
        b_csrf = PageSession(other.code, "x").csrf
    for forged in ({"t": foreign}, {"t": foreign, "csrf": b_csrf}):
        assert client.post("/session/switch", data=forged).status_code == 400
        assert opened_store(client.get("/").text) == "Test Store"
    # Staying keeps A; confirming with the form the page showed moves the cookie to B.
    stay = re.search(r'id="switch-stay" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert opened_store(client.get(stay).text) == "Test Store"
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]+)">', html))
    switched = client.post("/session/switch", data=form)
    assert switched.status_code == 303
    assert opened_store(client.get(switched.headers["Location"]).text) == "Other Store"
    assert opened_store(client.get("/").text) == "Other Store"


def test_a_token_of_the_same_store_needs_no_confirmation(app, two_stores) -> None:
    store, _ = two_stores
    client = app.test_client()
    client.get("/", query_string={"t": token_of(app, session_for(app, store.code))})
    second = client.get("/", query_string={"t": token_of(app, session_for(app, store.code))})
    assert opened_store(second.text) == "Test Store" and "switch-notice" not in second.text


# -- lifetime and ending ---------------------------------------------------------------------
def test_a_session_ends_at_its_absolute_lifetime_however_busy(app, two_stores) -> None:
    """Each page renews its token, but never the session: it ends 12 h after it began."""
    store, _ = two_stores
    with freeze_time() as frozen:
        client = app.test_client()
        token = token_of(app, session_for(app, store.code))
        for _ in range(SESSION_LIFETIME_SECONDS // 3600 - 1):  # a page load every hour
            html = client.get("/", query_string={"t": token}).text
            assert opened_store(html) == "Test Store"
            token = re.search(r'name="t" value="([^"]+)"', html).group(1)  # the renewed token
            frozen.tick(3600)
        assert opened_store(client.get("/", query_string={"t": token}).text) == "Test Store"
        frozen.tick(3601)
        late = client.get("/", query_string={"t": token}).text
        assert opened_store(late) is None and 'id="connect-button"' in late
        assert opened_store(client.get("/").text) is None  # the cookie's session ended too
        csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        refused = client.post("/settings/rebuild", data={"t": token, "csrf": csrf})
        assert refused.status_code == 401


def test_an_uninstall_ends_every_session_of_the_store(app, two_stores, registry) -> None:
    store, other = two_stores
    browsers = [app.test_client() for _ in range(2)]
    tokens = []
    for browser in browsers:
        token = token_of(app, session_for(app, store.code))
        assert opened_store(browser.get("/", query_string={"t": token}).text) == "Test Store"
        tokens.append(token)
    kept = app.test_client()
    kept_token = token_of(app, session_for(app, other.code))
    registry.mark_uninstalled(store.code, "Jumpseller answered 401")
    for browser, token in zip(browsers, tokens, strict=True):
        for html in (browser.get("/").text, browser.get("/", query_string={"t": token}).text):
            assert opened_store(html) is None
            assert 'id="disconnected"' in html  # the browser is told why, and how to resume
        assert browser.get("/settings/status").status_code == 401
    assert opened_store(kept.get("/", query_string={"t": kept_token}).text) == "Other Store"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A Jumpseller stand-in that approves at once, for real installs."""
    with SandboxServer(SandboxConfig(product_count=5, auto_approve=True)) as server:
        yield server


def test_a_new_authorization_ends_the_sessions_from_before_it(
    config: Config, redis: Redis, sandbox: SandboxServer
) -> None:
    """A reinstall (Jumpseller never says the app was removed in between) starts afresh."""
    from feedapp import create_app

    app = create_app(point_at_sandbox(config, sandbox), redis=redis)
    earlier, later = app.test_client(), app.test_client()
    first = connect_store(earlier)
    assert first.status_code == 303
    old_token = parse_qs(urlsplit(first.headers["Location"]).query)["t"][0]
    code = app.extensions["feedapp"].registry.codes()[0]
    app.extensions["feedapp"].registry.set_json(code, "categories", CATEGORIES)
    assert 'id="options-form"' in earlier.get("/").text
    assert connect_store(later).status_code == 303  # the store authorizes the app again
    assert 'id="options-form"' in later.get("/").text
    for html in (earlier.get("/").text, earlier.get("/", query_string={"t": old_token}).text):
        assert 'id="options-form"' not in html and 'id="connect-button"' in html


# -- HSTS and unauthenticated state ----------------------------------------------------------
def test_https_responses_carry_hsts_and_plain_http_does_not(app, two_stores) -> None:
    client = app.test_client()
    secure = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"] == HSTS
    assert int(HSTS.split("=")[1]) >= 365 * 24 * 3600
    page = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert page.headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_ten_thousand_install_starts_leave_redis_as_it_was(app, redis: Redis) -> None:
    """/install keeps its state in the browser: one client's flood stores nothing."""
    client = app.test_client()
    client.get("/install")
    before_keys, before = redis.dbsize(), redis.info("memory")["used_memory"]
    for _ in range(10_000):
        assert client.get("/install").status_code == 302
    grown = redis.info("memory")["used_memory"] - before
    keys = redis.dbsize()
    print(f"10,000 GET /install: Redis grew {grown / 1024:.1f} KiB, keys {before_keys} -> {keys}")
    assert keys == before_keys
    assert grown < 5 * 1024 * 1024
