"""Settings: the only module that reads the environment, turning it into typed values once.

Each variable is declared in SETTINGS with its default, the form it must take and an example, so a
wrong value stops a process with one line that says which variable, what is expected and what was
found, instead of failing later wherever the value is first used.
"""

from __future__ import annotations

import base64
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent

#: What each required setting is for, so a process can say why it refuses to start.
REQUIRED: dict[str, str] = {
    "SECRET_KEY": "signs sessions, CSRF tokens and OAuth state",
    "PUBLIC_URL": "the app's external https base URL (App URL and Redirect URL derive from it)",
    "JUMPSELLER_CLIENT_ID": "the OAuth client id from Jumpseller's Apps > Developers page",
    "JUMPSELLER_CLIENT_SECRET": "the OAuth client secret from the same page",
    "REDIS_URL": "the Redis that holds queues, store records and locks",
    "TOKEN_KEYS": "Fernet keys, newest first, that encrypt tokens at rest",
}

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: List settings accept commas, spaces or both between their entries.
_LIST_SEPARATORS = re.compile(r"[,\s]+")
_SCOPE = re.compile(r"[a-z][a-z_]*")
_HEADER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
#: A CSP source an admin may frame the app from: 'self', or [scheme://]host[:port][/path], where
#: the host's first label may be {store}: the code of the store whose page is framed.
_FRAME_SOURCE = re.compile(
    r"'self'|(?:[a-z][a-z0-9+.-]*://)?(?:\*|(?:\*\.|\{store\}\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*)"
    r"(?::(?:\d{1,5}|\*))?(?:/[^\s;,']*)?",
    re.IGNORECASE,
)
_SHOWN_LENGTH = 60


class ConfigError(ValueError):
    """A setting has the wrong form; the message names it, the form expected and an example."""


def masked_url(text: str) -> str:
    """A URL as it can be printed: its password (a Redis URL may hold one) shown as ***."""
    try:
        password = urlsplit(text).password
    except ValueError:  # not a URL at all: nothing in it is a password
        return text
    return text.replace(f":{password}@", ":***@", 1) if password else text


def _url(raw: str) -> str:
    """An absolute http(s) URL without query or fragment, so paths can be appended to it."""
    if not raw:
        return ""
    parts = urlsplit(raw)  # .port raises ValueError for a port that is not a number
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.port == 0
        or parts.query
        or parts.fragment
    ):
        raise ValueError(raw)
    return raw.rstrip("/")


def _redis_url(raw: str) -> str:
    """A URL redis-py connects with; anything else would fail at the first command instead."""
    if not raw:
        return ""
    parts = urlsplit(raw)  # .port raises ValueError for a port that is not a number
    if parts.scheme not in ("redis", "rediss", "unix") or parts.port == 0:
        raise ValueError(raw)
    return raw


def _whole_seconds(raw: str) -> int:
    """At least 5 s: the lock's heartbeat beats every quarter of it."""
    if not re.fullmatch(r"\d+", raw) or int(raw) < 5:
        raise ValueError(raw)
    return int(raw)


def _seconds(raw: str) -> float:
    """A finite, non-negative number of seconds (float() accepts 'nan' and 'inf')."""
    value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise ValueError(raw)
    return value


def _entries(pattern: re.Pattern[str]) -> Callable[[str], list[str]]:
    """A reader of a list whose every entry must match `pattern`."""

    def read(raw: str) -> list[str]:
        entries = [entry for entry in _LIST_SEPARATORS.split(raw) if entry]
        if not all(pattern.fullmatch(entry) for entry in entries):
            raise ValueError(raw)
        return entries

    return read


def _token_keys(raw: str) -> list[str]:
    """Fernet keys, each the url-safe base64 of 32 bytes (a bad one raises binascii.Error)."""
    keys = [key for key in _LIST_SEPARATORS.split(raw) if key]
    if any(len(base64.urlsafe_b64decode(key.encode())) != 32 for key in keys):
        raise ValueError("not a Fernet key")
    return keys


def _key_prefix(raw: str) -> str:
    """No whitespace or glob characters, so key patterns and SCANs mean what they say."""
    if re.search(r"[\s*?\[\]\\]", raw):
        raise ValueError(raw)
    return raw


def _log_level(raw: str) -> str:
    """A level name logging knows, in any case."""
    if raw.upper() not in LOG_LEVELS:
        raise ValueError(raw)
    return raw.upper()


def _header_name(raw: str) -> str:
    """A plain header name, so the value can never smuggle a second header in."""
    if raw and not _HEADER_NAME.fullmatch(raw):
        raise ValueError(raw)
    return raw


@dataclass(frozen=True)
class Setting:
    """One environment variable: its default, how its text becomes a value, how to explain it."""

    name: str
    default: str = ""
    read: Callable[[str], object] = str  # free text by default: nothing to refuse
    form: str = ""
    example: str = ""
    write: Callable[[Any], str] = str
    secret: bool = False

    def parse(self, raw: str | None) -> object:
        """The typed value; unset (or, when optional, empty) means the default."""
        text = self.default if raw is None else raw.strip()
        if not text and self.name not in REQUIRED:
            text = self.default
        try:
            return self.read(text)
        except ValueError:
            expected = f"{self.name} must be {self.form} (e.g. {self.example})"
            if self.secret:
                raise ConfigError(f"{expected}; the value set is not (not shown: secret)") from None
            raise ConfigError(f"{expected}, not {self._shown(text)}") from None

    @staticmethod
    def _shown(text: str) -> str:
        """The wrong value as it can be printed: a URL's password masked, a long value cut."""
        text = masked_url(text)
        if len(text) > _SHOWN_LENGTH:
            text = text[:_SHOWN_LENGTH] + "..."
        return repr(text)


_BASE_URL = "the app's external http(s) base URL"
_AUTH_URL = "https://accounts.jumpseller.com"
_API_URL = "https://api.jumpseller.com/v1"
_SCOPES = "read_products read_store read_hooks write_hooks"
_REDIS_FORM = "a redis://, rediss:// or unix:// URL"
_HEADER_FORM = "an HTTP header name, or empty"
_PREFIX_FORM = "a Redis key prefix without spaces, *, ?, [, ] or \\"
_FERNET_EXAMPLE = (
    "what python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())' prints"
)

#: Every environment variable the app reads. The names and defaults are a documented interface.
SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("SECRET_KEY"),
        Setting(
            "PUBLIC_URL", "http://127.0.0.1:5000", _url, _BASE_URL, "https://feeds.example.com"
        ),
        Setting("JUMPSELLER_CLIENT_ID"),
        Setting("JUMPSELLER_CLIENT_SECRET"),
        Setting("JUMPSELLER_AUTH_URL", _AUTH_URL, _url, "an http(s) URL", _AUTH_URL),
        Setting("JUMPSELLER_API_URL", _API_URL, _url, "an http(s) URL", _API_URL),
        Setting(
            "JUMPSELLER_SCOPES",
            _SCOPES,
            _entries(_SCOPE),
            "OAuth scope names separated by spaces",
            _SCOPES,
            write=" ".join,
        ),
        Setting("REDIS_URL", "", _redis_url, _REDIS_FORM, "redis://redis:6379/0"),
        Setting("FEEDS_DIR", str(HERE / "feeds"), Path, "a folder path", "/data/feeds"),
        Setting(
            "TOKEN_KEYS",
            "",
            _token_keys,
            "Fernet keys, newest first, separated by commas",
            _FERNET_EXAMPLE,
            write=",".join,
            secret=True,
        ),
        Setting(
            "FRAME_ANCESTORS",
            "https://{store}.jumpseller.com",
            _entries(_FRAME_SOURCE),
            "origins that may frame the app, separated by spaces ({store}: the page's store)",
            "https://{store}.jumpseller.com https://admin.example.com",
            write=" ".join,
        ),
        Setting("FEED_SENDFILE_HEADER", "", _header_name, _HEADER_FORM, "X-Accel-Redirect"),
        Setting("KEY_PREFIX", "feedapp:", _key_prefix, _PREFIX_FORM, "feedapp:"),
        Setting(
            "BUILD_LOCK_TTL", "60", _whole_seconds, "a whole number of seconds, 5 or more", "60"
        ),
        Setting("WEBHOOK_DEBOUNCE_SECONDS", "2", _seconds, "a number of seconds, 0 or more", "2"),
        Setting("LOG_LEVEL", "INFO", _log_level, f"one of {', '.join(LOG_LEVELS)}", "INFO"),
    )
}


class Config:
    """Every setting as a typed value, read from the environment when (and only when) built."""

    SECRET_KEY: str
    PUBLIC_URL: str
    JUMPSELLER_CLIENT_ID: str
    JUMPSELLER_CLIENT_SECRET: str
    JUMPSELLER_AUTH_URL: str
    JUMPSELLER_API_URL: str
    JUMPSELLER_SCOPES: list[str]
    REDIS_URL: str
    FEEDS_DIR: Path
    TOKEN_KEYS: list[str]
    FRAME_ANCESTORS: list[str]
    FEED_SENDFILE_HEADER: str
    KEY_PREFIX: str
    BUILD_LOCK_TTL: int
    WEBHOOK_DEBOUNCE_SECONDS: float
    LOG_LEVEL: str
    TESTING: bool

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        """Read `environ` (the process environment by default); ConfigError names every bad one."""
        env = os.environ if environ is None else environ
        errors = []
        for setting in SETTINGS.values():
            try:
                setattr(self, setting.name, setting.parse(env.get(setting.name)))
            except ConfigError as exc:
                errors.append(str(exc))
        if errors:
            raise ConfigError("; ".join(errors))
        self.TESTING = False

    def as_flask(self) -> dict[str, object]:
        """What Flask itself reads from app.config; the app's own code reads this object."""
        return {"SECRET_KEY": self.SECRET_KEY, "TESTING": self.TESTING}

    def as_environ(self) -> dict[str, str]:
        """Every setting as environment text, for starting another process with these settings."""
        return {s.name: s.write(getattr(self, s.name)) for s in SETTINGS.values()}


class TestConfig(Config):
    """Deterministic settings for the test suite; only REDIS_URL comes from the environment."""

    __test__ = False  # a settings class, not a test class for pytest to collect

    def __init__(self) -> None:
        """The test values, read through the same parsing a deployment's environment gets."""
        super().__init__(
            {
                "SECRET_KEY": "test-secret-key",
                "PUBLIC_URL": "http://127.0.0.1:5000",
                "JUMPSELLER_CLIENT_ID": "test-client",
                "JUMPSELLER_CLIENT_SECRET": "test-client-secret",
                "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
                "TOKEN_KEYS": "tK4b0z8rnP0xKQ2cQ3f1E0y9Yt0r2G8Q9mO3r4y3QzA=",
                "KEY_PREFIX": "feedapp-test:",
            }
        )
        self.TESTING = True
