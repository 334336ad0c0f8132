"""The shared limiter: never more than the limits in any window, across threads and clients."""

from __future__ import annotations

import threading
import time

from feedapp.jumpseller.ratelimit import Limits, RateLimiter


def most_possible_arrivals(requests: list[tuple[float, float]], window: float) -> int:
    """The most requests that may have arrived inside one window of `window` seconds.

    Each request arrived at some unknown moment between its sending and its completion, so it
    may fall in the window [t, t + window) when sent < t + window and completed >= t.
    """
    # As a sweep: the request may land in the windows ending in (sent, completed + window].
    events = sorted(
        [(sent, 1) for sent, _ in requests] + [(ended + window, -1) for _, ended in requests],
        key=lambda event: (event[0], -event[1]),  # an opening at the same instant counts first
    )
    most = depth = 0
    for _, step in events:
        depth += step
        most = max(most, depth)
    return most


def test_most_possible_arrivals_counts_requests_that_may_share_a_window() -> None:
    # Sent a second apart, but the first arrived late: both may land in one window.
    assert most_possible_arrivals([(0.0, 0.3), (1.2, 1.25)], 1.0) == 2
    assert most_possible_arrivals([(0.0, 0.1), (1.2, 1.25)], 1.0) == 1


def test_slow_requests_never_crowd_a_window_across_threads_and_limiters(redis) -> None:
    """Requests that take long to reach Jumpseller: however late each arrives, never 11 a second."""
    limiters = [RateLimiter(redis, "shop", prefix="t:") for _ in range(3)]
    redis.hset("t:ratelimits:shop", mapping={"per_second": 10, "per_minute": 1000})
    done: list[tuple[float, float]] = []
    lock = threading.Lock()

    def worker(limiter: RateLimiter, transit: float) -> None:
        for _ in range(5):
            with limiter.slot():
                sent = time.monotonic()
                time.sleep(transit)  # the request on its way: Jumpseller counts it on arrival
                ended = time.monotonic()
            with lock:
                done.append((sent, ended))

    transits = [0.0, 0.1, 0.25, 0.4]
    threads = [
        threading.Thread(target=worker, args=(limiter, transits[(n + i) % len(transits)]))
        for n, limiter in enumerate(limiters)
        for i in range(2)
    ]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 30
    assert most_possible_arrivals(done, 1.0) <= 10
    # Each slot counts for its request's time plus a window: 30 requests at 10 per ~1.2 s.
    assert time.monotonic() - start < 6.0


def test_a_slot_counts_until_a_window_after_its_request_ends(redis) -> None:
    redis.hset("t:ratelimits:shop", mapping={"per_second": 2, "per_minute": 100})
    limiter = RateLimiter(redis, "shop", prefix="t:")
    slots = [limiter.acquire(), limiter.acquire()]
    third: list[float] = []

    def acquire_third() -> None:
        limiter.acquire()
        third.append(time.monotonic())

    waiting = threading.Thread(target=acquire_third)
    waiting.start()
    time.sleep(1.2)  # both requests in flight longer than a window: still counted
    ended = time.monotonic()
    for slot in slots:
        limiter.complete(slot)
    waiting.join()
    assert 1.0 <= third[0] - ended < 1.4


def test_a_slot_whose_request_never_ends_is_freed_after_its_ttl(redis) -> None:
    redis.hset("t:ratelimits:shop", mapping={"per_second": 2, "per_minute": 100})
    crashed = RateLimiter(redis, "shop", prefix="t:", slot_ttl=1.0)
    crashed.acquire()
    crashed.acquire()  # its process dies here: neither slot is ever completed
    start = time.monotonic()
    RateLimiter(redis, "shop", prefix="t:").acquire()
    # Counted as in flight for the TTL, then as completed for one more window; then free.
    assert 2.0 <= time.monotonic() - start < 2.5


def test_per_minute_limit_blocks_until_the_window_slides(redis) -> None:
    redis.hset("t:ratelimits:shop", mapping={"per_second": 100, "per_minute": 4})
    limiter = RateLimiter(redis, "shop", prefix="t:")
    for _ in range(4):
        with limiter.slot():
            pass
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
    for _ in range(2):
        with limiter.slot():
            pass
    with limiter.slot():  # the third reply says the window is full: all three are ours
        limiter.observe({"Jumpseller-PerSecondRateLimit-Remaining": "0"})
    assert redis.pttl("t:ratepause:shop") < 0


def test_stores_are_independent(redis) -> None:
    redis.hset("t:ratelimits:a", mapping={"per_second": 1, "per_minute": 1})
    a, b = RateLimiter(redis, "a", prefix="t:"), RateLimiter(redis, "b", prefix="t:")
    a.acquire()
    start = time.monotonic()
    for _ in range(10):
        with b.slot():
            pass
    assert time.monotonic() - start < 0.5
