"""Store registry in Redis: one record per Jumpseller store, secrets encrypted at rest.

A record holds the store's profile, its feeds (feedapp/storefeeds.py) and its secrets (OAuth
tokens, hooks token, each feed's URL token, the feed password's digest) encrypted with TOKEN_KEYS.
A record written before feeds per market (one "options" field, one "feed_token" secret) reads as a
store with one feed, its first, with the same URL and options; the next write stores it the new way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import WatchError

from feedapp.keyspace import FEED_DOCUMENTS, STORE_CODE, STORE_DOCUMENTS, Keyspace
from feedapp.sessions import SessionStore
from feedapp.storefeeds import (
    FEED_ID,
    FIRST_FEED,
    MAX_FEEDS,
    StoreFeed,
    default_name,
    migrated_first_feed,
    new_token,
    next_feed_id,
)

OLD_FEED_TOKEN_GRACE = 48 * 3600
SECRET_FIELDS = ("access_token", "refresh_token", "hooks_token", "basic_password_sha256")
#: The secrets blob's map of feed id -> feed URL token ("feed_token": the one token of old records).
FEED_TOKENS = "feed_tokens"
#: A protected feed's username is "feed-<store code>": readable in Merchant Center's settings;
#: the password alone carries the secret.
FEED_USER_PREFIX = "feed-"
#: Random bytes in a feed password (192 bits, sent as 32 URL-safe characters).
FEED_PASSWORD_BYTES = 24


class UnknownStore(LookupError):
    """Raised when a store code has no record, so callers can answer 404 or a CLI error."""

    def __init__(self, code: str) -> None:
        super().__init__(f"No store '{code}' is installed. List stores with 'flask stores list'.")
        self.code = code


class UnknownFeed(LookupError):
    """Raised when a store has no feed with that id, naming the command that lists them."""

    def __init__(self, code: str, feed_id: str) -> None:
        super().__init__(
            f"Store '{code}' has no feed '{feed_id}'. "
            f"List its feeds with 'flask feeds list {code}'."
        )
        self.code, self.feed_id = code, feed_id


class FeedLimitError(ValueError):
    """A store already has as many feeds as it may have, or would be left without one."""


class TokenKeyError(RuntimeError):
    """Raised when no configured key decrypts a record, naming the store and the fix."""


@dataclass(frozen=True)
class FeedCredentials:
    """A protected feed's username and password: in clear only on their way to the person, once."""

    username: str
    password: str = field(repr=False)


def feed_password_digest(password: str) -> str:
    """What a feed password is kept as: sha256, enough for 192 random bits (nothing to guess)."""
    return hashlib.sha256(password.encode()).hexdigest()


def valid_store_code(code: str) -> bool:
    """Store codes end up in Redis keys, paths and URLs: accept only a strict shape."""
    return bool(STORE_CODE.fullmatch(code or ""))


def make_fernet(keys: Sequence[str]) -> MultiFernet:
    """Build the cipher from the TOKEN_KEYS list, newest first."""
    if not keys:
        raise TokenKeyError("TOKEN_KEYS is empty: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise TokenKeyError(
            "TOKEN_KEYS holds a malformed key; generate one with `python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
        ) from exc


@dataclass
class Store:
    """Everything the app knows about one installed (or formerly installed) store."""

    code: str
    name: str = ""
    url: str = ""
    email: str = ""
    currency: str = "USD"
    country: str = ""
    timezone: str = ""
    weight_unit: str = "kg"
    languages: list[str] = field(default_factory=list)
    default_language: str = ""
    state: str = "installed"
    installed_at: float = 0.0
    uninstalled_at: float | None = None
    uninstall_reason: str = ""
    scopes: str = ""
    token_expires_at: float = 0.0
    token_lifetime: float = 3600.0
    #: Set while the feed is password-protected (HTTP Basic); empty means the feed is open.
    basic_user: str = ""
    # Secrets: kept encrypted in Redis, plain only in memory.
    access_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    hooks_token: str = field(default="", repr=False)
    basic_password_sha256: str = field(default="", repr=False)
    #: One feed per market; a saved store always has at least one (its first, id "1").
    feeds: list[StoreFeed] = field(default_factory=list)
    #: The highest feed id ever given, so a removed feed's id is never given again.
    last_feed_id: int = 0

    @property
    def installed(self) -> bool:
        """Uninstalled stores keep their record (and feed URL) for a reinstall."""
        return self.state == "installed"

    @property
    def feed_protected(self) -> bool:
        """Fetching the feed needs credentials (without a digest, none match: it fails closed)."""
        return bool(self.basic_user)

    def feed_credentials_match(self, username: str, password: str) -> bool:
        """Constant time, both halves always compared; digests, so no length or prefix leaks."""
        user_ok = hmac.compare_digest(username.encode(), self.basic_user.encode())
        digest = feed_password_digest(password).encode()
        password_ok = hmac.compare_digest(digest, self.basic_password_sha256.encode())
        return user_ok and password_ok and self.feed_protected

    def feed(self, feed_id: str) -> StoreFeed:
        """The store's feed with this id; UnknownFeed names the command that lists them."""
        for feed in self.feeds:
            if feed.id == feed_id:
                return feed
        raise UnknownFeed(self.code, feed_id)

    @property
    def first_feed(self) -> StoreFeed:
        """The store's first feed: a store from before feeds per market had only this one."""
        return self.feeds[0]

    def profile(self) -> dict[str, object]:
        """The non-secret fields, as stored in clear."""
        skip = {*SECRET_FIELDS, "feeds"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}


class StoreRegistry:
    """Reads and writes store records, under the keys the keyspace names."""

    def __init__(self, redis: Redis, cipher: MultiFernet, keys: Keyspace) -> None:
        self.redis = redis
        self.cipher = cipher
        self.keys = keys

    # -- reading ----------------------------------------------------------------------------
    def codes(self) -> list[str]:
        """Every store code with a record, sorted."""
        return sorted(
            c.decode() if isinstance(c, bytes) else c
            for c in self.redis.smembers(self.keys.store_index())
        )

    def __iter__(self) -> Iterator[Store]:
        for code in self.codes():
            store = self.find(code)
            if store is not None:
                yield store

    def find(self, code: str) -> Store | None:
        """The store's record, or None when it has none."""
        return self._read(self.redis, code)

    def _read(self, conn: Redis | Pipeline, code: str) -> Store | None:
        """The record read through `conn` (a pipeline watching it, for update())."""
        if not valid_store_code(code):
            return None
        raw = conn.hgetall(self.keys.store(code))
        if not raw:
            return None
        raw = {k.decode(): v.decode() for k, v in raw.items()}
        data = json.loads(raw.get("profile", "{}"))
        known = {f.name for f in fields(Store)}
        store = Store(**{k: v for k, v in data.items() if k in known and k != "feeds"})
        secret: dict[str, object] = {}
        if raw.get("secrets"):
            try:
                plain = self.cipher.decrypt(raw["secrets"].encode())
            except InvalidToken as exc:
                raise TokenKeyError(
                    f"Store '{code}': no key in TOKEN_KEYS decrypts its tokens. "
                    "Restore the key that was removed, then run 'flask stores rotate-keys'."
                ) from exc
            secret = json.loads(plain)
            for name, value in secret.items():
                if name in SECRET_FIELDS:
                    setattr(store, name, value)
        tokens = secret.get(FEED_TOKENS)
        tokens = tokens if isinstance(tokens, dict) else {}
        if "feeds" in raw:
            store.feeds = [
                StoreFeed.from_dict(item, str(tokens.get(str(item.get("id")), "")))
                for item in json.loads(raw["feeds"])
                if isinstance(item, dict)
            ]
        else:  # a record from before feeds per market: its one feed, same URL and options
            options = json.loads(raw.get("options", "{}"))
            token = str(secret.get("feed_token") or "")
            store.feeds = [migrated_first_feed(options, token, store.country)]
        return store

    def get(self, code: str) -> Store:
        """The store's record; raises UnknownStore with an actionable message."""
        store = self.find(code)
        if store is None:
            raise UnknownStore(code)
        return store

    def by_feed_token(self, token: str) -> tuple[Store, StoreFeed] | None:
        """The store and feed whose current (or recently rotated) URL token this is."""
        if not token or len(token) > 128:
            return None
        found = self.redis.get(self.keys.feed_token(token))
        if not found:
            return None
        # "code/feed id"; a token indexed before feeds per market names the store alone.
        code, _, feed_id = found.decode().partition("/")
        store = self.find(code)
        if store is None:
            return None
        try:
            return store, store.feed(feed_id or FIRST_FEED)
        except UnknownFeed:  # a removed feed's token, still in its grace period
            return None

    # -- writing ----------------------------------------------------------------------------
    def save(self, store: Store) -> Store:
        """Write the whole record; gives a new store its feed token on first save."""
        pipe = self.redis.pipeline()
        self._write(pipe, store)
        pipe.execute()
        return store

    def update(self, code: str, change: Callable[[Store], None]) -> Store:
        """Apply `change` to the current record and save it, never over a concurrent write.

        The record is read while Redis watches it and written in one transaction; if anyone
        wrote it meanwhile (a token refresh saving a rotated refresh token), it is read again.
        """
        key = self.keys.store(code)
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    store = self._read(pipe, code)
                    if store is None:
                        raise UnknownStore(code)
                    change(store)
                    pipe.multi()
                    self._write(pipe, store)
                    pipe.execute()
                    return store
                except WatchError:
                    continue

    def _write(self, pipe: Pipeline, store: Store) -> None:
        """Queue the whole record's writes on `pipe` (the caller executes them)."""
        if not valid_store_code(store.code):
            raise ValueError(f"'{store.code}' is not a valid Jumpseller store code.")
        if not store.feeds:  # a new store: its first feed, for its own country and language
            store.feeds = [
                StoreFeed(FIRST_FEED, default_name("", store.country), country=store.country)
            ]
        for feed in store.feeds:
            feed.token = feed.token or new_token()
        if not store.installed_at:
            store.installed_at = time.time()
        secret = {name: getattr(store, name) for name in SECRET_FIELDS}
        secret[FEED_TOKENS] = {feed.id: feed.token for feed in store.feeds}
        key = self.keys.store(store.code)
        pipe.hset(
            key,
            mapping={
                "profile": json.dumps(store.profile(), sort_keys=True),
                "feeds": json.dumps([f.to_dict() for f in store.feeds], sort_keys=True),
                "secrets": self.cipher.encrypt(json.dumps(secret).encode()).decode(),
            },
        )
        pipe.hdel(key, "options")  # the record from before feeds per market, now in "feeds"
        pipe.sadd(self.keys.store_index(), store.code)
        for feed in store.feeds:
            pipe.set(self.keys.feed_token(feed.token), f"{store.code}/{feed.id}")

    def save_tokens(
        self, code: str, access_token: str, refresh_token: str, expires_at: float
    ) -> Store:
        """Store a refreshed token pair at once, before anyone uses the new refresh token."""

        def change(store: Store) -> None:
            store.access_token, store.refresh_token = access_token, refresh_token
            store.token_expires_at = expires_at
            store.token_lifetime = max(0.0, expires_at - time.time())

        return self.update(code, change)

    def update_feed(self, code: str, feed_id: str, change: Callable[[StoreFeed], None]) -> Store:
        """Apply `change` to one feed of the store, in one transaction with the whole record."""
        return self.update(code, lambda store: change(store.feed(feed_id)))

    def add_feed(self, code: str, name: str, language: str, country: str) -> StoreFeed:
        """A new feed with today's default options and its own secret URL."""
        added: list[StoreFeed] = []

        def add(store: Store) -> None:
            if len(store.feeds) >= MAX_FEEDS:
                raise FeedLimitError(f"Store '{code}' already has {MAX_FEEDS} feeds, the most.")
            feed = StoreFeed(
                next_feed_id(store.feeds, store.last_feed_id),
                name or default_name(language, country),
                language,
                country,
                new_token(),
            )
            store.feeds.append(feed)
            store.last_feed_id = int(feed.id)
            added[:] = [feed]

        self.update(code, add)
        return added[0]

    def remove_feed(self, code: str, feed_id: str) -> StoreFeed:
        """Remove one feed; its URL answers 404 at once. A store keeps at least one feed."""
        removed: list[StoreFeed] = []

        def remove(store: Store) -> None:
            feed = store.feed(feed_id)
            if len(store.feeds) == 1:
                raise FeedLimitError(f"Feed '{feed_id}' is the only feed of store '{code}'.")
            store.feeds.remove(feed)
            removed[:] = [feed]

        self.update(code, remove)
        self.redis.delete(self.keys.feed_token(removed[0].token))
        for name in FEED_DOCUMENTS:
            self.redis.hdel(self.keys.store(code), f"{name}:{feed_id}")
        return removed[0]

    def mark_uninstalled(self, code: str, reason: str) -> Store:
        """Record that the merchant removed the app; the feed URL stops serving (410)."""

        def uninstall(store: Store) -> None:
            store.state, store.uninstalled_at, store.uninstall_reason = (
                "uninstalled",
                time.time(),
                reason,
            )
            store.access_token = store.refresh_token = ""

        saved = self.update(code, uninstall)
        SessionStore(self.redis, self.keys).end_store(code)  # nobody manages what was removed
        return saved

    def rotate_feed_token(self, code: str, feed_id: str) -> StoreFeed:
        """Give a feed a new URL; the old one keeps working for 48 hours."""
        old: list[str] = []

        def rotate(feed: StoreFeed) -> None:
            old[:] = [feed.token]
            feed.token = new_token()

        store = self.update_feed(code, feed_id, rotate)
        self.redis.set(self.keys.feed_token(old[0]), f"{code}/{feed_id}", ex=OLD_FEED_TOKEN_GRACE)
        return store.feed(feed_id)

    def protect_feed(self, code: str) -> FeedCredentials:
        """Make fetching the feed need a username and a new password, returned this once.

        Only the password's digest is kept: checking a fetch needs nothing more, and nobody (an
        operator with the keys included) can read it back. Turning it on again replaces it.
        """
        credentials = FeedCredentials(
            f"{FEED_USER_PREFIX}{code}", secrets.token_urlsafe(FEED_PASSWORD_BYTES)
        )

        def change(store: Store) -> None:
            store.basic_user = credentials.username
            store.basic_password_sha256 = feed_password_digest(credentials.password)

        self.update(code, change)
        return credentials

    def unprotect_feed(self, code: str) -> Store:
        """Serve the feed without a password again (at the same URL)."""

        def change(store: Store) -> None:
            store.basic_user = store.basic_password_sha256 = ""

        return self.update(code, change)

    def remove(self, code: str) -> bool:
        """Delete a store's record, its feed token index and every other key named after it."""
        store = self.find(code)
        if store is None:
            return False
        SessionStore(self.redis, self.keys).end_store(code)
        pipe = self.redis.pipeline()
        pipe.delete(
            *self.keys.of_store(code), *(self.keys.feed_token(f.token) for f in store.feeds)
        )
        pipe.srem(self.keys.store_index(), code)
        pipe.execute()
        return True

    def rotate_keys(self) -> int:
        """Re-encrypt every record with the newest TOKEN_KEYS key; returns how many."""
        count = 0
        for code in self.codes():
            blob = self.redis.hget(self.keys.store(code), "secrets")
            if not blob:
                continue
            try:
                rotated = self.cipher.rotate(blob)
            except InvalidToken as exc:
                raise TokenKeyError(
                    f"Store '{code}': no key in TOKEN_KEYS decrypts its tokens; "
                    "add back the old key before rotating."
                ) from exc
            self.redis.hset(self.keys.store(code), "secrets", rotated)
            count += 1
        return count

    # -- build status, stored beside the record ---------------------------------------------
    def set_json(self, code: str, name: str, value: dict[str, object]) -> None:
        """Keep a JSON document (one of the keyspace's STORE_DOCUMENTS) on the store's hash."""
        self.redis.hset(self.keys.store(code), _document(name), json.dumps(value, sort_keys=True))

    def get_json(self, code: str, name: str) -> dict[str, object] | None:
        """Read a JSON document written by set_json."""
        raw = self.redis.hget(self.keys.store(code), _document(name))
        return json.loads(raw) if raw else None


def _document(name: str) -> str:
    """A document name the keyspace declares; any other would put a stray field on the hash."""
    kind, _, feed_id = name.partition(":")
    if feed_id and kind in FEED_DOCUMENTS and FEED_ID.fullmatch(feed_id):
        return name
    if name not in STORE_DOCUMENTS:
        raise ValueError(f"'{name}' is not a store document; add it to keyspace.STORE_DOCUMENTS.")
    return name


def masked(store: Store) -> dict[str, object]:
    """The record for display: secrets shown only as present or absent."""
    data = store.profile()
    for name in SECRET_FIELDS:
        data[name] = "(set)" if getattr(store, name) else "(none)"
    data["feeds"] = [{**feed.to_dict(), "token": "(set)"} for feed in store.feeds]
    return data
