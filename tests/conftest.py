"""Shared fixtures: a real Redis (the run's own unless REDIS_URL is set), the app and registry."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from prerequisites import missing
from redis import Redis
from redis.exceptions import RedisError
from redis_server import RedisServer

from config import TestConfig
from feedapp import create_app
from feedapp.stores import Store, StoreRegistry


def pytest_addoption(parser: pytest.Parser) -> None:
    """--update-golden rewrites the checked-in golden feed instead of comparing with it."""
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files")


def pytest_configure(config: pytest.Config) -> None:
    """Stop before any test, with one line, when this machine cannot run the suite."""
    if config.option.help or config.option.collectonly:
        return
    given = os.environ.get("REDIS_URL")
    problem = missing(given)
    if problem is None and given:
        try:
            Redis.from_url(given, socket_connect_timeout=2).ping()
        except (RedisError, ValueError) as exc:
            problem = (
                f"The Redis at REDIS_URL does not answer ({exc}): start it, or unset REDIS_URL "
                "and the tests start a redis-server of their own"
            )
    if problem:
        pytest.exit(problem, returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL when set; otherwise a redis-server of this run's own, never someone else's."""
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    with RedisServer() as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("REDIS_URL", url)  # for any TestConfig() and child process as well
        yield url


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    """A clean database for each test."""
    conn = Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def config(tmp_path: Path, redis_url: str) -> TestConfig:
    """Test settings with a private feeds folder."""
    cfg = TestConfig()
    cfg.REDIS_URL = redis_url
    cfg.FEEDS_DIR = tmp_path / "feeds"
    return cfg


@pytest.fixture
def app(request: pytest.FixtureRequest, config: TestConfig, redis: Redis):
    """The web app wired to the test Redis (and to the sandbox when the test uses one)."""
    if "sandbox" in request.fixturenames:
        config = request.getfixturevalue("live_config")
    return create_app(config, redis=redis)


@pytest.fixture
def client(app):
    """Flask's test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Flask's CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def registry(app) -> StoreRegistry:
    """The app's store registry."""
    return app.extensions["feedapp"].registry


@pytest.fixture
def store(registry: StoreRegistry) -> Store:
    """One installed store with tokens, as an install would leave it."""
    return registry.save(
        Store(
            code="teststore",
            name="Test Store",
            url="https://teststore.example.com",
            currency="CLP",
            country="CL",
            timezone="America/Santiago",
            weight_unit="kg",
            languages=["es", "en"],
            default_language="es",
            scopes="read_products read_store",
            access_token="access-123",
            refresh_token="refresh-456",
            hooks_token="hooks-789",
            token_expires_at=4102444800.0,
        )
    )


@pytest.fixture
def sandbox_config():
    """The sandbox's behaviour; a test module overrides this fixture to add faults or limits."""
    from feedapp_dev.sandbox import SandboxConfig

    return SandboxConfig(product_count=250)


@pytest.fixture
def sandbox(sandbox_config):
    """A Jumpseller stand-in over real HTTP on a free port."""
    from sandbox_server import SandboxServer

    with SandboxServer(sandbox_config) as server:
        yield server


@pytest.fixture
def live_config(config: TestConfig, sandbox) -> TestConfig:
    """Test settings pointing at the sandbox."""
    from sandbox_server import point_at_sandbox

    point_at_sandbox(config, sandbox)
    config.BUILD_LOCK_TTL = 5  # a killed worker's store is free again within seconds
    return config


@pytest.fixture
def svc(app, redis: Redis):
    """The services a worker process builds (sandbox settings when a test asks for them)."""
    return app.extensions["feedapp"]


@pytest.fixture
def installed(svc, sandbox) -> Store:
    """The sandbox store installed through the real OAuth exchange."""
    from feedapp.jumpseller.installation import complete_install

    return complete_install(svc, sandbox.authorize())


@pytest.fixture
def start(live_config, tmp_path: Path) -> Iterator:
    """Start `flask worker` / `flask scheduler` processes; all are stopped after the test."""
    from processes import Process, process_env

    started: list[Process] = []

    def _start(kind: str = "worker") -> Process:
        proc = Process([kind], process_env(live_config), tmp_path / f"{kind}-{len(started)}.log")
        started.append(proc)
        return proc

    yield _start
    for proc in started:
        proc.stop()
