"""Store registry: encryption at rest, key rotation, feed tokens, CLI views."""

from __future__ import annotations

from cryptography.fernet import Fernet

from feedapp.keyspace import Keyspace
from feedapp.sessions import SessionStore
from feedapp.stores import (
    OLD_FEED_TOKEN_GRACE,
    Store,
    StoreRegistry,
    TokenKeyError,
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
    for secret in (*SECRETS, store.feed_token):
        assert secret.encode() not in raw
    assert b"teststore" in raw  # the dump really holds the record


def test_round_trip(store: Store, registry: StoreRegistry) -> None:
    again = registry.get("teststore")
    assert (again.access_token, again.refresh_token, again.hooks_token) == SECRETS
    assert again.feed_token == store.feed_token
    assert again.languages == ["es", "en"]


def test_feed_token_is_random_and_looked_up_by_hash(store: Store, registry: StoreRegistry) -> None:
    assert len(store.feed_token) >= 43  # 256 bits, urlsafe base64
    assert "teststore" not in store.feed_token
    assert registry.by_feed_token(store.feed_token).code == "teststore"
    assert registry.by_feed_token("x" * 43) is None
    other = registry.save(Store(code="other"))
    assert other.feed_token != store.feed_token


def test_rotate_feed_token_keeps_old_for_48_hours(store: Store, registry, redis) -> None:
    old = store.feed_token
    new = registry.rotate_feed_token("teststore").feed_token
    assert new != old
    assert registry.by_feed_token(new).code == "teststore"
    assert registry.by_feed_token(old).code == "teststore"
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
    assert registry.by_feed_token(store.feed_token) is None
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
    for secret in (*SECRETS, store.feed_token):
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
        store.feed_token,
        installed.access_token,
        installed.refresh_token,
    ):
        assert secret.encode() not in raw
    assert svc.config.JUMPSELLER_CLIENT_SECRET.encode() not in raw
