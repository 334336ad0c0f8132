"""The API client against the sandbox over HTTP: paging, faults, rate limits, bans."""

from __future__ import annotations

import socket
import time
from collections import deque

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig
from feedapp_dev.sandbox.catalogue import generate_catalogue

from feedapp.jumpseller import client as client_module
from feedapp.jumpseller.client import (
    ApiError,
    JumpsellerClient,
    _seconds_until,
    _unique,
    make_client,
)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(product_count=450, fault_seed=7)


def control(sandbox, path: str, payload: dict | None = None, method: str = "post") -> dict:
    reply = requests.request(method, f"{sandbox.url}/_sandbox/{path}", json=payload, timeout=10)
    reply.raise_for_status()
    return reply.json()


def slots(client: JumpsellerClient) -> tuple[int, int]:
    """(ended, in flight) request slots in the store's limiter log.

    An ended request's slot holds the moment it ended; one in flight holds a moment a whole slot
    TTL ahead, when it would be presumed ended.
    """
    seconds, micros = client.limiter.redis.time()
    soon = int(seconds) * 1000 + int(micros) // 1000 + 1000
    log = client.limiter.log_key
    redis = client.limiter.redis
    return int(redis.zcount(log, "-inf", soon)), int(redis.zcount(log, f"({soon}", "+inf"))


def expected_ids(count: int) -> list[int]:
    products, _ = generate_catalogue(count, seed=1, store_code="sandboxstore")
    return [p["id"] for p in products]


def test_pages_every_product_once_in_order(svc, installed, sandbox) -> None:
    client = make_client(svc, installed.code)
    seen: list[tuple[int, int]] = []
    ids = [p["id"] for p in client.products(progress=lambda d, t: seen.append((d, t)))]
    assert ids == expected_ids(450)
    assert seen[-1] == (5, 5)
    # count + 5 pages + the empty page that proves nothing was added meanwhile
    assert client.requests == 7 and client.rate_limited == 0
    assert slots(client) == (7 + 1, 0)  # and the install's store/info request


def test_faults_are_retried_to_the_same_result(svc, installed, sandbox) -> None:
    control(sandbox, "config", {"error_rate": 0.1, "drop_rate": 0.1, "malformed_rate": 0.1})
    client = make_client(svc, installed.code)
    client._sleep = lambda s: None  # backoff timing is not what this test measures
    for _ in range(4):
        assert [p["id"] for p in client.products()] == expected_ids(450)
    s = control(sandbox, "stats", method="get")
    assert s["server_errors"] and s["dropped"] and s["malformed"]
    assert slots(client)[1] == 0  # every attempt, failed or not, ended its slot


def test_persistent_failure_names_the_store(svc, installed, sandbox) -> None:
    control(sandbox, "config", {"error_rate": 1.0})
    client = make_client(svc, installed.code)
    client._sleep = lambda s: None
    with pytest.raises(ApiError, match="sandboxstore.*failed 6 times"):
        client.product_count()
    assert slots(client) == (6 + 1, 0)


@pytest.mark.parametrize("answer", ["refused", "silent"])
def test_requests_without_an_answer_end_their_slots(
    svc, installed, sandbox, monkeypatch, answer
) -> None:
    """A refused connection or a read timeout is retried, and each attempt ends its slot."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        if answer == "silent":
            listener.listen(8)  # accepts connections, never answers
        port = listener.getsockname()[1]
        client = make_client(svc, installed.code)
        client.api_url = f"http://127.0.0.1:{port}/v1"
        client._sleep = lambda s: None
        monkeypatch.setattr(client_module, "TIMEOUT", (2.0, 0.2))
        error = "ConnectionError" if answer == "refused" else "ReadTimeout"
        with pytest.raises(ApiError, match=f"failed 6 times.*no answer \\({error}\\)"):
            client.product_count()
    assert slots(client) == (6 + 1, 0)


def test_changes_while_paging_cause_no_duplicates(svc, installed, sandbox) -> None:
    client = make_client(svc, installed.code)
    client.workers = 1  # two pages in flight: later pages are read after the changes
    first = expected_ids(450)

    def churn(done: int, total: int) -> None:
        if done == 1:
            control(sandbox, f"stores/sandboxstore/products/{first[1]}", method="delete")
            for n in range(60):
                control(sandbox, "stores/sandboxstore/products", {"name": f"New {n}", "price": 990})

    ids = [p["id"] for p in client.products(progress=churn)]
    assert len(ids) == len(set(ids))
    new = set(ids) - set(first)
    assert len(new) == 60  # found by reading on past the counted pages to an empty page
    assert len(set(first) - set(ids)) <= 2  # the deleted one, and one a shifted page skipped


def test_learns_lower_limits_and_gets_no_429(svc, installed, sandbox) -> None:
    control(sandbox, "config", {"per_second": 4, "per_minute": 100})
    client = make_client(svc, installed.code)
    client.store_info()  # the first reply announces the store's real limits
    start = time.monotonic()
    for _ in range(12):
        client.get("products/count.json")
    assert time.monotonic() - start >= 2.0  # 12 requests at 4 a second
    assert control(sandbox, "stats", method="get")["rate_limited"] == 0


def test_429_is_waited_out_and_retried(svc, installed, sandbox, redis) -> None:
    control(sandbox, "config", {"per_second": 3, "per_minute": 800})
    client = make_client(svc, installed.code)
    # A limiter that believes the documented limits, racing: Jumpseller answers some 429s.
    client.limiter.observe = lambda headers: None
    ids = [p["id"] for p in client.products()]
    assert ids == expected_ids(450)
    assert client.rate_limited == control(sandbox, "stats", method="get")["rate_limited"] > 0
    assert slots(client)[1] == 0


def test_ban_reset_is_honoured(svc, installed, sandbox) -> None:
    control(
        sandbox, "config", {"per_second": 1, "per_minute": 800, "ban_after": 2, "ban_seconds": 2}
    )
    client = make_client(svc, installed.code)
    client.limiter.observe = lambda headers: None
    start = time.monotonic()
    for _ in range(6):
        client.get("products/count.json")
    assert control(sandbox, "stats", method="get")["bans"] >= 1
    assert time.monotonic() - start >= 2.0


def test_too_many_429s_stop_the_build_before_a_ban(svc, installed, sandbox) -> None:
    control(sandbox, "config", {"per_second": 1, "per_minute": 1})
    client = make_client(svc, installed.code)
    client.limiter.observe = lambda headers: None
    client.limiter.pause = lambda seconds: None
    client.max_rate_limited = 5
    with pytest.raises(ApiError, match="rate-limited"):
        for _ in range(10):
            client.get("products/count.json")
    assert control(sandbox, "stats", method="get")["rate_limited"] <= 6


def test_ban_reset_formats() -> None:
    soon = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 30))
    assert 28 <= _seconds_until(soon) <= 31
    assert 28 <= _seconds_until(soon.replace("T", " ").replace("+00:00", " UTC")) <= 31
    assert _seconds_until("garbage") == 60.0


def test_repeats_across_nearby_pages_are_dropped() -> None:
    # Each page repeats the next page's first product, as a shift during paging causes.
    seen: deque[set[object]] = deque(maxlen=4)
    pages = [[{"product": {"id": i}} for i in range(p * 3, p * 3 + 4)] for p in range(5)]
    ids = [product["id"] for rows in pages for product in _unique(rows, seen)]
    assert ids == list(range(16))
    assert len(seen) == 4  # memory stays bounded by the window, whatever the catalogue size
