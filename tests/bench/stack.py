"""The processes a benchmark talks to: its own Redis db, the sandbox and a worker, on loopback."""

from __future__ import annotations

import secrets
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cryptography.fernet import Fernet
from redis import Redis
from redis.exceptions import RedisError

from config import Config
from feedapp.jumpseller.installation import connect_sandbox
from feedapp.services import Services
from feedapp.stores import Store
from tests.processes import Process, process_env, wait_for

#: A database of our own, flushed at start: the tests use 13-15, the app's default is 0.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
KEY_PREFIX = "feedapp-bench:"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_config(redis_url: str, feeds_dir: Path, sandbox_url: str, app_url: str) -> Config:
    """Settings every process of the run shares, as a deployment would pass them in its env."""
    config = Config()
    config.SECRET_KEY = secrets.token_hex(32)
    config.PUBLIC_URL = app_url
    config.JUMPSELLER_CLIENT_ID = "sandbox-client"
    config.JUMPSELLER_CLIENT_SECRET = "sandbox-secret"
    config.JUMPSELLER_AUTH_URL = sandbox_url
    config.JUMPSELLER_API_URL = f"{sandbox_url}/v1"
    config.REDIS_URL = redis_url
    config.FEEDS_DIR = feeds_dir
    config.TOKEN_KEYS = [Fernet.generate_key().decode()]
    config.KEY_PREFIX = KEY_PREFIX
    config.LOG_LEVEL = "WARNING"
    return config


class SandboxProcess:
    """`flask sandbox` in its own process, so generating products never shares the build's GIL."""

    def __init__(self, config: Config, log: Path) -> None:
        self.url = config.JUMPSELLER_AUTH_URL
        port = self.url.rsplit(":", 1)[1]
        args = ["sandbox", "--host", "127.0.0.1", "--port", port, "--products", "0"]
        self.process = Process([*args, "--auto-approve"], process_env(config), log)
        wait_for(self._answers, 30, f"the sandbox on {self.url} (log: {log})", every=0.1)

    def _answers(self) -> bool:
        if self.process.popen.poll() is not None:
            raise RuntimeError(f"the sandbox exited; see {self.process.log}")
        try:
            return requests.get(f"{self.url}/_sandbox/config", timeout=2).ok
        except requests.ConnectionError:
            return False

    def control(self, path: str, payload: dict | None = None, method: str = "post") -> dict:
        """One call of the sandbox's control API."""
        reply = requests.request(method, f"{self.url}/_sandbox/{path}", json=payload, timeout=30)
        reply.raise_for_status()
        return reply.json()

    def stats(self) -> dict:
        """Requests, 429s and faults counted so far (cumulative: take differences)."""
        return self.control("stats", method="get")

    def open_store(self, code: str, products: int, latency_ms: int) -> None:
        """Point the sandbox's OAuth at a new store: its quota windows start empty."""
        self.control(
            "config",
            {
                "store_code": code,
                "product_count": products,
                "latency_ms": latency_ms,
                "per_second": 20,
                "per_minute": 800,
                "auto_approve": True,
            },
        )

    def stop(self) -> None:
        """Stop the process."""
        self.process.stop()


@dataclass
class Bench:
    """One run of the suite: settings, Redis, a scratch feeds folder and the shared sandbox."""

    config: Config
    svc: Services
    scratch: Path
    logs: Path
    quick: bool
    #: The last render pass's unpublished feed and its items, which the serving benchmark publishes.
    rendered: tuple[Path, int] | None = None
    _sandbox: SandboxProcess | None = None
    _workers: list[Process] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """The environment of every child process."""
        return process_env(self.config)

    @property
    def feeds_dir(self) -> Path:
        """Where builds publish."""
        return Path(self.config.FEEDS_DIR)

    def log(self, name: str) -> Path:
        """A log file for one child process."""
        return self.logs / f"{name}.log"

    @property
    def sandbox(self) -> SandboxProcess:
        """The sandbox, started on first use."""
        if self._sandbox is None:
            self._sandbox = SandboxProcess(self.config, self.log("sandbox"))
        return self._sandbox

    def install(self, code: str, products: int, latency_ms: int) -> Store:
        """A new sandbox store installed through the real OAuth exchange (its 1 request counts)."""
        self.sandbox.open_store(code, products, latency_ms)
        return connect_sandbox(self.svc)

    def start_worker(self, name: str = "worker") -> Process:
        """`flask worker` as deployed, stopped when the run ends."""
        worker = Process(["worker"], self.env, self.log(name))
        self._workers.append(worker)
        return worker

    def close(self) -> None:
        """Stop every child process, empty our Redis db and delete the feeds (logs stay)."""
        for worker in self._workers:
            worker.stop()
        if self._sandbox is not None:
            self._sandbox.stop()
        try:
            self.svc.redis.flushdb()
        except RedisError:
            pass
        shutil.rmtree(self.scratch, ignore_errors=True)


def open_bench(redis_url: str, quick: bool, logs: Path) -> Bench:
    """Check Redis, flush our db, lay out the folders; if Redis is away, say how to fix it.

    Feeds go to a temporary folder deleted at the end; the child processes' logs go to `logs`,
    emptied first and kept afterwards, so a failed run can be read.
    """
    redis = Redis.from_url(redis_url, socket_timeout=10, socket_connect_timeout=3)
    try:
        redis.ping()
    except RedisError as exc:
        raise SystemExit(
            f"Redis at {redis_url} does not answer ({exc}); start redis-server "
            "or pass --redis-url redis://HOST:PORT/DB (a database the suite may flush)."
        ) from exc
    redis.flushdb()
    scratch = Path(tempfile.mkdtemp(prefix="feedapp-bench-"))
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    sandbox_url = f"http://127.0.0.1:{free_port()}"
    app_url = f"http://127.0.0.1:{free_port()}"
    config = bench_config(redis_url, scratch / "feeds", sandbox_url, app_url)
    return Bench(config, Services(config, redis), scratch, logs, quick)
