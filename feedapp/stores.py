"""Store registry in Redis: one record per Jumpseller store, secrets encrypted at rest."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import WatchError

from feedapp.feed.options import FeedOptions
from feedapp.keyspace import STORE_CODE, STORE_DOCUMENTS, Keyspace
from feedapp.sessions import SessionStore

OLD_FEED_TOKEN_GRACE = 48 * 3600
SECRET_FIELDS = (
    "access_token",
    "refresh_token",
    "hooks_token",
    "feed_token",
    "basic_password_sha256",
)
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
    feed_token: str = field(default="", repr=False)
    basic_password_sha256: str = field(default="", repr=False)
    options: FeedOptions = field(default_factory=FeedOptions)

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

    def profile(self) -> dict[str, object]:
        """The non-secret fields, as stored in clear."""
        skip = {*SECRET_FIELDS, "options"}
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
        store = Store(**{k: v for k, v in data.items() if k in known})
        store.options = FeedOptions.from_dict(json.loads(raw.get("options", "{}")))
        if raw.get("secrets"):
            try:
                plain = self.cipher.decrypt(raw["secrets"].encode())
            except InvalidToken as exc:
                raise TokenKeyError(
                    f"Store '{code}': no key in TOKEN_KEYS decrypts its tokens. "
                    "Restore the key that was removed, then run 'flask stores rotate-keys'."
                ) from exc
            for name, value in json.loads(plain).items():
                if name in SECRET_FIELDS:
                    setattr(store, name, value)
        return store

    def get(self, code: str) -> Store:
        """The store's record; raises UnknownStore with an actionable message."""
        store = self.find(code)
        if store is None:
            raise UnknownStore(code)
        return store

    def by_feed_token(self, token: str) -> Store | None:
        """The store whose current (or recently rotated) feed token this is."""
        if not token or len(token) > 128:
            return None
        code = self.redis.get(self.keys.feed_token(token))
        return self.find(code.decode()) if code else None

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
        if not store.feed_token:
            store.feed_token = secrets.token_urlsafe(32)
        if not store.installed_at:
            store.installed_at = time.time()
        secret_blob = json.dumps({name: getattr(store, name) for name in SECRET_FIELDS})
        pipe.hset(
            self.keys.store(store.code),
            mapping={
                "profile": json.dumps(store.profile(), sort_keys=True),
                "options": json.dumps(store.options.to_dict(), sort_keys=True),
                "secrets": self.cipher.encrypt(secret_blob.encode()).decode(),
            },
        )
        pipe.sadd(self.keys.store_index(), store.code)
        pipe.set(self.keys.feed_token(store.feed_token), store.code)

    def save_tokens(
        self, code: str, access_token: str, refresh_token: str, expires_at: float
    ) -> Store:
        """Store a refreshed token pair at once, before anyone uses the new refresh token."""

        def change(store: Store) -> None:
            store.access_token, store.refresh_token = access_token, refresh_token
            store.token_expires_at = expires_at
            store.token_lifetime = max(0.0, expires_at - time.time())

        return self.update(code, change)

    def save_options(self, code: str, options: FeedOptions) -> None:
        """Replace the feed options alone, leaving tokens untouched."""
        self.get(code)
        self.redis.hset(
            self.keys.store(code), "options", json.dumps(options.to_dict(), sort_keys=True)
        )

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

    def rotate_feed_token(self, code: str) -> Store:
        """Give the store a new feed URL; the old one keeps working for 48 hours."""
        store = self.get(code)
        old_key = self.keys.feed_token(store.feed_token)
        store.feed_token = secrets.token_urlsafe(32)
        self.save(store)
        self.redis.set(old_key, code, ex=OLD_FEED_TOKEN_GRACE)
        return store

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
        pipe.delete(*self.keys.of_store(code), self.keys.feed_token(store.feed_token))
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
    if name not in STORE_DOCUMENTS:
        raise ValueError(f"'{name}' is not a store document; add it to keyspace.STORE_DOCUMENTS.")
    return name


def masked(store: Store) -> dict[str, object]:
    """The record for display: secrets shown only as present or absent."""
    data = store.profile()
    for name in SECRET_FIELDS:
        data[name] = "(set)" if getattr(store, name) else "(none)"
    data["options"] = asdict(store.options)
    return data
