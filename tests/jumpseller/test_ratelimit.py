"""The shared limiter: never more than the limits in any window, across threads and clients."""

from __future__ import annotations

import threading
import time

from feedapp.jumpseller.ratelimit import Limits, RateLimiter


def reservations(redis, key: str) -> list[float]:
    return sorted(score / 1000 for _, score in redis.zrange(key, 0, -1, withscores=True))


def max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_per_second_limit_across_threads_and_limiters(redis) -> None:
    limiters = [RateLimiter(redis, "shop", prefix="t:") for _ in range(3)]
    redis.hset("t:ratelimits:shop", mapping={"per_second": 5, "per_minute": 100})
    sent: list[float] = []
    lock = threading.Lock()

    def worker(limiter: RateLimiter) -> None:
        for _ in range(5):
            limiter.acquire()
            with lock:
                sent.append(time.monotonic())

    threads = [threading.Thread(target=worker, args=(lim,)) for lim in limiters for _ in range(2)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent) == 30
    assert max_in_window(sorted(sent), 1.0) <= 5
    # 30 requests at 5 a second: at least 5 seconds, and not much more.
    assert 5.0 <= time.monotonic() - start < 7.5


def test_per_minute_limit_blocks_until_the_window_slides(redis) -> None:
    redis.hset("t:ratelimits:shop", mapping={"per_second": 100, "per_minute": 4})
    limiter = RateLimiter(redis, "shop", prefix="t:")
    for _ in range(4):
        assert limiter.acquire() == 0
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        raise TimeoutError

    limiter._sleep = sleep
    try:
        limiter.acquire(max_wait=600)
    except TimeoutError:
        pass
    assert slept and 59 < slept[0] <= 61


def test_learns_limits_from_headers(redis) -> None:
    limiter = RateLimiter(redis, "shop", prefix="t:")
    assert limiter.limits() == Limits(20, 800)
    limiter.observe(
        {"Jumpseller-PerSecondRateLimit-Limit": "5", "Jumpseller-PerMinuteRateLimit-Limit": "100"}
    )
    assert RateLimiter(redis, "shop", prefix="t:").limits() == Limits(5, 100)


def test_pauses_when_someone_else_spends_the_quota(redis) -> None:
    limiter = RateLimiter(redis, "shop", prefix="t:")
    limiter.observe(
        {
            "Jumpseller-PerSecondRateLimit-Remaining": "0",
            "Jumpseller-PerMinuteRateLimit-Remaining": "300",
        }
    )
    assert 900 <= redis.pttl("t:ratepause:shop") <= 1000
    limiter.observe({"Jumpseller-PerMinuteRateLimit-Remaining": "0"})
    assert redis.pttl("t:ratepause:shop") > 59_000


def test_our_own_full_window_does_not_pause(redis) -> None:
    redis.hset("t:ratelimits:shop", mapping={"per_second": 3, "per_minute": 100})
    limiter = RateLimiter(redis, "shop", prefix="t:")
    for _ in range(3):
        limiter.acquire()
    limiter.observe({"Jumpseller-PerSecondRateLimit-Remaining": "0"})
    assert redis.pttl("t:ratepause:shop") < 0


def test_stores_are_independent(redis) -> None:
    redis.hset("t:ratelimits:a", mapping={"per_second": 1, "per_minute": 1})
    a, b = RateLimiter(redis, "a", prefix="t:"), RateLimiter(redis, "b", prefix="t:")
    a.acquire()
    start = time.monotonic()
    for _ in range(10):
        b.acquire()
    assert time.monotonic() - start < 0.5
