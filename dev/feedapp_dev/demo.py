"""`make run`: the whole product on one machine (sandbox store, web, worker, scheduler, Redis).

The processes are the production ones (gunicorn, `flask worker`, `flask scheduler`); only Jumpseller
is the local sandbox, and Redis is embedded (fakeredis over TCP) when REDIS_URL is unset.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from config import Config, masked_url
from feedapp.services import load_config

#: The checkout: `make setup` installs this package editable from dev/, so it runs from there.
ROOT = Path(__file__).resolve().parents[2]


def embedded_redis() -> str:
    """Serve fakeredis over TCP from this process, for a demo with no Redis server."""
    from fakeredis import TcpFakeServer

    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
    server.daemon_threads = True  # client connections must not keep the demo from exiting
    server.block_on_close = False
    threading.Thread(target=server.serve_forever, daemon=True, name="fakeredis").start()
    return f"redis://127.0.0.1:{server.server_address[1]}/0"


def demo_environment(config: Config, app_port: int, sandbox_port: int) -> dict[str, str]:
    """Settings for every demo process: the sandbox as Jumpseller, throwaway keys."""
    from cryptography.fernet import Fernet

    sandbox = f"http://localhost:{sandbox_port}"
    return dict(
        SECRET_KEY=config.SECRET_KEY or os.urandom(24).hex(),
        TOKEN_KEYS=",".join(config.TOKEN_KEYS) or Fernet.generate_key().decode(),
        PUBLIC_URL=f"http://127.0.0.1:{app_port}",
        JUMPSELLER_CLIENT_ID="sandbox-client",
        JUMPSELLER_CLIENT_SECRET="sandbox-secret",  # noqa: S106 - the sandbox's own credential
        JUMPSELLER_AUTH_URL=sandbox,
        JUMPSELLER_API_URL=f"{sandbox}/v1",
        FRAME_ANCESTORS=" ".join([sandbox, *config.FRAME_ANCESTORS]),
        REDIS_URL=config.REDIS_URL or embedded_redis(),
        FEEDS_DIR=str(config.FEEDS_DIR),
        FLASK_APP="feedapp",
        PYTHONUNBUFFERED="1",
    )


def write_env_file(settings: dict[str, str]) -> Path:
    """Save the demo's settings so the operator CLI can join it from another terminal."""
    path = ROOT / "instance" / "demo.env"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(settings.items())))
    path.chmod(0o600)
    return path


def port_free(port: int) -> bool:
    """Whether nothing listens on a local port yet."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def main(argv: list[str] | None = None) -> int:
    """Start everything, print where to click, stop everything on Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000, help="the app's port")
    parser.add_argument("--sandbox-port", type=int, default=5001, help="the sandbox's port")
    args = parser.parse_args(argv)
    app_port, sandbox_port = args.port, args.sandbox_port
    busy = [p for p in (app_port, sandbox_port) if not port_free(p)]
    if busy:
        print(f"Port(s) {busy} are in use; stop what runs there and try again.", file=sys.stderr)
        return 1
    config = load_config()
    settings = demo_environment(config, app_port, sandbox_port)
    env_file = write_env_file(settings)
    env = {**os.environ, **settings}
    bin_dir = Path(sys.executable).parent
    flask = [sys.executable, "-m", "flask"]
    commands = {
        "sandbox": [
            *flask,
            "sandbox",
            "--host",
            "localhost",
            "--port",
            str(sandbox_port),
            "--app-url",
            f"http://127.0.0.1:{app_port}/",
        ],
        "web": [
            str(bin_dir / "gunicorn"),
            "--bind",
            f"127.0.0.1:{app_port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "feedapp:create_app()",
        ],
        "worker": [*flask, "worker"],
        "scheduler": [*flask, "scheduler"],
    }
    procs = {
        name: subprocess.Popen(cmd, env=env, cwd=ROOT)  # noqa: S603 - fixed commands
        for name, cmd in commands.items()
    }
    embedded = masked_url(config.REDIS_URL) if config.REDIS_URL else "embedded (fakeredis)"
    print(
        "\n"
        f"  Demo running. Redis: {embedded}.\n"
        f"  1. Open http://localhost:{sandbox_port}/admin : the sandbox store's admin, with the\n"
        "     app in its iframe, as a merchant sees it in Jumpseller.\n"
        "  2. Press 'Connect' in the app and approve: the first feed builds at once.\n"
        f"  The app itself: http://127.0.0.1:{app_port}/   Stop with Ctrl-C.\n"
        f"  Operator CLI from another terminal: set -a; . {env_file.relative_to(ROOT)}; set +a;\n"
        "     .venv/bin/flask stores list   (or feeds status, feeds rebuild --all --sync, ...)\n",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        dead = [n for n, p in procs.items() if p.poll() is not None]
        print(f"Stopped because {', '.join(dead)} exited; see the messages above.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
