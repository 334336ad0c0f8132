"""A per-store request limiter shared by all workers through Redis, so builds never see a 429."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from redis import Redis

from feedapp.keyspace import Keyspace

# Jumpseller counts a request when it arrives, at some moment between our sending it and our
# reading the answer (later than sent when the CPU or the network is busy). So a request counts
# here from its sending until a window after its completion: then no window at Jumpseller can
# hold more requests than the limit, however late they arrive. The log is a sorted set of slots
# scored by completion time (ms); a slot in flight is scored sent + slot_ttl, the latest moment
# its request is assumed to arrive, so it counts until it completes, or past that if its process
# died. KEYS[1] = log, KEYS[2] = a pause key whose TTL is the pause.
# ARGV: per_second, per_minute, second_window_ms, minute_window_ms, slot id, slot_ttl_ms.
# Returns 0 when the slot was reserved, else the ms to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return pause end
local win_m, ttl = tonumber(ARGV[4]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win_m)
local function wait(limit, win)
  local counted = redis.call('ZCOUNT', KEYS[1], now - win, '+inf')
  if counted < limit then return 0 end
  local first = redis.call('ZRANGEBYSCORE', KEYS[1], now - win, '+inf', 'WITHSCORES',
                           'LIMIT', counted - limit, 1)
  -- a slot still in flight counts for at least a whole window more, however soon it completes
  return math.max(1, math.min(tonumber(first[2]), now) + win - now)
end
local ms = wait(tonumber(ARGV[2]), win_m)
if ms == 0 then ms = wait(tonumber(ARGV[1]), tonumber(ARGV[3])) end
if ms > 0 then return ms end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[5])
redis.call('PEXPIRE', KEYS[1], ttl + win_m + 1000)
return 0
"""

# A request completed (answered, failed or timed out): its slot now counts until a window after
# this moment (rounded up). KEYS[1] = log. ARGV: slot id, the log's TTL in ms.
_COMPLETE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.ceil(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return now
"""


@dataclass(frozen=True)
class Limits:
    """Requests allowed per second and per minute for one store."""

    per_second: int = 20
    per_minute: int = 800


class RateLimitTimeout(RuntimeError):
    """Raised when no request slot opened within the allowed wait."""


class RateLimiter:
    """Reserves request slots for a store; every process building that store shares the log."""

    #: Margin on each window for the stamps' millisecond rounding and either convention for a
    #: window's edge. Late arrivals need none: a slot counts until its request has completed.
    MARGIN_MS = 20
    #: Seconds after which a slot whose request never completed (its process died) counts as
    #: completed: beyond any request's arrival (a token refresh may wait 45 s for another
    #: process's, then the connection up to 5 s).
    SLOT_TTL = 120.0

    def __init__(
        self,
        redis: Redis,
        store_code: str,
        prefix: str = "feedapp:",
        sleep: Callable[[float], None] = time.sleep,
        slot_ttl: float = SLOT_TTL,
    ) -> None:
        self.redis = redis
        self.code = store_code
        keys = Keyspace(prefix)
        self.log_key = keys.rate_log(store_code)
        self.pause_key = keys.rate_pause(store_code)
        self.limits_key = keys.rate_limits(store_code)
        self._acquire = redis.register_script(_ACQUIRE)
        self._complete = redis.register_script(_COMPLETE)
        self._sleep = sleep
        self._slot_ttl_ms = int(slot_ttl * 1000)

    def limits(self) -> Limits:
        """The store's limits as last announced by Jumpseller, else the documented ones."""
        raw = self.redis.hgetall(self.limits_key)
        if not raw:
            return Limits()
        return Limits(int(raw.get(b"per_second", 20)), int(raw.get(b"per_minute", 800)))

    @contextmanager
    def slot(self, max_wait: float = 600.0) -> Iterator[None]:
        """Hold a slot around one request, from before it is sent until it ends in any way."""
        slot = self.acquire(max_wait)
        try:
            yield
        finally:
            self.complete(slot)

    def acquire(self, max_wait: float = 600.0) -> str:
        """Block until a request may be sent; the slot to complete() once the request ends."""
        limits = self.limits()
        slot = uuid.uuid4().hex
        waited = 0.0
        while True:
            wait_ms = int(
                self._acquire(
                    keys=[self.log_key, self.pause_key],
                    args=[
                        limits.per_second,
                        limits.per_minute,
                        1000 + self.MARGIN_MS,
                        60_000 + self.MARGIN_MS,
                        slot,
                        self._slot_ttl_ms,
                    ],
                )
            )
            if wait_ms == 0:
                return slot
            if waited + wait_ms / 1000 > max_wait:
                raise RateLimitTimeout(
                    f"Store '{self.code}': no request slot within {max_wait:.0f}s; "
                    "Jumpseller's rate limit is exhausted by other clients."
                )
            self._sleep(wait_ms / 1000)
            waited += wait_ms / 1000

    def complete(self, slot: str) -> None:
        """The slot's request ended (answered, failed or timed out): it counts a window more."""
        log_ttl_ms = self._slot_ttl_ms + 60_000 + self.MARGIN_MS + 1000
        self._complete(keys=[self.log_key], args=[slot, log_ttl_ms])

    def record(self) -> None:
        """Count a request made outside slot() (the install's first call) against the quota."""
        self.complete(f"record-{uuid.uuid4().hex}")

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the store's real limits, and pause when someone else is spending its quota."""
        per_s = _int(headers.get("Jumpseller-PerSecondRateLimit-Limit"))
        per_m = _int(headers.get("Jumpseller-PerMinuteRateLimit-Limit"))
        current = self.limits()
        if per_s and per_m and (per_s, per_m) != (current.per_second, current.per_minute):
            current = Limits(per_s, per_m)
            self.redis.hset(self.limits_key, mapping={"per_second": per_s, "per_minute": per_m})
        left_s = _int(headers.get("Jumpseller-PerSecondRateLimit-Remaining"))
        left_m = _int(headers.get("Jumpseller-PerMinuteRateLimit-Remaining"))
        # Jumpseller counted more than we sent over a longer span (its window plus any transit
        # time): another client shares the quota, so wait instead of meeting a 429.
        if left_m is not None and left_m <= 1 and current.per_minute - left_m > self._ours(65):
            self.pause(60.0)
        elif left_s is not None and left_s <= 1 and current.per_second - left_s > self._ours(1.5):
            self.pause(1.0)

    def _ours(self, seconds: float) -> int:
        """How many of this store's requests are in flight or ended in the last few seconds."""
        now_ms = time.time() * 1000
        return int(self.redis.zcount(self.log_key, now_ms - seconds * 1000, "+inf"))

    def pause(self, seconds: float) -> None:
        """Stop every worker from sending for this store for a while (never shortens a pause)."""
        ms = int(seconds * 1000)
        if int(self.redis.pttl(self.pause_key)) < ms:
            self.redis.set(self.pause_key, 1, px=ms)


def _int(value: object) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
