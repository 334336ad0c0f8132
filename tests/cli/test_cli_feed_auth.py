"""`flask feeds auth STORE --on|--off`: an operator password-protects a feed, or opens it again."""

from __future__ import annotations

import json
import re

import pytest
from published_feed import fetch, publish_feed

from feedapp.stores import Store


@pytest.fixture
def public_client(app, store: Store):
    """A client fetching the test store's published feed."""
    publish_feed(app.extensions["feedapp"].feeds_dir, store.code)
    return app.test_client()


def credentials(output: str) -> tuple[str, str]:
    """The username and password `--on` printed."""
    found = re.search(r"username: (\S+)\n\s+password: (\S+)\n", output)
    assert found, output
    return found.group(1), found.group(2)


def test_on_again_and_off(runner, store: Store, public_client) -> None:
    client = public_client
    url = runner.invoke(args=["feeds", "url", store.code]).output.strip()
    assert runner.invoke(args=["feeds", "auth", store.code]).output.startswith(
        f"{store.code}: feed password off"
    )

    on = runner.invoke(args=["feeds", "auth", store.code, "--on"])
    assert on.exit_code == 0, on.output
    user, password = credentials(on.output)
    assert user == f"feed-{store.code}" and len(password) >= 32
    assert "Merchant Center" in on.output and "Fetch settings" in on.output
    assert f"Feed URLs (unchanged):\n  {url}\n" in on.output

    refused = fetch(client, store)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="feed"'
    assert fetch(client, store, (user, "wrong")).status_code == 401
    assert fetch(client, store, (user, password)).status_code == 200

    # status, url and auth say it is on, never with the password
    status = runner.invoke(args=["feeds", "status", store.code])
    assert f"feed password: on (username {user}" in status.output
    as_json = json.loads(runner.invoke(args=["feeds", "status", "--json"]).output)
    assert as_json["password_protected"] is True
    shown = runner.invoke(args=["feeds", "url", store.code]).output
    assert url in shown and "Password protection: on" in shown
    plain = runner.invoke(args=["feeds", "auth", store.code]).output
    assert plain.startswith(f"{store.code}: feed password on")
    assert all(password not in text for text in (status.output, shown, plain, str(as_json)))

    again = runner.invoke(args=["feeds", "auth", store.code, "--on"])
    user2, password2 = credentials(again.output)
    assert user2 == user and password2 != password
    assert fetch(client, store, (user, password)).status_code == 401
    assert fetch(client, store, (user2, password2)).status_code == 200

    off = runner.invoke(args=["feeds", "auth", store.code, "--off"])
    assert off.exit_code == 0 and "no password" in off.output
    assert fetch(client, store).status_code == 200
    assert "feed password: off" in runner.invoke(args=["feeds", "status", store.code]).output
    assert runner.invoke(args=["feeds", "url", store.code]).output.strip() == url
    as_json = json.loads(runner.invoke(args=["feeds", "status", "--json"]).output)
    assert as_json["password_protected"] is False


def test_unknown_store(runner, store: Store) -> None:
    for flag in ("--on", "--off"):
        result = runner.invoke(args=["feeds", "auth", "nope", flag])
        assert result.exit_code == 1 and "No store 'nope'" in result.output
