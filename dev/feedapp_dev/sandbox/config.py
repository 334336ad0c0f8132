"""Knobs of the sandbox Jumpseller: credentials, limits and faults, changeable while it runs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from feedapp_dev.sandbox.vocabulary import LANGUAGE_NAMES


@dataclass
class SandboxConfig:
    """How the sandbox behaves; tests and benchmarks tune it, defaults match live Jumpseller."""

    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"  # noqa: S105 - a well-known sandbox credential
    app_url: str = "http://127.0.0.1:5000/"
    redirect_uris: list[str] = field(
        default_factory=lambda: ["http://127.0.0.1:5000/callback", "urn:ietf:wg:oauth:2.0:oob"]
    )
    auto_approve: bool = False
    token_ttl_seconds: int = 3600
    code_ttl_seconds: int = 600
    #: Doorkeeper-style: a refreshed token's predecessor dies once the new one is first used.
    revoke_replaced_access_tokens: bool = True
    per_second: int = 20
    per_minute: int = 800
    ban_after: int = 2000
    ban_seconds: int = 300
    latency_ms: int = 0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    malformed_rate: float = 0.0
    fault_seed: int = 0
    store_code: str = "sandboxstore"
    store_name: str = "Tienda Sandbox"
    product_count: int = 200
    seed: int = 1
    currency: str = "CLP"
    #: Share of products spoiled as imported catalogues are (markup, entities, shared barcodes).
    hostile_share: float = 0.0
    #: The stores' languages, the default first: "es" (the catalogue's own), then "en", "pt".
    languages: list[str] = field(default_factory=lambda: ["es", "en"])

    def __post_init__(self) -> None:
        """Refuse languages the catalogue cannot speak (ValueError, as `changed` reports it)."""
        codes = self.languages = list(self.languages)  # a tuple given is kept as the list it edits
        if not codes or codes[0] != "es" or len(set(codes)) != len(codes):
            raise ValueError(f"languages must start with 'es' and not repeat, got {codes!r}")
        unknown = [code for code in codes if code not in LANGUAGE_NAMES]
        if unknown:
            raise ValueError(f"unknown languages {unknown}; known: {', '.join(LANGUAGE_NAMES)}")

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready copy for the control API."""
        return dataclasses.asdict(self)

    def changed(self, changes: dict[str, object]) -> SandboxConfig:
        """A copy with `changes` applied; ValueError names any unknown or ill-typed field."""
        known = {f.name: f for f in dataclasses.fields(self)}
        values: dict[str, object] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}; known: {', '.join(sorted(known))}")
            values[name] = _coerce(name, getattr(self, name), value)
        return dataclasses.replace(self, **values)


def _coerce(name: str, current: object, value: object) -> object:
    """Accept the value if it has the current value's type (ints pass for floats)."""
    if isinstance(current, bool):
        ok = isinstance(value, bool)
    elif isinstance(current, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(current, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(current, list):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ValueError(f"setting {name!r} must be a {type(current).__name__}, got {value!r}")
    return value
