"""Server-side page sessions: the server decides how long one lasts and can end a store's at once.

A browser holds only a random session id (in its cookie and in the page's signed tokens); the
session itself lives in Redis with an absolute lifetime that renewing tokens never extends. Each
store keeps the ids of its sessions, so an uninstall or a new authorization ends every one of them.
An ended session opens nothing; its record stays until it would have expired only so the page can
tell that browser why (the store was disconnected) instead of showing a blank connect page.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

from redis import Redis

from feedapp.keyspace import Keyspace

#: A session ends this long after the merchant connected, however active the page stays.
SESSION_LIFETIME_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    """One browser's proven link to a store, and when it was made."""

    sid: str
    store_code: str
    created: float
    ended: bool = False


class SessionStore:
    """Sessions of one installation, in its Redis under its key prefix."""

    def __init__(
        self, redis: Redis, keys: Keyspace, lifetime: int = SESSION_LIFETIME_SECONDS
    ) -> None:
        self.redis, self.keys, self.lifetime = redis, keys, lifetime

    def start(self, store_code: str) -> Session:
        """A new session for a store whose admin has just authorized this browser."""
        now = time.time()
        found = Session(secrets.token_urlsafe(24), store_code, now)
        index = self.keys.store_sessions(store_code)
        pipe = self.redis.pipeline()
        record = json.dumps({"store": store_code, "created": now})
        pipe.set(self.keys.session(found.sid), record, ex=self.lifetime)
        pipe.zremrangebyscore(index, "-inf", now)  # ids whose sessions expired on their own
        pipe.zadd(index, {found.sid: now + self.lifetime})
        pipe.expire(index, self.lifetime)
        pipe.execute()
        return found

    def find(self, sid: str, *, ended: bool = False) -> Session | None:
        """The live session with this id (or an ended one, when asked); None once expired."""
        if not sid or len(sid) > 64:
            return None
        raw = self.redis.get(self.keys.session(sid))
        if raw is None:
            return None
        try:
            record = json.loads(raw)
            found = Session(
                sid, str(record["store"]), float(record["created"]), bool(record.get("ended"))
            )
        except (ValueError, KeyError, TypeError):
            return None
        if time.time() >= found.created + self.lifetime or found.ended != ended:
            return None
        return found

    def end_store(self, store_code: str) -> int:
        """End every session of a store (uninstall, new authorization); how many were live."""
        index = self.keys.store_sessions(store_code)
        live = [
            found for sid in self.redis.zrange(index, 0, -1) if (found := self.find(sid.decode()))
        ]
        pipe = self.redis.pipeline()
        for found in live:
            record = {"store": store_code, "created": found.created, "ended": True}
            pipe.set(self.keys.session(found.sid), json.dumps(record), keepttl=True, xx=True)
        pipe.execute()
        return len(live)
