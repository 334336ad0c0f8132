"""Store registry: encryption at rest, key rotation, feed tokens, CLI views."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from feedapp.keyspace import Keyspace
from feedapp.sessions import SessionStore
from feedapp.stores import (
    OLD_FEED_TOKEN_GRACE,
    FeedLimitError,
    Store,
    StoreRegistry,
    TokenKeyError,
    UnknownFeed,
    make_fernet,
    valid_store_code,
)

SECRETS = ("access-123", "refresh-456", "hooks-789")


def dump(redis) -> bytes:
    """Every key and value in the test database, as raw bytes."""
    out = []
    for key in redis.scan_iter("*"):
        kind = redis.type(key)
        out.append(key)
        if kind == b"hash":
            for k, v in redis.hgetall(key).items():
                out += [k, v]
        elif kind == b"string":
            out.append(redis.get(key))
        elif kind == b"set":
            out += list(redis.smembers(key))
    return b"\n".join(out)


def test_no_secret_in_clear(store: Store, redis) -> None:
    raw = dump(redis)
    for secret in (*SECRETS, store.first_feed.token):
        assert secret.encode() not in raw
    assert b"teststore" in raw  # the dump really holds the record


def test_round_trip(store: Store, registry: StoreRegistry) -> None:
    again = registry.get("teststore")
    assert (again.access_token, again.refresh_token, again.hooks_token) == SECRETS
    assert again.first_feed.token == store.first_feed.token
    assert again.languages == ["es", "en"]


def test_feed_token_is_random_and_looked_up_by_hash(store: Store, registry: StoreRegistry) -> None:
    token = store.first_feed.token
    assert len(token) >= 43  # 256 bits, urlsafe base64
    assert "teststore" not in token
    found, feed = registry.by_feed_token(token)
    assert found.code == "teststore" and feed.id == "1"
    assert registry.by_feed_token("x" * 43) is None
    other = registry.save(Store(code="other"))
    assert other.first_feed.token != token


def test_rotate_feed_token_keeps_old_for_48_hours(store: Store, registry, redis) -> None:
    old = store.first_feed.token
    new = registry.rotate_feed_token("teststore", "1").token
    assert new != old
    assert registry.by_feed_token(new)[0].code == "teststore"
    assert registry.by_feed_token(old)[0].code == "teststore"
    ttls = [redis.ttl(k) for k in redis.scan_iter("feedapp-test:feedtoken:*")]
    assert sorted(t > 0 for t in ttls) == [False, True]
    assert OLD_FEED_TOKEN_GRACE - 5 <= max(ttls) <= OLD_FEED_TOKEN_GRACE


def test_key_rotation(store: Store, redis, config) -> None:
    (old_key,) = config.TOKEN_KEYS
    new_key = Fernet.generate_key().decode()
    keys = Keyspace(config.KEY_PREFIX)
    both = StoreRegistry(redis, make_fernet([new_key, old_key]), keys)
    assert both.get("teststore").access_token == "access-123"  # old key still decrypts
    assert both.rotate_keys() == 1
    only_new = StoreRegistry(redis, make_fernet([new_key]), keys)
    assert only_new.get("teststore").refresh_token == "refresh-456"
    only_old = StoreRegistry(redis, make_fernet([old_key]), keys)
    try:
        only_old.get("teststore")
    except TokenKeyError as exc:
        assert "teststore" in str(exc) and "TOKEN_KEYS" in str(exc)
    else:
        raise AssertionError("a removed key must not decrypt the rotated record")


def test_rotate_keys_cli(store: Store, app, redis, config) -> None:
    new_key = Fernet.generate_key().decode()
    config.TOKEN_KEYS = [new_key, *config.TOKEN_KEYS]
    app.extensions["feedapp"].__dict__.pop("registry", None)
    result = app.test_cli_runner().invoke(args=["stores", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 1 store" in result.output
    only_new = StoreRegistry(redis, make_fernet([new_key]), Keyspace(config.KEY_PREFIX))
    assert only_new.get("teststore").hooks_token == "hooks-789"


def test_uninstall_and_remove(store: Store, registry: StoreRegistry, redis) -> None:
    gone = registry.mark_uninstalled("teststore", "test")
    assert not gone.installed and gone.uninstalled_at
    assert registry.get("teststore").access_token == ""
    for key in registry.keys.of_store("teststore"):  # locks, markers, rate limiter state...
        redis.set(key, "x", nx=True)
    redis.delete(registry.keys.store_sessions("teststore"))
    page = SessionStore(redis, registry.keys).start("teststore")
    assert registry.remove("teststore")
    assert registry.find("teststore") is None
    assert registry.by_feed_token(store.first_feed.token) is None
    assert list(redis.scan_iter("feedapp-test:*teststore*")) == []
    assert SessionStore(redis, registry.keys).find(page.sid) is None  # no page outlives it


def test_store_codes_are_strict() -> None:
    assert valid_store_code("my-store_1")
    for bad in ("", "../etc", "Store", "a b", "a/b", "x" * 65):
        assert not valid_store_code(bad)


def test_malformed_token_keys_say_how_to_fix() -> None:
    try:
        make_fernet(["not-a-key"])
    except TokenKeyError as exc:
        assert "Fernet.generate_key" in str(exc)
    else:
        raise AssertionError("a malformed key must be refused")


def test_cli_list_show_remove(store: Store, runner) -> None:
    listed = runner.invoke(args=["stores", "list"])
    assert "teststore" in listed.output and "installed" in listed.output
    shown = runner.invoke(args=["stores", "show", "teststore"])
    assert shown.exit_code == 0
    assert '"access_token": "(set)"' in shown.output
    for secret in (*SECRETS, store.first_feed.token):
        assert secret not in shown.output
    missing = runner.invoke(args=["stores", "show", "nope"])
    assert missing.exit_code == 1 and "nope" in missing.output
    removed = runner.invoke(args=["stores", "remove", "teststore", "--yes"])
    assert removed.exit_code == 0 and "removed" in removed.output


def test_no_secret_in_clear_after_a_real_install_and_build(svc, installed, redis) -> None:
    from feedapp.builds import builder

    builder.build_feed(svc, installed.code)
    store = svc.registry.get(installed.code)
    assert store.hooks_token and store.refresh_token and store.access_token
    raw = dump(redis)
    for secret in (
        store.access_token,
        store.refresh_token,
        store.hooks_token,
        store.first_feed.token,
        installed.access_token,
        installed.refresh_token,
    ):
        assert secret.encode() not in raw
    assert svc.config.JUMPSELLER_CLIENT_SECRET.encode() not in raw


def test_a_store_from_before_feeds_per_market_keeps_its_url_file_and_options(
    app, registry: StoreRegistry, redis, config
) -> None:
    """A record in the format deployments hold today becomes a store with one feed, "1"."""
    cipher = make_fernet(config.TOKEN_KEYS)
    token = "Legacy-Feed-Token-0123456789abcdefghijklmnopqrstu"
    options = {"default_brand": "Marca Vieja", "frequency_hours": 6, "language": "en", "x": 1}
    secrets_blob = {
        "access_token": "a",
        "refresh_token": "r",
        "hooks_token": "h",
        "feed_token": token,
    }
    profile = {"code": "oldshop", "name": "Old Shop", "country": "CL", "languages": ["es", "en"]}
    key = registry.keys.store("oldshop")
    redis.hset(
        key,
        mapping={
            "profile": json.dumps(profile),
            "options": json.dumps(options),
            "secrets": cipher.encrypt(json.dumps(secrets_blob).encode()).decode(),
        },
    )
    redis.sadd(registry.keys.store_index(), "oldshop")
    redis.set(registry.keys.feed_token(token), "oldshop")  # the index named the store alone
    folder = config.FEEDS_DIR / "oldshop"  # where its one feed was published
    folder.mkdir(parents=True)
    xml = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Old</title></channel></rss>\n'
    (folder / "feed.xml").write_bytes(xml)

    store = registry.get("oldshop")
    (feed,) = store.feeds
    assert (feed.id, feed.token, feed.language, feed.country) == ("1", token, "en", "CL")
    assert feed.options.default_brand == "Marca Vieja" and feed.options.frequency_hours == 6
    assert store.access_token == "a" and store.hooks_token == "h"
    with app.test_client().get(f"/feeds/{token}.xml", buffered=True) as reply:
        assert reply.status_code == 200 and reply.data == xml

    registry.update("oldshop", lambda s: setattr(s, "name", "Old Shop Ltd"))  # any later write
    assert not redis.hexists(key, "options") and redis.hexists(key, "feeds")
    assert redis.get(registry.keys.feed_token(token)) == b"oldshop/1"
    again = registry.get("oldshop")
    assert again.first_feed.token == token and again.first_feed.options == feed.options
    with app.test_client().get(f"/feeds/{token}.xml", buffered=True) as reply:
        assert reply.data == xml
    assert token.encode() not in b"".join(redis.hvals(key))  # still encrypted at rest


def test_feeds_are_added_rotated_and_removed_one_by_one(store: Store, registry, redis) -> None:
    second = registry.add_feed(store.code, "Brasil (pt)", "pt", "BR")
    assert second.id == "2" and second.token not in (store.first_feed.token, "")
    found, feed = registry.by_feed_token(second.token)
    assert (found.code, feed.id, feed.language, feed.country) == ("teststore", "2", "pt", "BR")
    rotated = registry.rotate_feed_token(store.code, "2")
    assert registry.by_feed_token(second.token)[1].id == "2"  # the old URL in its grace period
    assert registry.by_feed_token(store.first_feed.token)[1].id == "1"  # others untouched
    registry.remove_feed(store.code, "2")
    assert registry.by_feed_token(rotated.token) is None
    assert [f.id for f in registry.get(store.code).feeds] == ["1"]
    with pytest.raises(FeedLimitError):
        registry.remove_feed(store.code, "1")
    with pytest.raises(UnknownFeed, match="flask feeds list teststore"):
        registry.get(store.code).feed("9")
    assert registry.add_feed(store.code, "", "es", "PE").name == "PE (es)"


def test_a_removed_feed_id_is_never_given_again(store: Store, registry) -> None:
    """A build running during a removal may still write the old id's files: nobody inherits them."""
    assert registry.add_feed(store.code, "", "es", "PE").id == "2"
    registry.remove_feed(store.code, "2")
    assert registry.add_feed(store.code, "", "es", "AR").id == "3"
    assert registry.get(store.code).first_feed.name == "CL"  # an install's first feed
