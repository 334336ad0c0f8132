"""The README's first command: the whole product on embedded Redis, with no server installed."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
from processes import ROOT, wait_for

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_env_file() -> dict[str, str]:
    text = (ROOT / "instance" / "demo.env").read_text()
    return {
        k: shlex.split(v)[0] if v else ""
        for k, v in (line.split("=", 1) for line in text.splitlines() if line)
    }


def operator_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """A `flask` command joined to the running demo through its env file, as the README says."""
    return subprocess.run(
        [sys.executable, "-m", "flask", *args],
        env={**os.environ, **demo_env_file()},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_demo_runs_on_embedded_redis(tmp_path) -> None:
    app_port, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["FEEDS_DIR"] = str(tmp_path / "feeds")
    log = open(tmp_path / "demo.log", "wb")
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feedapp_dev.demo",
            "--port",
            str(app_port),
            "--sandbox-port",
            str(sandbox_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    admin = f"http://localhost:{sandbox_port}/admin"
    app = f"http://127.0.0.1:{app_port}"
    try:

        def up() -> bool:
            try:
                return (
                    requests.get(f"{app}/healthz", timeout=2).ok
                    and requests.get(admin, timeout=2).ok
                )
            except (requests.ConnectionError, requests.Timeout):  # gunicorn listens before
                return False  # its workers have loaded the app: early requests wait or time out

        wait_for(up, 60, "the demo to answer", every=0.5)
        page = requests.get(admin, timeout=5).text
        assert "<iframe" in page and f"{app}/" in page
        assert "embedded (fakeredis)" in (tmp_path / "demo.log").read_text()
        # The operator CLI joins the demo and a real worker builds through the RQ queue.
        requests.post(
            f"http://localhost:{sandbox_port}/_sandbox/config",
            json={"auto_approve": True},
            timeout=5,
        ).raise_for_status()
        run = operator_cli("stores", "connect")
        assert run.returncode == 0, run.stderr
        assert "queued" in operator_cli("feeds", "rebuild", "sandboxstore").stdout

        def built() -> dict | None:
            status = json.loads(operator_cli("feeds", "status", "--json").stdout.splitlines()[0])
            return status if status["state"] == "ok" else None

        status = wait_for(built, 60, "the demo's first build", every=1)
        assert status["items"] > 0
        url = operator_cli("feeds", "url", "sandboxstore", "1").stdout.strip()
        assert requests.get(url, timeout=10).text.count("<item>") == status["items"]
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=20)
        log.close()
    time.sleep(0.5)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{app}/healthz", timeout=2)
