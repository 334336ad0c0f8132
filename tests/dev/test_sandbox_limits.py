"""Rate limits per store with Jumpseller's headers, and the ban after too many 429s."""

from __future__ import annotations

import time
from datetime import datetime

import requests
from feedapp_dev.sandbox import SandboxConfig
from sandbox_server import SandboxServer

BAN_HEADER = "Jumpseller-BannedByRateLimit-Reset"


def _get(sandbox: SandboxServer, token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{sandbox.api_url}/products/count.json", headers=headers, timeout=5)


def _stats(sandbox: SandboxServer) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()


def test_per_second_limit_gives_429_with_headers_then_recovers() -> None:
    with SandboxServer(SandboxConfig(product_count=1, per_second=5, per_minute=1000)) as sandbox:
        token = sandbox.authorize()["access_token"]
        replies = [_get(sandbox, token) for _ in range(8)]
        assert [r.status_code for r in replies] == [200] * 5 + [429] * 3
        remaining = [r.headers["Jumpseller-PerSecondRateLimit-Remaining"] for r in replies]
        assert remaining == ["4", "3", "2", "1", "0", "0", "0", "0"]
        for reply in replies:
            assert reply.headers["Jumpseller-PerSecondRateLimit-Limit"] == "5"
            assert reply.headers["Jumpseller-PerMinuteRateLimit-Limit"] == "1000"
            assert reply.headers["Jumpseller-PerMinuteRateLimit-Remaining"].isdigit()
            assert BAN_HEADER not in reply.headers
        assert replies[-1].json()["message"].startswith("Too Many Requests")
        assert replies[4].headers["Jumpseller-PerMinuteRateLimit-Remaining"] == "995"

        time.sleep(1.05)
        assert _get(sandbox, token).status_code == 200
        stats = _stats(sandbox)
        assert stats["requests"] == 9
        assert stats["rate_limited"] == 3


def test_per_minute_limit() -> None:
    with SandboxServer(SandboxConfig(product_count=1, per_second=100, per_minute=6)) as sandbox:
        token = sandbox.authorize()["access_token"]
        replies = [_get(sandbox, token) for _ in range(7)]
        assert [r.status_code for r in replies] == [200] * 6 + [429]
        assert replies[-1].headers["Jumpseller-PerMinuteRateLimit-Remaining"] == "0"
        assert replies[-1].headers["Jumpseller-PerSecondRateLimit-Remaining"] == "94"


def test_ban_after_too_many_429s_carries_the_reset_time() -> None:
    settings = SandboxConfig(product_count=1, per_second=2, ban_after=3, ban_seconds=60)
    with SandboxServer(settings) as sandbox:
        token = sandbox.authorize()["access_token"]
        replies = [_get(sandbox, token) for _ in range(5)]
        assert [r.status_code for r in replies] == [200, 200, 429, 429, 429]
        assert BAN_HEADER not in replies[3].headers
        reset = datetime.fromisoformat(replies[4].headers[BAN_HEADER])
        assert reset.tzinfo is not None and reset.utcoffset().total_seconds() == 0
        assert 55 <= reset.timestamp() - time.time() <= 62

        time.sleep(1.05)  # the per-second window is empty again, yet the ban holds
        banned = _get(sandbox, token)
        assert banned.status_code == 429
        assert banned.headers[BAN_HEADER] == replies[4].headers[BAN_HEADER]
        for header in ("PerSecondRateLimit-Limit", "PerMinuteRateLimit-Remaining"):
            assert f"Jumpseller-{header}" in banned.headers
        stats = _stats(sandbox)
        assert stats["bans"] == 1
        assert stats["rate_limited"] == 4


def test_ban_ends_after_ban_seconds() -> None:
    settings = SandboxConfig(product_count=1, per_second=1, ban_after=1, ban_seconds=1)
    with SandboxServer(settings) as sandbox:
        token = sandbox.authorize()["access_token"]
        assert _get(sandbox, token).status_code == 200
        assert BAN_HEADER in _get(sandbox, token).headers
        time.sleep(1.1)
        assert _get(sandbox, token).status_code == 200


def test_limits_are_per_store() -> None:
    with SandboxServer(SandboxConfig(product_count=1, per_second=3)) as sandbox:
        first = sandbox.authorize()["access_token"]
        requests.post(f"{sandbox.url}/_sandbox/config", json={"store_code": "otrastore"}, timeout=5)
        second = sandbox.authorize()["access_token"]
        assert [_get(sandbox, first).status_code for _ in range(4)] == [200, 200, 200, 429]
        other = _get(sandbox, second)
        assert other.status_code == 200
        assert other.headers["Jumpseller-PerSecondRateLimit-Remaining"] == "2"
        store = requests.get(
            f"{sandbox.api_url}/store/info.json",
            headers={"Authorization": f"Bearer {second}"},
            timeout=5,
        ).json()["store"]
        assert store["code"] == "otrastore"


def test_limits_change_at_run_time() -> None:
    with SandboxServer(SandboxConfig(product_count=1, per_second=2)) as sandbox:
        token = sandbox.authorize()["access_token"]
        assert [_get(sandbox, token).status_code for _ in range(3)] == [200, 200, 429]
        changed = requests.post(
            f"{sandbox.url}/_sandbox/config", json={"per_second": 50}, timeout=5
        )
        assert changed.json()["per_second"] == 50
        reply = _get(sandbox, token)
        assert reply.status_code == 200
        assert reply.headers["Jumpseller-PerSecondRateLimit-Limit"] == "50"
