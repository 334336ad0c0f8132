"""The Redis key layout: every key the app writes is named here, under KEY_PREFIX.

Other modules ask a Keyspace for a key (``keys.build_lock(code)``) instead of building one, so the
layout can be read, checked and changed in one place. The names are those deployments already
hold. RQ's own keys (``rq:*``) are RQ's business; the queue's name lives in builds/queueing.py.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

#: A Jumpseller store code. Codes end up in keys, paths and URLs, so only this strict shape.
STORE_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
#: What stands for each placeholder of LAYOUT in a key.
_PLACEHOLDERS = {"code": STORE_CODE.pattern, "digest": r"[0-9a-f]{64}"}

#: Every kind of key, as it follows KEY_PREFIX: {code} is a store code, {digest} a SHA-256 in hex.
LAYOUT: dict[str, str] = {
    # hash: the store's record (STORE_RECORD_FIELDS) and the documents kept beside it
    "store": "store:{code}",
    # set: the code of every store with a record
    "store_index": "stores",
    # string: the store code a feed token serves; a rotated token's expires after its grace
    "feed_token": "feedtoken:{digest}",
    # string: the running build's random token, kept alive by its heartbeat
    "build_lock": "lock:build:{code}",
    # string: the job id of the store's queued build
    "build_queued": "queued:{code}",
    # string: the store changed during its build, so one more build follows
    "build_dirty": "dirty:{code}",
    # sorted set: request slots scored by when each ended; one in flight scores sent + 120 s
    "rate_log": "ratelog:{code}",
    # string whose TTL pauses every request to the store's API
    "rate_pause": "ratepause:{code}",
    # hash: the request limits Jumpseller announced for the store
    "rate_limits": "ratelimits:{code}",
    # redis-py lock: one token refresh per store across all processes
    "refresh_lock": "lock:refresh:{code}",
    # string: an authorization's state, spent by /callback (set only there, expires with it)
    "oauth_spent": "oauth:spent:{digest}",
    # string (JSON): a page session (store, created), expiring at its absolute lifetime
    "session": "session:{digest}",
    # sorted set: a store's session ids scored by expiry, so they can all be ended at once
    "store_sessions": "sessions:{code}",
    # string: a webhook delivery already acted on, so a replay changes nothing
    "webhook_seen": "webhook:seen:{digest}",
    # list: product events not yet applied to the store's snapshot (feedapp/builds/updates.py)
    "webhook_events": "webhook:events:{code}",
    # string: more events came than the list keeps, so the next build pages everything
    "webhook_overflow": "webhook:overflow:{code}",
    # string: what the store's queued build must do: update, render or full
    "build_wanted": "wanted:{code}",
}

#: Fields of a store's hash that hold the record itself ("options": a record from before feeds
#: per market, read once and replaced by "feeds" on the next write).
STORE_RECORD_FIELDS = ("profile", "feeds", "secrets", "options")
#: JSON documents kept on the store's hash: build status and categories; "last_good" and
#: "diagnostics" are a store's from before feeds per market, read until its first feed is rebuilt.
STORE_DOCUMENTS = ("build", "last_good", "diagnostics", "categories")
#: Documents kept once per feed, as "<name>:<feed id>" (a feed id is 1 to 4 digits).
FEED_DOCUMENTS = ("last_good", "diagnostics")


def digest(secret: str) -> str:
    """Keys name secrets (feed tokens, OAuth nonces) by hash, so a Redis dump never reveals one."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _pattern(template: str) -> str:
    """A LAYOUT template as a regular expression: literal text escaped, placeholders filled."""
    pieces = re.split(r"\{(\w+)\}", template)  # literal text and placeholder names alternate
    return "".join(_PLACEHOLDERS[p] if i % 2 else re.escape(p) for i, p in enumerate(pieces))


@dataclass(frozen=True)
class Keyspace:
    """The keys of one installation, all under its KEY_PREFIX."""

    prefix: str = "feedapp:"

    def _key(self, kind: str, **parts: str) -> str:
        """Every key is built here, from LAYOUT, so none can drift from the declared patterns."""
        return self.prefix + LAYOUT[kind].format(**parts)

    def store(self, code: str) -> str:
        """The hash holding a store's record and documents."""
        return self._key("store", code=code)

    def store_index(self) -> str:
        """The set of every store code with a record."""
        return self._key("store_index")

    def feed_token(self, token: str) -> str:
        """Where a feed token (current, or rotated and in its grace period) finds its store."""
        return self._key("feed_token", digest=digest(token))

    def build_lock(self, code: str) -> str:
        """The lock a worker holds while it builds the store's feed."""
        return self._key("build_lock", code=code)

    def build_queued(self, code: str) -> str:
        """The marker (and job id) of the store's queued build."""
        return self._key("build_queued", code=code)

    def build_dirty(self, code: str) -> str:
        """The marker asking for one more build after the running one."""
        return self._key("build_dirty", code=code)

    def rate_log(self, code: str) -> str:
        """The store's request log the rate limiter reserves slots in."""
        return self._key("rate_log", code=code)

    def rate_pause(self, code: str) -> str:
        """The key whose TTL pauses every request to the store's API."""
        return self._key("rate_pause", code=code)

    def rate_limits(self, code: str) -> str:
        """The limits Jumpseller announced for the store."""
        return self._key("rate_limits", code=code)

    def refresh_lock(self, code: str) -> str:
        """The lock that lets one process at a time refresh the store's token."""
        return self._key("refresh_lock", code=code)

    def oauth_spent(self, state: str) -> str:
        """The marker that an authorization's state was used, so a callback works once."""
        return self._key("oauth_spent", digest=digest(state))

    def session(self, sid: str) -> str:
        """A page session, named by its id's hash."""
        return self._key("session", digest=digest(sid))

    def store_sessions(self, code: str) -> str:
        """The ids of a store's page sessions."""
        return self._key("store_sessions", code=code)

    def webhook_seen(self, code: str, delivery: str) -> str:
        """The marker of one webhook delivery to a store (event and body) already acted on."""
        return self._key("webhook_seen", digest=digest(f"{code}\n{delivery}"))

    def webhook_events(self, code: str) -> str:
        """The list of a store's product events waiting for the next update."""
        return self._key("webhook_events", code=code)

    def webhook_overflow(self, code: str) -> str:
        """The marker that a store's events overflowed their list."""
        return self._key("webhook_overflow", code=code)

    def build_wanted(self, code: str) -> str:
        """What the store's queued build must do."""
        return self._key("build_wanted", code=code)

    def of_store(self, code: str) -> list[str]:
        """Every key named after one store, so removing the store leaves none behind."""
        return [self._key(kind, code=code) for kind, t in LAYOUT.items() if "{code}" in t]

    def patterns(self) -> dict[str, re.Pattern[str]]:
        """A full-match pattern per kind of key, to check what a Redis really holds."""
        return {
            kind: re.compile(re.escape(self.prefix) + _pattern(template))
            for kind, template in LAYOUT.items()
        }

    def kind_of(self, key: str) -> str | None:
        """The kind of a key, or None when it is not one the app writes."""
        for kind, pattern in self.patterns().items():
            if pattern.fullmatch(key):
                return kind
        return None
