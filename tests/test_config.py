"""Settings: each process refuses to start without what it needs, naming every missing variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from redis import Redis

from config import REQUIRED, Config
from feedapp import create_app

FLASK = [sys.executable, "-m", "flask", "--app", "feedapp"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    env.update(extra)
    return env


@pytest.mark.parametrize("command", ["worker", "scheduler"])
def test_process_without_settings_stops_with_one_message(command: str) -> None:
    env = clean_env(REDIS_URL="redis://127.0.0.1:6379/15")
    proc = subprocess.run([*FLASK, command], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("cannot start") == 1
    assert "TOKEN_KEYS" in proc.stderr and REQUIRED["TOKEN_KEYS"] in proc.stderr
    assert "REDIS_URL" not in proc.stderr.split("missing:")[1]
    assert "Traceback" not in proc.stderr


def test_worker_names_every_missing_setting() -> None:
    proc = subprocess.run(
        [*FLASK, "worker"], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    for name in ("REDIS_URL", "TOKEN_KEYS", "JUMPSELLER_CLIENT_ID", "JUMPSELLER_CLIENT_SECRET"):
        assert name in proc.stderr


def test_web_factory_refuses_missing_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in REQUIRED:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit):
        create_app()


def test_config_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://feeds.example.com/")
    monkeypatch.setenv("JUMPSELLER_API_URL", "http://127.0.0.1:9/v1")
    cfg = Config()
    assert cfg.PUBLIC_URL == "https://feeds.example.com"
    assert cfg.JUMPSELLER_API_URL == "http://127.0.0.1:9/v1"
    assert cfg.JUMPSELLER_AUTH_URL == "https://accounts.jumpseller.com"


def test_healthz(client) -> None:
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.json["redis"] == "ok"


def test_healthz_without_redis(config) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    reply = create_app(config, redis=dead).test_client().get("/healthz")
    assert reply.status_code == 503


@pytest.mark.parametrize(
    "command", [["stores", "list"], ["feeds", "status"], ["worker"], ["scheduler"]]
)
def test_unreachable_redis_is_one_clear_line(command: list[str]) -> None:
    env = clean_env(
        SECRET_KEY="x",
        JUMPSELLER_CLIENT_ID="a",
        JUMPSELLER_CLIENT_SECRET="b",
        TOKEN_KEYS="tK4b0z8rnP0xKQ2cQ3f1E0y9Yt0r2G8Q9mO3r4y3QzA=",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    proc = subprocess.run([*FLASK, *command], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Redis at redis://127.0.0.1:1/0 does not answer" in proc.stderr
    assert "Traceback" not in proc.stderr
