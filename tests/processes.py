"""Start the app's real processes (`flask worker`, `flask scheduler`) for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from config import Config

ROOT = Path(__file__).resolve().parent.parent


def process_env(config: Config) -> dict[str, str]:
    """The environment a deployed process would get, built from a test config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUMPSELLER_", "FLASK_"))}
    env.update(config.as_environ())
    env["PYTHONPATH"] = str(ROOT)
    return env


class Process:
    """One child process in its own group, so a kill reaches RQ's work-horse too."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = open(log, "ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "feedapp", *args],
            env=env,
            cwd=ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the process and its descendants (RQ's work-horse runs in a session of its own)."""
        for pid in [*descendants(self.popen.pid), self.popen.pid]:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        """Warm shutdown, then cold (RQ kills its work-horse on a second TERM), then KILL."""
        for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
            if self.popen.poll() is not None:
                break
            if sig == signal.SIGKILL:
                self.kill()
            else:
                self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=8)
            except subprocess.TimeoutExpired:
                continue
        self._out.close()


def descendants(pid: int) -> list[int]:
    """Children, grandchildren... of a process, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def wait_for(check: Callable[[], object], timeout: float, what: str, every: float = 0.1) -> object:
    """Poll until check() is truthy; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@contextmanager
def cpu_burners(count: int = 2) -> Iterator[list[subprocess.Popen]]:
    """`count` CPU-bound processes beside the block, as on a busy CI machine; always killed."""
    burners: list[subprocess.Popen] = []
    try:
        for _ in range(count):
            burners.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
        yield burners
    finally:
        for burner in burners:
            burner.kill()
        for burner in burners:
            burner.wait()
