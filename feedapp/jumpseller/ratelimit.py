"""A per-store request limiter shared by all workers through Redis, so builds never see a 429."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from redis import Redis

# Sliding-log limiter over two windows. KEYS[1] = log (sorted set of reservation times, ms),
# KEYS[2] = a pause key whose TTL is the pause. ARGV: per_second, per_minute, second_window_ms,
# minute_window_ms, unique member. Returns 0 when a slot was reserved, else the ms to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return pause end
local per_s, per_m = tonumber(ARGV[1]), tonumber(ARGV[2])
local win_s, win_m = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win_m)
local in_minute = redis.call('ZCARD', KEYS[1])
if in_minute >= per_m then
  local oldest = redis.call('ZRANGE', KEYS[1], in_minute - per_m, in_minute - per_m, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + win_m - now)
end
local in_second = redis.call('ZCOUNT', KEYS[1], now - win_s, '+inf')
if in_second >= per_s then
  local recent = redis.call('ZRANGEBYSCORE', KEYS[1], now - win_s, '+inf', 'WITHSCORES',
                            'LIMIT', in_second - per_s, 1)
  return math.max(1, tonumber(recent[2]) + win_s - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], win_m + 1000)
return 0
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

    #: Safety margins on each window, so arrival jitter at Jumpseller never makes a window overfull.
    SECOND_MARGIN_MS = 120
    MINUTE_MARGIN_MS = 600

    def __init__(
        self,
        redis: Redis,
        store_code: str,
        prefix: str = "feedapp:",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.redis = redis
        self.code = store_code
        self.log_key = f"{prefix}ratelog:{store_code}"
        self.pause_key = f"{prefix}ratepause:{store_code}"
        self.limits_key = f"{prefix}ratelimits:{store_code}"
        self._script = redis.register_script(_ACQUIRE)
        self._sleep = sleep
        self._counter = 0

    def limits(self) -> Limits:
        """The store's limits as last announced by Jumpseller, else the documented ones."""
        raw = self.redis.hgetall(self.limits_key)
        if not raw:
            return Limits()
        return Limits(int(raw.get(b"per_second", 20)), int(raw.get(b"per_minute", 800)))

    def acquire(self, max_wait: float = 600.0) -> float:
        """Block until a request may be sent; returns the seconds waited."""
        limits = self.limits()
        waited = 0.0
        while True:
            self._counter += 1
            member = f"{time.time_ns()}-{id(self)}-{self._counter}"
            wait_ms = int(
                self._script(
                    keys=[self.log_key, self.pause_key],
                    args=[
                        limits.per_second,
                        limits.per_minute,
                        1000 + self.SECOND_MARGIN_MS,
                        60_000 + self.MINUTE_MARGIN_MS,
                        member,
                    ],
                )
            )
            if wait_ms == 0:
                return waited
            if waited + wait_ms / 1000 > max_wait:
                raise RateLimitTimeout(
                    f"Store '{self.code}': no request slot within {max_wait:.0f}s; "
                    "Jumpseller's rate limit is exhausted by other clients."
                )
            self._sleep(wait_ms / 1000)
            waited += wait_ms / 1000

    def record(self) -> None:
        """Count a request sent outside acquire() (the install's first call) against the quota."""
        seconds, micros = self.redis.time()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        self.redis.zadd(self.log_key, {f"{now_ms}-record-{id(self)}": now_ms})
        self.redis.pexpire(self.log_key, 60_000 + self.MINUTE_MARGIN_MS + 1000)

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
        """How many requests this store's builds sent in the last few seconds."""
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
