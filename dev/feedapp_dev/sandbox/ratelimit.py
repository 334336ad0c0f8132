"""Jumpseller's per-store rate limits: sliding second and minute windows, then a ban."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from feedapp_dev.sandbox.config import SandboxConfig

ALLOWED = "allowed"
LIMITED = "limited"
BANNED = "banned"


@dataclass
class Verdict:
    """What to do with one request and the headers its reply must carry."""

    outcome: str
    headers: dict[str, str]
    ban_started: bool = False


@dataclass
class _Caller:
    second: deque[float] = field(default_factory=deque)
    minute: deque[float] = field(default_factory=deque)
    limited: int = 0
    banned_until: float = 0.0


class RateLimiter:
    """Counts accepted requests per key (a store, or an IP when there is no token).

    Only accepted requests fill the windows, so a caller that backs off recovers within a second.
    Not thread-safe by itself: the sandbox lock guards every call.
    """

    def __init__(self) -> None:
        self._callers: dict[str, _Caller] = {}

    def check(self, key: str, now: float, config: SandboxConfig) -> Verdict:
        """Admit or refuse one request made at `now`."""
        caller = self._callers.setdefault(key, _Caller())
        _trim(caller.second, now - 1.0)
        _trim(caller.minute, now - 60.0)
        if caller.banned_until > now:
            return Verdict(BANNED, self._headers(caller, config, caller.banned_until))
        if len(caller.second) >= config.per_second or len(caller.minute) >= config.per_minute:
            caller.limited += 1
            if caller.limited >= config.ban_after:
                caller.limited = 0
                caller.banned_until = now + config.ban_seconds
                return Verdict(BANNED, self._headers(caller, config, caller.banned_until), True)
            return Verdict(LIMITED, self._headers(caller, config))
        caller.second.append(now)
        caller.minute.append(now)
        return Verdict(ALLOWED, self._headers(caller, config))

    @staticmethod
    def _headers(
        caller: _Caller, config: SandboxConfig, ban: float | None = None
    ) -> dict[str, str]:
        headers = {
            "Jumpseller-PerSecondRateLimit-Limit": str(config.per_second),
            "Jumpseller-PerSecondRateLimit-Remaining": str(
                max(config.per_second - len(caller.second), 0)
            ),
            "Jumpseller-PerMinuteRateLimit-Limit": str(config.per_minute),
            "Jumpseller-PerMinuteRateLimit-Remaining": str(
                max(config.per_minute - len(caller.minute), 0)
            ),
        }
        if ban is not None:
            headers["Jumpseller-BannedByRateLimit-Reset"] = ban_reset_text(ban)
        return headers


def ban_reset_text(epoch: float) -> str:
    """The ban's end as the API docs show it: ISO 8601 in UTC, e.g. 2024-05-23T16:13:47+00:00."""
    return datetime.fromtimestamp(math.ceil(epoch), UTC).isoformat()


def _trim(window: deque[float], before: float) -> None:
    while window and window[0] <= before:
        window.popleft()
