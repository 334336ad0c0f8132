"""Injected faults on /v1: latency, 5xx, dropped connections and malformed JSON, from a seed."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig
from sandbox_server import SandboxServer


def _get(sandbox: SandboxServer, token: str, path: str = "/products.json") -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{sandbox.api_url}{path}", headers=headers, timeout=5)


def _stats(sandbox: SandboxServer) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()


def _outcome(sandbox: SandboxServer, token: str) -> str:
    try:
        reply = _get(sandbox, token)
    except requests.ConnectionError:
        return "dropped"
    if reply.status_code >= 500:
        return str(reply.status_code)
    try:
        reply.json()
    except json.JSONDecodeError:
        return f"malformed-{reply.status_code}"
    return str(reply.status_code)


def test_dropped_connection_is_a_connection_error_for_requests() -> None:
    with SandboxServer(SandboxConfig(product_count=5, drop_rate=1.0)) as sandbox:
        token = sandbox.authorize()["access_token"]  # faults never touch accounts
        with pytest.raises(requests.ConnectionError):
            _get(sandbox, token)
        with pytest.raises(requests.ConnectionError):
            _get(sandbox, token, "/products/count.json")
        stats = _stats(sandbox)
        assert stats["dropped"] == 2
        deadline = time.monotonic() + 2  # the client sees the drop before the server finishes
        while _stats(sandbox)["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _stats(sandbox)["in_flight"] == 0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_server_errors_are_502_or_503_with_rate_headers(seed: int) -> None:
    with SandboxServer(SandboxConfig(product_count=5, error_rate=1.0, fault_seed=seed)) as sb:
        token = sb.authorize()["access_token"]
        reply = _get(sb, token)
        assert reply.status_code in (502, 503)
        assert "Jumpseller-PerSecondRateLimit-Remaining" in reply.headers
        assert _stats(sb)["server_errors"] == 1


def test_malformed_reply_is_a_200_with_a_truncated_body() -> None:
    with SandboxServer(SandboxConfig(product_count=30, malformed_rate=1.0)) as sandbox:
        token = sandbox.authorize()["access_token"]
        reply = _get(sandbox, token)
        assert reply.status_code == 200
        assert int(reply.headers["Content-Length"]) == len(reply.content)
        assert reply.text.startswith('[{"product":')
        with pytest.raises(json.JSONDecodeError):
            json.loads(reply.content)
        assert _stats(sandbox)["malformed"] == 1


def test_latency_delays_each_reply() -> None:
    with SandboxServer(SandboxConfig(product_count=5, latency_ms=150)) as sandbox:
        token = sandbox.authorize()["access_token"]
        started = time.monotonic()
        assert _get(sandbox, token, "/products/count.json").status_code == 200
        assert time.monotonic() - started >= 0.15


def test_faults_follow_the_seed() -> None:
    def run(seed: int) -> list[str]:
        settings = SandboxConfig(
            product_count=5,
            drop_rate=0.25,
            error_rate=0.25,
            malformed_rate=0.25,
            fault_seed=seed,
            per_second=1000,
        )
        with SandboxServer(settings) as sandbox:
            token = sandbox.authorize()["access_token"]
            return [_outcome(sandbox, token) for _ in range(24)]

    first, again, other = run(11), run(11), run(12)
    assert first == again
    assert first != other
    assert {"dropped", "200", "malformed-200"} <= set(first)
    assert {"502", "503"} & set(first)


def test_faults_can_be_switched_on_and_off_at_run_time() -> None:
    with SandboxServer(SandboxConfig(product_count=5)) as sandbox:
        token = sandbox.authorize()["access_token"]
        assert _outcome(sandbox, token) == "200"
        set_rate = f"{sandbox.url}/_sandbox/config"
        requests.post(set_rate, json={"drop_rate": 1.0}, timeout=5)
        assert _outcome(sandbox, token) == "dropped"
        requests.post(set_rate, json={"drop_rate": 0}, timeout=5)
        assert _outcome(sandbox, token) == "200"


def test_threaded_server_serves_concurrent_slow_requests_in_parallel() -> None:
    settings = SandboxConfig(product_count=300, latency_ms=100, per_second=100)
    with SandboxServer(settings) as sandbox:
        token = sandbox.authorize()["access_token"]
        started = time.monotonic()
        with ThreadPoolExecutor(20) as pool:
            replies = list(pool.map(lambda _: _get(sandbox, token), range(20)))
        elapsed = time.monotonic() - started
        assert all(reply.status_code == 200 for reply in replies)
        assert elapsed < 1.5  # 20 x 100 ms one after another would take 2 s
        stats = _stats(sandbox)
        assert stats["max_concurrent"] >= 5
        assert stats["in_flight"] == 0
