"""The shared connections (Redis, store registry) one process needs, built once from settings."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

from redis import Redis

from config import REQUIRED
from feedapp.stores import StoreRegistry, make_fernet

#: Which settings each process cannot start without.
PROCESS_NEEDS: dict[str, tuple[str, ...]] = {
    "web": tuple(REQUIRED),
    "worker": ("REDIS_URL", "TOKEN_KEYS", "JUMPSELLER_CLIENT_ID", "JUMPSELLER_CLIENT_SECRET"),
    "scheduler": ("REDIS_URL", "TOKEN_KEYS"),
}


class Services:
    """Lazily-built handles, so creating them never touches the network."""

    def __init__(self, settings: Mapping[str, object], redis: Redis | None = None) -> None:
        self.settings = settings
        self._redis = redis

    @cached_property
    def redis(self) -> Redis:
        """The Redis client (connects on first command)."""
        if self._redis is not None:
            return self._redis
        return Redis.from_url(
            str(self.settings["REDIS_URL"]),
            socket_timeout=10,
            socket_connect_timeout=5,
            health_check_interval=30,
        )

    @cached_property
    def registry(self) -> StoreRegistry:
        """The store registry, with tokens encrypted under TOKEN_KEYS."""
        return StoreRegistry(
            self.redis,
            make_fernet(str(self.settings["TOKEN_KEYS"])),
            prefix=str(self.settings.get("KEY_PREFIX", "feedapp:")),
        )

    @property
    def feeds_dir(self) -> Path:
        """Where published feeds live (shared storage when web and workers are apart)."""
        return Path(str(self.settings["FEEDS_DIR"]))


def missing_settings(settings: Mapping[str, object], process: str) -> list[str]:
    """Required settings of this process that are empty."""
    return [name for name in PROCESS_NEEDS[process] if not settings.get(name)]


def require_settings(settings: Mapping[str, object], process: str) -> None:
    """Stop the process with one message naming every missing setting and what it is for."""
    missing = missing_settings(settings, process)
    if not missing:
        return
    lines = [f"feedapp {process} cannot start; these settings are missing:"]
    lines += [f"  {name}: {REQUIRED[name]}" for name in missing]
    lines.append("Set them in the environment (README, 'Configuration') and start it again.")
    print("\n".join(lines), file=sys.stderr)
    raise SystemExit(2)
