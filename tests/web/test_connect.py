"""The install: OAuth against the sandbox over real HTTP, and every way it must refuse to save."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from feedapp_dev.sandbox import SandboxConfig
from live_servers import authorize_in_sandbox, connect_store, local_path
from redis import Redis
from sandbox_server import SandboxServer, point_at_sandbox

from config import Config
from feedapp import create_app
from feedapp.builds import queueing
from feedapp.feed.options import FeedOptions
from feedapp.stores import StoreRegistry
from feedapp.web.connect import BROWSER_COOKIE, STATE_TTL
from feedapp.web.security import read_page_token

STORE = "sandboxstore"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """A Jumpseller stand-in approving at once (tests that need the approval page post it)."""
    with SandboxServer(SandboxConfig(product_count=30, auto_approve=True)) as server:
        yield server


@pytest.fixture
def config(config: Config, sandbox: SandboxServer) -> Config:
    """The app talks to the sandbox; PUBLIC_URL/callback is one of its redirect URIs."""
    return point_at_sandbox(config, sandbox)


def store_keys(redis: Redis) -> list[bytes]:
    return list(redis.scan_iter("feedapp-test:store*"))


def start(client) -> tuple[str, str]:
    """GET /install: the authorize URL and its state."""
    reply = client.get("/install")
    assert reply.status_code == 302
    location = reply.headers["Location"]
    return location, parse_qs(urlsplit(location).query)["state"][0]


def callback_with(client, callback_url: str, **changes: str):
    """Call /callback with some query parameters replaced (or removed when empty)."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback_url).query).items()}
    query.update(changes)
    query = {k: v for k, v in query.items() if v}
    return client.get("/callback", query_string=query)


def test_install_starts_the_code_flow_with_a_state_bound_to_the_browser(client, redis) -> None:
    before = redis.dbsize()
    reply = client.get("/install")
    assert reply.status_code == 302
    url = urlsplit(reply.headers["Location"])
    query = parse_qs(url.query)
    assert url.path == "/oauth/authorize"
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["read_products read_store read_hooks write_hooks"]
    assert query["redirect_uri"] == ["http://127.0.0.1:5000/callback"]
    assert len(query["state"][0]) >= 32
    cookie = client.get_cookie(BROWSER_COOKIE, path="/callback")
    assert cookie is not None and cookie.secure and cookie.http_only
    assert cookie.value not in reply.headers["Location"]  # the binding never leaves the browser
    assert 0 < cookie.max_age <= STATE_TTL
    assert redis.dbsize() == before  # starting an install stores nothing on the server
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    # Each start gets its own state.
    assert start(client)[1] != query["state"][0]


def test_callback_installs_queues_the_first_build_and_opens_the_settings(
    client, registry: StoreRegistry, redis: Redis
) -> None:
    reply = connect_store(client)
    assert reply.status_code == 303
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    token = parse_qs(urlsplit(reply.headers["Location"]).query)["t"][0]
    store = registry.get(STORE)
    assert store.installed and store.access_token and store.refresh_token
    assert store.name == "Tienda Sandbox"
    assert queueing.is_queued(client.application.extensions["feedapp"], STORE)
    with client.application.test_request_context():
        assert read_page_token(token).store_code == STORE
    assert client.get_cookie(BROWSER_COOKIE, path="/callback") is None
    (spent,) = redis.scan_iter("feedapp-test:oauth:spent:*")  # the state works once
    assert 0 < redis.ttl(spent) <= STATE_TTL
    page = client.get("/")  # the session cookie now says which store this is
    assert page.status_code == 200
    assert 'id="options-form"' in page.get_data(as_text=True)


def test_popup_callback_hands_the_page_token_to_the_iframe_with_https_behind_the_proxy(
    client,
) -> None:
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "feeds.example.com"}
    reply = connect_store(client, popup=True, headers=proxy)
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    origin = re.search(r'data-origin="([^"]+)"', html).group(1)
    token = re.search(r'id="handoff" data-token="([^"]+)"', html).group(1)
    assert origin == "https://feeds.example.com"
    with client.application.test_request_context():
        assert read_page_token(token).store_code == STORE
    assert f'href="/?t={token}"' in html  # when the opener is gone, open the settings here


@pytest.mark.parametrize("state", ["", "wrong-state-value-0123456789", "x" * 300])
def test_missing_or_wrong_state_is_refused_and_nothing_is_saved(client, redis, state: str) -> None:
    authorize_url, _ = start(client)
    callback = authorize_in_sandbox(authorize_url)
    reply = callback_with(client, callback, state=state)
    assert reply.status_code == 400
    assert "No se guardó nada" in reply.get_data(as_text=True)
    assert store_keys(redis) == []
    # A wrong guess spends the browser's pending authorization: the right state fails now too.
    assert client.get(local_path(callback)).status_code == 400
    assert store_keys(redis) == []


def test_replayed_state_is_refused(client, registry: StoreRegistry) -> None:
    authorize_url, _ = start(client)
    callback = authorize_in_sandbox(authorize_url)
    assert client.get(local_path(callback)).status_code == 303
    before = registry.get(STORE).access_token
    replay = client.get(local_path(callback))
    assert replay.status_code == 400
    assert registry.get(STORE).access_token == before


def test_state_from_another_browser_is_refused(app, client, redis) -> None:
    authorize_url, _ = start(client)
    callback = authorize_in_sandbox(authorize_url)
    other_browser = app.test_client()
    assert other_browser.get(local_path(callback)).status_code == 400
    assert store_keys(redis) == []


def test_replayed_code_is_refused_by_jumpseller_and_changes_nothing(
    client, registry: StoreRegistry
) -> None:
    authorize_url, _ = start(client)
    first_callback = authorize_in_sandbox(authorize_url)
    assert client.get(local_path(first_callback)).status_code == 303
    before = registry.get(STORE)
    _, state = start(client)  # a fresh, valid state, but the code was spent
    reply = callback_with(client, first_callback, state=state)
    assert reply.status_code == 400
    assert "autorización" in reply.get_data(as_text=True)
    after = registry.get(STORE)
    assert (after.access_token, after.refresh_token) == (before.access_token, before.refresh_token)


def test_denied_consent_saves_nothing(client, redis, sandbox: SandboxServer) -> None:
    sandbox.state.change_config({"auto_approve": False})
    try:
        authorize_url, _ = start(client)
        callback = authorize_in_sandbox(authorize_url, decision="deny")
    finally:
        sandbox.state.change_config({"auto_approve": True})
    assert parse_qs(urlsplit(callback).query)["error"] == ["access_denied"]
    reply = client.get(local_path(callback), headers={"Accept-Language": "en-US,en;q=0.9"})
    assert reply.status_code == 400
    assert "You did not approve the app" in reply.get_data(as_text=True)
    assert "frame-ancestors" in reply.headers["Content-Security-Policy"]
    assert store_keys(redis) == []
    assert not list(redis.scan_iter("rq:*"))  # no build was queued


def test_token_endpoint_down_saves_nothing(config: Config, redis: Redis) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config.JUMPSELLER_AUTH_URL = dead
    client = create_app(config, redis=redis).test_client()
    _, state = start(client)
    reply = client.get("/callback", query_string={"code": "some-code", "state": state})
    assert reply.status_code == 502
    assert "No se pudo contactar a Jumpseller" in reply.get_data(as_text=True)
    assert store_keys(redis) == []


def test_reconnecting_an_uninstalled_store_keeps_its_feed_url_and_settings(
    client, registry: StoreRegistry
) -> None:
    assert connect_store(client).status_code == 303
    feed_token = registry.get(STORE).first_feed.token
    options = FeedOptions(default_brand="Marca Propia", frequency_hours=6)
    registry.update_feed(STORE, "1", lambda feed: setattr(feed, "options", options))
    registry.mark_uninstalled(STORE, "Jumpseller refused the refresh token")
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="disconnected"' in html and "Volver a conectar" in html
    assert 'id="options-form"' not in html
    assert connect_store(client).status_code == 303
    store = registry.get(STORE)
    assert store.installed and store.first_feed.token == feed_token
    assert store.first_feed.options == options
    assert 'id="options-form"' in client.get("/").get_data(as_text=True)
