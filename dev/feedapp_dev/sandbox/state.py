"""Everything the sandbox remembers, in one object behind one lock, so threads see one world."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from feedapp_dev.sandbox.config import SandboxConfig
from feedapp_dev.sandbox.grants import GrantBook
from feedapp_dev.sandbox.ratelimit import RateLimiter
from feedapp_dev.sandbox.store import SandboxStore

DROP = "drop"
MALFORMED = "malformed"


@dataclass
class Stats:
    """Counters the control API reports, so tests can prove how a client behaved."""

    requests: int = 0
    rate_limited: int = 0
    bans: int = 0
    unauthorized: int = 0
    dropped: int = 0
    server_errors: int = 0
    malformed: int = 0
    in_flight: int = 0
    max_concurrent: int = 0
    token_grants: dict[str, int] = field(default_factory=dict)
    webhooks: list[dict] = field(default_factory=list)


class SandboxState:
    """Stores, grants, limits, faults and stats; take `lock` around any read or change."""

    def __init__(self, config: SandboxConfig):
        self.lock = threading.RLock()
        self.config = config
        self.stores: dict[str, SandboxStore] = {}
        self.grants = GrantBook()
        self.limiter = RateLimiter()
        self.stats = Stats()
        self._faults = random.Random(config.fault_seed)
        self.store(config.store_code)

    def store(self, code: str) -> SandboxStore:
        """The store with this code, created from the config' catalogue knobs if new."""
        with self.lock:
            if code not in self.stores:
                s = self.config
                name = s.store_name if code == s.store_code else f"Tienda {code}"
                self.stores[code] = SandboxStore(
                    code, name, s.product_count, s.seed, s.currency, s.hostile_share, s.languages
                )
            return self.stores[code]

    def change_config(self, changes: dict[str, object]) -> SandboxConfig:
        """Apply run-time changes (ValueError if invalid); a new fault_seed restarts the faults."""
        with self.lock:
            self.config = self.config.changed(changes)
            if "fault_seed" in changes:
                self._faults = random.Random(self.config.fault_seed)
            self.store(self.config.store_code)
            return self.config

    def draw_fault(self) -> str | int | None:
        """The next fault from the seeded sequence: DROP, a 5xx status, MALFORMED or None."""
        with self.lock:
            s = self.config
            if not (s.drop_rate or s.error_rate or s.malformed_rate):
                return None
            roll = self._faults.random()
            if roll < s.drop_rate:
                return DROP
            roll -= s.drop_rate
            if roll < s.error_rate:
                return self._faults.choice((502, 503))
            roll -= s.error_rate
            return MALFORMED if roll < s.malformed_rate else None

    def snapshot(self) -> dict[str, object]:
        """Stats as JSON, with refresh-token use counts so reuse can be proven or ruled out."""
        with self.lock:
            uses = self.grants.refresh_uses
            return {
                **{k: v for k, v in vars(self.stats).items() if k != "webhooks"},
                "refresh_token_uses": dict(uses),
                "refresh_tokens_reused": sum(1 for n in uses.values() if n > 1),
                "max_refresh_token_uses": max(uses.values(), default=0),
                "webhooks": list(self.stats.webhooks),
            }
