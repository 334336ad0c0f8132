"""Settings: the only module that reads the environment, so every process agrees on its config."""

from __future__ import annotations

import os
from pathlib import Path

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


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


class Config:
    """Production settings read from the environment with development defaults."""

    def __init__(self) -> None:
        self.SECRET_KEY = _env("SECRET_KEY")
        self.PUBLIC_URL = _env("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
        self.JUMPSELLER_CLIENT_ID = _env("JUMPSELLER_CLIENT_ID")
        self.JUMPSELLER_CLIENT_SECRET = _env("JUMPSELLER_CLIENT_SECRET")
        self.JUMPSELLER_AUTH_URL = _env(
            "JUMPSELLER_AUTH_URL", "https://accounts.jumpseller.com"
        ).rstrip("/")
        self.JUMPSELLER_API_URL = _env(
            "JUMPSELLER_API_URL", "https://api.jumpseller.com/v1"
        ).rstrip("/")
        self.JUMPSELLER_SCOPES = _env(
            "JUMPSELLER_SCOPES", "read_products read_store read_hooks write_hooks"
        )
        self.FRAME_ANCESTORS = _env("FRAME_ANCESTORS", "https://*.jumpseller.com")
        self.REDIS_URL = _env("REDIS_URL")
        self.FEEDS_DIR = _env("FEEDS_DIR", str(HERE / "feeds"))
        self.TOKEN_KEYS = _env("TOKEN_KEYS")
        self.KEY_PREFIX = _env("KEY_PREFIX", "feedapp:")
        self.FEED_SENDFILE_HEADER = _env("FEED_SENDFILE_HEADER")
        self.LOG_LEVEL = _env("LOG_LEVEL", "INFO")
        self.BUILD_LOCK_TTL = _env("BUILD_LOCK_TTL", "60")
        self.WEBHOOK_DEBOUNCE_SECONDS = _env("WEBHOOK_DEBOUNCE_SECONDS", "60")
        self.TESTING = False

    def as_flask(self) -> dict[str, object]:
        """Upper-case attributes, the shape Flask's config wants."""
        return {k: v for k, v in vars(self).items() if k.isupper()}


class TestConfig(Config):
    """Deterministic settings for the test suite; Redis comes from the environment or localhost."""

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.SECRET_KEY = "test-secret-key"  # noqa: S105
        self.PUBLIC_URL = "http://127.0.0.1:5000"
        self.JUMPSELLER_CLIENT_ID = "test-client"
        self.JUMPSELLER_CLIENT_SECRET = "test-client-secret"  # noqa: S105
        self.REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6379/15")
        self.TOKEN_KEYS = "tK4b0z8rnP0xKQ2cQ3f1E0y9Yt0r2G8Q9mO3r4y3QzA="  # noqa: S105
        self.KEY_PREFIX = "feedapp-test:"
