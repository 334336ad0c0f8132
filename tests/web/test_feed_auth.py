"""The merchant password-protects the feed from the page; Merchant Center then needs it."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from published_feed import fetch, publish_feed
from redis import Redis

from feedapp.stores import Store, StoreRegistry
from feedapp.web.security import PageSession, open_session

EN = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture
def page(app, store: Store, registry: StoreRegistry) -> PageSession:
    """A signed-in page for the test store, whose categories are cached (no API call)."""
    registry.set_json(store.code, "categories", {"categories": []})
    with app.test_request_context():
        return open_session(store.code)


@pytest.fixture
def feed(app, store: Store) -> Path:
    """The test store's published feed.xml."""
    return publish_feed(app.extensions["feedapp"].feeds_dir, store.code)


def form(app, page: PageSession) -> dict[str, str]:
    """The page token and CSRF token every form of the page posts."""
    with app.test_request_context():
        return {"t": page.page_token, "csrf": page.csrf}


def show(client, app, page: PageSession) -> str:
    """The page as the merchant opens it."""
    reply = client.get("/", query_string={"t": form(app, page)["t"]}, headers=EN)
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def value(html: str, element_id: str) -> str:
    """The value of the input with this id."""
    match = re.search(rf'id="{re.escape(element_id)}" value="([^"]*)"', html)
    assert match, f"no input {element_id}"
    return unescape(match.group(1))


def turn_on(client, app, page: PageSession) -> tuple[str, str, str]:
    """Press "Turn on password protection"; the username, password and page shown."""
    reply = client.post("/settings/feed-password", data=form(app, page), headers=EN)
    assert reply.status_code == 200
    assert "no-store" in reply.headers["Cache-Control"]
    html = reply.get_data(as_text=True)
    return value(html, "feed-username"), value(html, "feed-password-value"), html


def assert_refused(reply) -> None:
    """Merchant Center is asked for credentials and gets no feed."""
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="feed"'
    assert b"<rss" not in reply.data


def test_protection_from_the_page_on_again_and_off(
    client, app, page: PageSession, store: Store, registry: StoreRegistry, feed: Path, redis: Redis
) -> None:
    before = show(client, app, page)
    assert 'id="feed-password-on"' in before and 'id="feed-credentials"' not in before
    assert fetch(client, store).status_code == 200

    user, password, html = turn_on(client, app, page)
    assert user == f"feed-{store.code}" and len(password) >= 32
    assert "Products > Feeds" in html and "fetch settings" in html  # where to paste them
    assert value(html, "feed-url") == value(before, "feed-url")  # the address stays the same
    assert 'id="feed-password-off"' in html

    assert_refused(fetch(client, store))
    assert_refused(fetch(client, store, (user, "wrong")))
    assert_refused(fetch(client, store, ("google", password)))
    allowed = fetch(client, store, (user, password))
    assert allowed.status_code == 200 and allowed.data == feed.read_bytes()

    # Shown once: neither the page nor the record (even decrypted) holds the password again.
    later = show(client, app, page)
    assert password not in later and user in later and 'id="feed-password-off"' in later
    record = redis.hgetall(registry.keys.store(store.code))
    assert password.encode() not in b"".join(record.values())
    assert password.encode() not in registry.cipher.decrypt(record[b"secrets"])

    # On again: a new password; the old one stops working.
    user2, password2, _ = turn_on(client, app, page)
    assert user2 == user and password2 != password
    assert_refused(fetch(client, store, (user, password)))
    assert fetch(client, store, (user2, password2)).status_code == 200

    off = client.post("/settings/feed-password/off", data=form(app, page))
    assert off.status_code == 303 and "notice=password-off" in off.headers["Location"]
    opened = fetch(client, store)
    assert opened.status_code == 200 and "WWW-Authenticate" not in opened.headers
    after = show(client, app, page)
    assert 'id="feed-password-on"' in after and value(after, "feed-url") == value(
        before, "feed-url"
    )


def test_a_forged_post_changes_nothing(
    client, app, page: PageSession, store: Store, registry: StoreRegistry, feed: Path
) -> None:
    forged = {"t": form(app, page)["t"], "csrf": "0" * 64}
    assert client.post("/settings/feed-password", data=forged).status_code == 400
    assert not registry.get(store.code).feed_protected
    assert fetch(client, store).status_code == 200

    registry.protect_feed(store.code)
    assert client.post("/settings/feed-password/off", data=forged).status_code == 400
    assert_refused(fetch(client, store))


def test_without_a_session_nothing_changes(client, store: Store, registry: StoreRegistry) -> None:
    assert client.post("/settings/feed-password", data={"csrf": "x"}).status_code == 401
    assert not registry.get(store.code).feed_protected
