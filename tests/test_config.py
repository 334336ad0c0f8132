"""Settings: typed once in config.py; a wrong or missing one stops a process with one message."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

from config import REQUIRED, SETTINGS, Config, ConfigError, TestConfig
from feedapp import create_app

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "feedapp"]
KEY = "tK4b0z8rnP0xKQ2cQ3f1E0y9Yt0r2G8Q9mO3r4y3QzA="
OTHER_KEY = "cw_0x689RpI-jtRR7oB1oYC8TPH3SxgEkv2PBHRy9RA="

#: A valid value for every setting, none of them its default, and the typed value it must give.
EVERY_SETTING: dict[str, tuple[str, object]] = {
    "SECRET_KEY": (" s3cret ", "s3cret"),
    "PUBLIC_URL": ("https://feeds.example.com/", "https://feeds.example.com"),
    "JUMPSELLER_CLIENT_ID": ("client", "client"),
    "JUMPSELLER_CLIENT_SECRET": ("secret", "secret"),
    "JUMPSELLER_AUTH_URL": ("http://localhost:5001/", "http://localhost:5001"),
    "JUMPSELLER_API_URL": ("http://localhost:5001/v1", "http://localhost:5001/v1"),
    "JUMPSELLER_SCOPES": ("read_products  read_store", ["read_products", "read_store"]),
    "REDIS_URL": ("rediss://:pw@redis:6380/2", "rediss://:pw@redis:6380/2"),
    "FEEDS_DIR": ("/data/feeds", Path("/data/feeds")),
    "TOKEN_KEYS": (f"{KEY}, {OTHER_KEY}", [KEY, OTHER_KEY]),
    "FRAME_ANCESTORS": (
        "https://*.jumpseller.com http://localhost:5001",
        ["https://*.jumpseller.com", "http://localhost:5001"],
    ),
    "FEED_SENDFILE_HEADER": ("X-Accel-Redirect", "X-Accel-Redirect"),
    "KEY_PREFIX": ("shop2:", "shop2:"),
    "BUILD_LOCK_TTL": ("90", 90),
    "WEBHOOK_DEBOUNCE_SECONDS": ("2.5", 2.5),
    "LOG_LEVEL": ("debug", "DEBUG"),
}

#: A wrong value per kind of setting and the whole message it must give.
WRONG_VALUES = [
    (
        "BUILD_LOCK_TTL",
        "abc",
        "BUILD_LOCK_TTL must be a whole number of seconds, 5 or more (e.g. 60), not 'abc'",
    ),
    (
        "BUILD_LOCK_TTL",
        "2",
        "BUILD_LOCK_TTL must be a whole number of seconds, 5 or more (e.g. 60), not '2'",
    ),
    (
        "WEBHOOK_DEBOUNCE_SECONDS",
        "-1",
        "WEBHOOK_DEBOUNCE_SECONDS must be a number of seconds, 0 or more (e.g. 2), not '-1'",
    ),
    (
        "LOG_LEVEL",
        "LOUD",
        "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (e.g. INFO), not 'LOUD'",
    ),
    (
        "PUBLIC_URL",
        "feeds.example.com",
        "PUBLIC_URL must be the app's external http(s) base URL (e.g. https://feeds.example.com), "
        "not 'feeds.example.com'",
    ),
    (
        "JUMPSELLER_API_URL",
        "https://api.jumpseller.com:v1",
        "JUMPSELLER_API_URL must be an http(s) URL (e.g. https://api.jumpseller.com/v1), "
        "not 'https://api.jumpseller.com:v1'",
    ),
    (
        "REDIS_URL",
        "http://user:hunter2@redis:6379/0",
        "REDIS_URL must be a redis://, rediss:// or unix:// URL (e.g. redis://redis:6379/0), "
        "not 'http://user:***@redis:6379/0'",
    ),
    (
        "FRAME_ANCESTORS",
        "https://*.jumpseller.com; script-src *",
        "FRAME_ANCESTORS must be origins that may frame the app, separated by spaces "
        "({store}: the page's store) (e.g. https://{store}.jumpseller.com "
        "https://admin.example.com), "
        "not 'https://*.jumpseller.com; script-src *'",
    ),
    (
        "JUMPSELLER_SCOPES",
        "read_products,Write!",
        "JUMPSELLER_SCOPES must be OAuth scope names separated by spaces "
        "(e.g. read_products read_store read_hooks write_hooks), not 'read_products,Write!'",
    ),
    (
        "KEY_PREFIX",
        "feed*",
        "KEY_PREFIX must be a Redis key prefix without spaces, *, ?, [, ] or \\ (e.g. feedapp:), "
        "not 'feed*'",
    ),
    (
        "FEED_SENDFILE_HEADER",
        "X-Accel: evil",
        "FEED_SENDFILE_HEADER must be an HTTP header name, or empty (e.g. X-Accel-Redirect), "
        "not 'X-Accel: evil'",
    ),
]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(extra)
    return env


def valid_env(**extra: str) -> dict[str, str]:
    """Everything a process needs, plus `extra`; Redis where nothing listens."""
    return clean_env(
        SECRET_KEY="x",
        JUMPSELLER_CLIENT_ID="a",
        JUMPSELLER_CLIENT_SECRET="b",
        TOKEN_KEYS=KEY,
        REDIS_URL="redis://127.0.0.1:1/0",
        **extra,
    )


# -- typed values --------------------------------------------------------------------------------
def test_every_setting_is_read_and_typed_once() -> None:
    assert set(EVERY_SETTING) == set(SETTINGS)
    cfg = Config({name: text for name, (text, _) in EVERY_SETTING.items()})
    for name, (_, typed) in EVERY_SETTING.items():
        assert getattr(cfg, name) == typed, name
        assert getattr(cfg, name) != SETTINGS[name].parse(None), f"{name} kept its default"


def test_defaults_are_the_documented_ones() -> None:
    cfg = Config({})
    assert cfg.PUBLIC_URL == "http://127.0.0.1:5000"
    assert cfg.JUMPSELLER_AUTH_URL == "https://accounts.jumpseller.com"
    assert cfg.JUMPSELLER_API_URL == "https://api.jumpseller.com/v1"
    assert cfg.JUMPSELLER_SCOPES == ["read_products", "read_store", "read_hooks", "write_hooks"]
    assert cfg.FRAME_ANCESTORS == ["https://{store}.jumpseller.com"]
    assert cfg.FEEDS_DIR == ROOT / "feeds"
    assert cfg.KEY_PREFIX == "feedapp:"
    assert (cfg.BUILD_LOCK_TTL, cfg.WEBHOOK_DEBOUNCE_SECONDS) == (60, 2.0)
    assert (cfg.LOG_LEVEL, cfg.FEED_SENDFILE_HEADER, cfg.TESTING) == ("INFO", "", False)
    assert (cfg.SECRET_KEY, cfg.REDIS_URL, cfg.TOKEN_KEYS) == ("", "", [])


def test_empty_optional_setting_means_its_default_and_empty_required_means_missing() -> None:
    cfg = Config({"BUILD_LOCK_TTL": "", "LOG_LEVEL": " ", "PUBLIC_URL": "", "TOKEN_KEYS": ""})
    assert (cfg.BUILD_LOCK_TTL, cfg.LOG_LEVEL) == (60, "INFO")
    assert (cfg.PUBLIC_URL, cfg.TOKEN_KEYS) == ("", [])


def test_config_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://feeds.example.com/")
    monkeypatch.setenv("BUILD_LOCK_TTL", "30")
    cfg = Config()
    assert (cfg.PUBLIC_URL, cfg.BUILD_LOCK_TTL) == ("https://feeds.example.com", 30)


def test_environment_text_round_trips() -> None:
    cfg = Config({name: text for name, (text, _) in EVERY_SETTING.items()})
    assert vars(Config(cfg.as_environ())) == vars(cfg)


def test_flask_gets_only_what_flask_reads() -> None:
    assert TestConfig().as_flask() == {"SECRET_KEY": "test-secret-key", "TESTING": True}


def test_test_config_ignores_the_environment_but_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEY_PREFIX", "production:")
    monkeypatch.setenv("BUILD_LOCK_TTL", "abc")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/9")
    cfg = TestConfig()
    assert (cfg.KEY_PREFIX, cfg.BUILD_LOCK_TTL, cfg.TESTING) == ("feedapp-test:", 60, True)
    assert cfg.REDIS_URL == "redis://127.0.0.1:6379/9"


# -- wrong values --------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "value", "message"), WRONG_VALUES)
def test_a_wrong_value_names_the_variable_the_form_and_an_example(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        Config({name: value})
    assert str(raised.value) == message


def test_every_wrong_value_is_named_on_one_line() -> None:
    with pytest.raises(ConfigError) as raised:
        Config({"BUILD_LOCK_TTL": "soon", "LOG_LEVEL": "loud\nTraceback"})
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("BUILD_LOCK_TTL must be") and "; LOG_LEVEL must be" in message


def test_a_wrong_secret_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as raised:
        Config({"TOKEN_KEYS": f"{KEY},almost-a-key-but-not-quite"})
    message = str(raised.value)
    assert message.startswith("TOKEN_KEYS must be Fernet keys") and "Fernet.generate_key" in message
    assert "almost-a-key" not in message and KEY not in message


def test_nothing_is_read_or_raised_at_import() -> None:
    modules = "config, feedapp, feedapp.services, feedapp.keyspace, workers.jobs, workers.scheduler"
    proc = subprocess.run(
        [sys.executable, "-c", f"import {modules}"],
        env=clean_env(BUILD_LOCK_TTL="abc", PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    "command",
    [["worker"], ["scheduler"], ["stores", "list"], ["feeds", "status"], ["sandbox"]],
)
def test_a_wrong_value_stops_every_command_with_one_line(command: list[str]) -> None:
    env = valid_env(BUILD_LOCK_TTL="abc")
    proc = subprocess.run([*FLASK, *command], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        "feedapp cannot start: BUILD_LOCK_TTL must be a whole number of seconds, 5 or more "
        "(e.g. 60), not 'abc'"
    ]


def test_a_wrong_value_stops_the_web_factory_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in valid_env(LOG_LEVEL="chatty").items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert stopped.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("feedapp cannot start: LOG_LEVEL must be one of DEBUG")


# -- missing values ------------------------------------------------------------------------------
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


# -- Redis ---------------------------------------------------------------------------------------
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
    proc = subprocess.run(
        [*FLASK, *command], env=valid_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert "Redis at redis://127.0.0.1:1/0 does not answer" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- only config.py reads the environment --------------------------------------------------------
def environment_reads(source: str) -> list[int]:
    """Lines that read the environment: os.environ (other than setting a variable), os.getenv."""
    tree = ast.parse(source)
    written = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)
    }
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if {alias.name for alias in node.names} & {"environ", "environb", "getenv"}:
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ("environ", "environb", "getenv")
            and id(node) not in written
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_environment_reads_are_found() -> None:
    source = "\n".join(
        [
            "import os",
            "from os import getenv",
            "a = os.environ.get('X')",
            "b = os.getenv('X')",
            "c = os.environ['X']",
            "d = 'X' in os.environ",
            "os.environ['OAUTHLIB_INSECURE_TRANSPORT'] = '1'",  # telling a library, not reading
        ]
    )
    assert environment_reads(source) == [2, 3, 4, 5, 6]


def test_only_config_reads_the_environment() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in ("feedapp", "workers")
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in environment_reads(path.read_text())
    ]
    assert found == [], "read settings through config.Config instead"
