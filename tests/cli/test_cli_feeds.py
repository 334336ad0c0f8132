"""`flask feeds ...` as an operator uses it: exit codes, messages naming the store, JSON status."""

from __future__ import annotations

import json

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(product_count=120)


def test_sync_rebuild_then_status(runner, installed) -> None:
    built = runner.invoke(args=["feeds", "rebuild", installed.code, "--sync"])
    assert built.exit_code == 0, built.output
    assert f"{installed.code}: published" in built.output
    status = runner.invoke(args=["feeds", "status", "--json"])
    info = json.loads(status.output.splitlines()[0])
    assert info["store"] == installed.code and info["state"] == "ok"
    assert info["items"] > 120 and info["finished_at"] >= info["started_at"]
    assert info["error"] is None and isinstance(info["problems"], dict)
    human = runner.invoke(args=["feeds", "status", installed.code])
    assert human.exit_code == 0 and "items" in human.output


def test_failed_sync_build_exits_1_and_keeps_the_feed(runner, installed, sandbox) -> None:
    assert runner.invoke(args=["feeds", "rebuild", installed.code, "--sync"]).exit_code == 0
    requests.post(f"{sandbox.url}/_sandbox/config", json={"error_rate": 1.0}, timeout=5)
    failed = runner.invoke(args=["feeds", "rebuild", installed.code, "--sync"])
    assert failed.exit_code == 1
    assert installed.code in failed.output and "failed" in failed.output
    info = json.loads(runner.invoke(args=["feeds", "status", "--json"]).output)
    assert info["state"] == "failed" and installed.code in info["error"]
    assert info["items"] > 120  # the last good feed is still there
    assert runner.invoke(args=["feeds", "status", installed.code]).exit_code == 1


def test_queue_rebuild_and_see_it_queued(runner, store) -> None:
    queued = runner.invoke(args=["feeds", "rebuild", "teststore"])
    assert queued.exit_code == 0 and "teststore: queued" in queued.output
    again = runner.invoke(args=["feeds", "rebuild", "--all"])
    assert "teststore: already-queued" in again.output
    info = json.loads(runner.invoke(args=["feeds", "status", "teststore", "--json"]).output)
    assert info["state"] == "queued" and info["job"]["status"] == "queued"


def test_unknown_store_and_missing_argument(runner, store) -> None:
    for args in (
        ["feeds", "rebuild", "nope"],
        ["feeds", "status", "nope"],
        ["feeds", "url", "nope"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and "nope" in result.output
    bare = runner.invoke(args=["feeds", "rebuild"])
    assert bare.exit_code == 1 and "--all" in bare.output


def test_url_and_rotation(runner, store, registry) -> None:
    old_token = store.first_feed.token
    url = runner.invoke(args=["feeds", "url", "teststore"]).output.strip()
    assert url == f"1 {store.first_feed.name}: http://127.0.0.1:5000/feeds/{old_token}.xml"
    rotated = runner.invoke(args=["feeds", "rotate-url", "teststore"])
    assert rotated.exit_code == 0 and "48 hours" in rotated.output
    new_token = registry.get("teststore").first_feed.token
    assert new_token != old_token and new_token in rotated.output
    found = registry.by_feed_token(old_token)
    assert found is not None and found[0].code == "teststore" and found[1].id == "1"


def test_due_rebuild_queues_only_due_stores(runner, store, registry) -> None:
    registry.set_json("teststore", "last_good", {"finished_at": 4102444800.0})
    fresh = runner.invoke(args=["feeds", "rebuild", "--due"])
    assert fresh.exit_code == 0 and "No store needs a build" in fresh.output
    registry.set_json("teststore", "last_good", {"finished_at": 1.0})
    due = runner.invoke(args=["feeds", "rebuild", "--due"])
    assert "teststore: queued" in due.output


def test_collapsed_feed_is_refused_until_forced(runner, installed, sandbox, svc) -> None:
    assert runner.invoke(args=["feeds", "rebuild", installed.code, "--sync"]).exit_code == 0
    reset = {"product_count": 30, "seed": 1}
    requests.post(f"{sandbox.url}/_sandbox/stores/{installed.code}/reset", json=reset, timeout=5)
    refused = runner.invoke(args=["feeds", "rebuild", installed.code, "--sync"])
    assert refused.exit_code == 1 and "fewer than half" in refused.output
    info = json.loads(runner.invoke(args=["feeds", "status", "--json"]).output)
    assert info["collapse"]["new"] < info["collapse"]["old"] / 2
    assert info["items"] == info["collapse"]["old"]  # Google still gets the whole old feed
    forced = runner.invoke(args=["feeds", "rebuild", installed.code, "--sync", "--force"])
    assert forced.exit_code == 0
    info = json.loads(runner.invoke(args=["feeds", "status", "--json"]).output)
    assert info["state"] == "ok" and info["items"] < 100 and info["collapse"] is None


def test_every_failure_kind_has_words_for_the_merchant() -> None:
    from feedapp.builds.status import error_kind
    from feedapp.feed.publishing import FeedCheckFailed, FeedCollapseRefused
    from feedapp.jumpseller.client import ApiError
    from feedapp.jumpseller.tokens import StoreRevoked, TokenError
    from feedapp.web import i18n

    failures = [
        ApiError("x"),
        TokenError("x"),
        StoreRevoked("x"),
        KeyError("x"),
        FeedCheckFailed("s", "bad"),
        FeedCollapseRefused("s", 10, 1),
    ]
    kinds = [error_kind(exc) for exc in failures]
    assert kinds == ["api", "token", "revoked", "unexpected", "check", "collapse"]
    for kind in kinds:
        if kind != "collapse":  # the page words a refused collapse with its own counts
            assert kind in i18n.ERROR_KINDS
