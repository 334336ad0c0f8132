"""A redis-server of the test run's own, so the suite never flushes a database it did not create.

conftest.py starts one per run when REDIS_URL is unset: a free loopback port, a temporary folder,
no persistence, stopped and its folder removed when the run ends.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from redis import Redis
from redis.exceptions import RedisError

#: How long a starting server may take to answer before the start counts as failed.
START_TIMEOUT = 10.0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """`with RedisServer() as url:` a private redis-server on loopback, gone after the block."""

    def __init__(self, port: int | None = None, password: str | None = None) -> None:
        """A server on `port`, or on a free port (retried if another process takes it first).

        With a `password` the server requires it (`requirepass`) and the URL carries it.
        """
        self.port = port
        self.password = password
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        """Start the server and return its URL once it answers."""
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed: apt-get install redis-server")
        self.folder = Path(tempfile.mkdtemp(prefix="feedapp-test-redis-"))
        attempts = 1 if self.port else 3  # a free port can be taken between probe and bind
        for _ in range(attempts):
            port = self.port or free_port()
            if self._start(executable, port, self.folder):
                auth = f":{quote(self.password, safe='')}@" if self.password else ""
                return f"redis://{auth}127.0.0.1:{port}/0"
        log_file = self.folder / "redis.log"
        log = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else "(none)"
        self._remove_folder()
        raise RuntimeError(f"redis-server did not start on 127.0.0.1 (its log:\n{log})")

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        """Stop the server (nothing is saved) and remove its folder."""
        self._stop()
        self._remove_folder()

    def _start(self, executable: str, port: int, folder: Path) -> bool:
        """One start on `port`: True once it answers as itself, else False with the process gone."""
        self.process = subprocess.Popen(
            [
                executable,
                *("--bind", "127.0.0.1", "--port", str(port)),
                *("--dir", str(folder), "--logfile", str(folder / "redis.log")),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *(("--requirepass", self.password) if self.password else ()),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C reaches pytest, whose teardown then stops it
        )
        client = Redis(
            host="127.0.0.1", port=port, password=self.password, socket_connect_timeout=1
        )
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while self.process.poll() is None and time.monotonic() < deadline:
                # Another server may hold the port (ours then exits on "address already in use"):
                # only an answer from our own process id counts.
                with suppress(RedisError):
                    if client.info("server")["process_id"] == self.process.pid:
                        return True
                time.sleep(0.02)
        finally:
            client.close()
        self._stop()
        return False

    def _stop(self) -> None:
        """TERM, then KILL if it has not exited within 10 seconds."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _remove_folder(self) -> None:
        """Delete the server's temporary folder."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
