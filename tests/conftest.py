"""Shared fixtures: a real Redis (db 15, flushed per test), the app, its client and registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from config import TestConfig
from feedapp import create_app
from feedapp.stores import Store, StoreRegistry


def pytest_addoption(parser: pytest.Parser) -> None:
    """--update-golden rewrites the checked-in golden feed instead of comparing with it."""
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis; the suite fails (never skips) when it does not answer."""
    url = TestConfig().REDIS_URL
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        pytest.fail(f"Redis at {url} does not answer ({exc}); start redis-server or set REDIS_URL.")
    return url


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
