"""The settings and shared connections (Redis, key layout, store registry) of one process."""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path

from redis import Redis

from config import REQUIRED, Config, ConfigError
from feedapp.keyspace import Keyspace
from feedapp.stores import StoreRegistry, make_fernet

#: Which settings each process cannot start without ("operator": a `flask stores|feeds` command
#: that reads store records; "worker" also fits one that talks to Jumpseller).
PROCESS_NEEDS: dict[str, tuple[str, ...]] = {
    "web": tuple(REQUIRED),
    "worker": ("REDIS_URL", "TOKEN_KEYS", "JUMPSELLER_CLIENT_ID", "JUMPSELLER_CLIENT_SECRET"),
    "scheduler": ("REDIS_URL", "TOKEN_KEYS"),
    "operator": ("REDIS_URL", "TOKEN_KEYS"),
}


class Services:
    """The typed settings and lazily-built handles, so creating them never touches the network."""

    def __init__(self, config: Config, redis: Redis | None = None) -> None:
        self.config = config
        self._redis = redis

    @cached_property
    def redis(self) -> Redis:
        """The Redis client (connects on first command)."""
        if self._redis is not None:
            return self._redis
        if not self.config.REDIS_URL:  # redis-py would only say the URL has no scheme
            raise ConfigError(f"REDIS_URL is not set: {REQUIRED['REDIS_URL']}")
        return Redis.from_url(
            self.config.REDIS_URL,
            socket_timeout=10,
            socket_connect_timeout=5,
            health_check_interval=30,
        )

    @cached_property
    def keys(self) -> Keyspace:
        """Every Redis key this installation writes, under its KEY_PREFIX."""
        return Keyspace(self.config.KEY_PREFIX)

    @cached_property
    def registry(self) -> StoreRegistry:
        """The store registry, with tokens encrypted under TOKEN_KEYS."""
        return StoreRegistry(self.redis, make_fernet(self.config.TOKEN_KEYS), self.keys)

    @property
    def feeds_dir(self) -> Path:
        """Where published feeds live (shared storage when web and workers are apart)."""
        return self.config.FEEDS_DIR


def load_config() -> Config:
    """This process's settings; a malformed one stops it with one line naming the variable."""
    try:
        return Config()
    except ConfigError as exc:
        print(f"feedapp cannot start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def missing_settings(config: Config, process: str) -> list[str]:
    """Required settings of this process that are empty."""
    return [name for name in PROCESS_NEEDS[process] if not getattr(config, name)]


def require_settings(config: Config, process: str, what: str = "") -> None:
    """Stop the process with one message naming every missing setting and what it is for.

    `what` names the process or command in the message (by default "feedapp <process>"); the
    missing settings come last, so the message ends on a line that names one.
    """
    missing = missing_settings(config, process)
    if not missing:
        return
    lines = [
        f"{what or f'feedapp {process}'} cannot start; set these in the environment "
        "(README, 'Configuration'), then start it again; missing:"
    ]
    lines += [f"  {name}: {REQUIRED[name]}" for name in missing]
    print("\n".join(lines), file=sys.stderr)
    raise SystemExit(2)
