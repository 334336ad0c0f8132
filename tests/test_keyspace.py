"""The keyspace names every Redis key the app writes, with the names deployments already hold."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from feedapp_dev.sandbox import SandboxConfig
from redis import Redis

from feedapp.builds import builder, queueing
from feedapp.jumpseller.hooks import PATH, signature
from feedapp.keyspace import (
    FEED_DOCUMENTS,
    LAYOUT,
    STORE_DOCUMENTS,
    STORE_RECORD_FIELDS,
    Keyspace,
    digest,
)
from feedapp.sessions import SessionStore

#: The key of each kind as deployments hold it today (store "shop", secret "s"): no migration.
TODAY = {
    "store": "feedapp:store:shop",
    "store_index": "feedapp:stores",
    "feed_token": f"feedapp:feedtoken:{digest('s')}",
    "build_lock": "feedapp:lock:build:shop",
    "build_queued": "feedapp:queued:shop",
    "build_dirty": "feedapp:dirty:shop",
    "rate_log": "feedapp:ratelog:shop",
    "rate_pause": "feedapp:ratepause:shop",
    "rate_limits": "feedapp:ratelimits:shop",
    "refresh_lock": "feedapp:lock:refresh:shop",
    "oauth_spent": f"feedapp:oauth:spent:{digest('s')}",
    "session": f"feedapp:session:{digest('s')}",
    "store_sessions": "feedapp:sessions:shop",
    "webhook_seen": f"feedapp:webhook:seen:{digest('shop' + chr(10) + 's')}",
    "webhook_events": "feedapp:webhook:events:shop",
    "webhook_overflow": "feedapp:webhook:overflow:shop",
    "build_wanted": "feedapp:wanted:shop",
}


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Limits other than the documented ones, so the limiter records what Jumpseller announced."""
    return SandboxConfig(product_count=120, per_second=15, per_minute=700)


def test_key_names_are_those_deployments_hold() -> None:
    keys = Keyspace("feedapp:")
    assert set(TODAY) == set(LAYOUT)
    assert {kind: keys.kind_of(key) for kind, key in TODAY.items()} == {k: k for k in TODAY}
    assert keys.store("shop") == TODAY["store"] and keys.store_index() == TODAY["store_index"]
    assert keys.feed_token("s") == TODAY["feed_token"]
    assert keys.oauth_spent("s") == TODAY["oauth_spent"]
    assert keys.session("s") == TODAY["session"]
    assert keys.webhook_seen("shop", "s") == TODAY["webhook_seen"]
    per_store = {
        keys.build_lock: "build_lock",
        keys.build_queued: "build_queued",
        keys.build_dirty: "build_dirty",
        keys.rate_log: "rate_log",
        keys.rate_pause: "rate_pause",
        keys.rate_limits: "rate_limits",
        keys.refresh_lock: "refresh_lock",
        keys.store_sessions: "store_sessions",
        keys.webhook_events: "webhook_events",
        keys.webhook_overflow: "webhook_overflow",
        keys.build_wanted: "build_wanted",
    }
    for name, kind in per_store.items():
        assert name("shop") == TODAY[kind]
    assert sorted(keys.of_store("shop")) == sorted(
        key for kind, key in TODAY.items() if LAYOUT[kind].endswith("{code}")
    )


def test_patterns_refuse_what_is_not_a_key_of_ours() -> None:
    keys = Keyspace("feedapp:")
    for stray in (
        "feedapp:store:Shop",  # not a store code
        "feedapp:store:shop:extra",
        "feedapp:feedtoken:not-a-digest",
        "other:store:shop",
        "store:shop",
        "feedapp:installed:shop",
    ):
        assert keys.kind_of(stray) is None, stray


def our_keys(redis: Redis) -> set[str]:
    """Every key in the test database except RQ's own."""
    return {k.decode() for k in redis.scan_iter(count=1000)} - {
        k.decode() for k in redis.scan_iter("rq:*", count=1000)
    }


def test_every_key_written_is_declared(client, svc, installed, config, redis: Redis) -> None:
    """Install, build with a token refresh, spent callback, session, webhook, rotated URL."""
    code = installed.code
    keys = svc.keys
    seen: set[str] = set()
    # The access token has run out: the build refreshes it under the refresh lock.
    svc.registry.save_tokens(code, installed.access_token, installed.refresh_token, 0)

    def build() -> object:
        assert queueing.request_build(svc, code, reason="edit during the build") == "dirty"
        result = builder.build_feed(svc, code)
        seen.update(our_keys(redis))  # the build lock and the dirty marker exist only now
        return result

    assert queueing.run_with_lock(svc, code, build) is not None
    assert queueing.is_queued(svc, code)  # the follow-up build the dirty marker asked for
    started = client.get("/install")  # an authorization in progress: stored in the browser only
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    assert client.get("/callback", query_string={"state": state}).status_code == 400  # spent
    SessionStore(redis, keys).start(code)  # a merchant's page session
    body = json.dumps({"product": {"id": 1}}).encode()
    delivery = client.post(
        PATH,
        data=body,
        headers={
            "Jumpseller-Event": "product_updated",
            "Jumpseller-Store-Code": code,
            "Jumpseller-Hmac-Sha256": signature(body, svc.registry.get(code).hooks_token),
        },
    )
    assert delivery.status_code == 200
    svc.registry.rotate_feed_token(code, "1")  # the old URL keeps working for its grace period
    seen.update(our_keys(redis))

    outside = sorted(key for key in seen if not key.startswith(config.KEY_PREFIX))
    assert outside == [], "keys outside KEY_PREFIX"
    undeclared = sorted(key for key in seen if keys.kind_of(key) is None)
    assert undeclared == [], "keys the keyspace does not declare"
    kinds = {keys.kind_of(key) for key in seen}
    # Released at once; never paused; written only when a store's events overflow their list.
    expected = set(LAYOUT) - {"refresh_lock", "rate_pause", "webhook_overflow"}
    assert expected <= kinds, f"never written: {sorted(expected - kinds)}"
    assert sum(keys.kind_of(key) == "feed_token" for key in seen) == 2  # current and rotated
    fields = {f.decode() for f in redis.hkeys(keys.store(code))}
    per_feed = {
        f"{name}:{feed.id}" for name in FEED_DOCUMENTS for feed in svc.registry.get(code).feeds
    }
    assert fields <= {*STORE_RECORD_FIELDS, *STORE_DOCUMENTS, *per_feed}, "undeclared fields"
    assert {"build", "categories", "last_good:1", "diagnostics:1"} <= fields
