"""Real servers for integration and browser tests: the app over HTTP, the sandbox, a worker.

The sandbox runs on ``localhost`` and the app on ``127.0.0.1``, so the sandbox's admin page and
the app it frames are different sites, exactly as the Jumpseller admin and the app are.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests
from feedapp_dev.sandbox import SandboxConfig
from flask import Flask
from flask.testing import FlaskClient
from processes import Process, process_env
from redis import Redis
from sandbox_server import QuietHandler, SandboxServer, point_at_sandbox
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import TestResponse

from config import TestConfig
from feedapp import create_app


@dataclass(frozen=True)
class SeenRequest:
    """What the browser sent, so a test can prove which requests carried cookies."""

    method: str
    path: str
    cookie: str
    dest: str


class _LateApp:
    """A WSGI app set after the server is bound (its config needs the port); logs requests."""

    def __init__(self) -> None:
        self.app: Flask | None = None
        self.seen: list[SeenRequest] = []

    def __call__(self, environ: dict, start_response: object) -> object:
        assert self.app is not None, "the app server got a request before its app was set"
        self.seen.append(
            SeenRequest(
                environ.get("REQUEST_METHOD", ""),
                environ.get("PATH_INFO", ""),
                environ.get("HTTP_COOKIE", ""),
                environ.get("HTTP_SEC_FETCH_DEST", ""),
            )
        )
        return self.app(environ, start_response)


class AppServer:
    """The web app on a real port, served by threads until stop()."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._late = _LateApp()
        self._server: BaseWSGIServer = make_server(
            host, 0, self._late, threaded=True, request_handler=QuietHandler
        )
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread: threading.Thread | None = None

    @property
    def seen(self) -> list[SeenRequest]:
        """Every request served so far, oldest first."""
        return self._late.seen

    def serve(self, app: Flask) -> None:
        """Start answering with this app."""
        self._late.app = app
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()


@dataclass
class LiveStack:
    """Everything a browser test talks to."""

    app: Flask
    app_server: AppServer
    sandbox: SandboxServer
    config: TestConfig
    worker: Process | None

    @property
    def admin_url(self) -> str:
        """The sandbox admin page that frames the app."""
        return f"{self.sandbox.url}/admin"


@contextmanager
def live_stack(
    config: TestConfig,
    redis: Redis,
    sandbox_config: SandboxConfig,
    *,
    worker_log: Path | None = None,
) -> Iterator[LiveStack]:
    """The app on 127.0.0.1, the sandbox on localhost framing it, and a worker if a log is given."""
    app_server = AppServer("127.0.0.1")
    sandbox_config.app_url = f"{app_server.url}/"
    sandbox_config.redirect_uris = [f"{app_server.url}/callback"]
    sandbox = SandboxServer(sandbox_config, host="localhost").start()
    worker = None
    try:
        config = point_at_sandbox(config, sandbox, public_url=app_server.url)
        app = create_app(config, redis=redis)
        app_server.serve(app)
        worker = Process(["worker"], process_env(config), worker_log) if worker_log else None
        yield LiveStack(app, app_server, sandbox, config, worker)
    finally:
        if worker is not None:
            worker.stop()
        app_server.stop()
        sandbox.stop()


def authorize_in_sandbox(authorize_url: str, decision: str = "approve") -> str:
    """Answer the sandbox's authorize page as a merchant would; the callback URL it sends to."""
    reply = requests.get(authorize_url, allow_redirects=False, timeout=10)
    if reply.status_code == 200:  # the approval page (auto_approve is off)
        parts = urlsplit(authorize_url)
        reply = requests.post(
            f"{parts.scheme}://{parts.netloc}{parts.path}",
            data={**dict(parse_qsl(parts.query)), "decision": decision},
            allow_redirects=False,
            timeout=10,
        )
    assert reply.status_code == 302, reply.text
    return reply.headers["Location"]


def local_path(url: str) -> str:
    """The path and query of an absolute URL, for Flask's test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def connect_store(
    client: FlaskClient, *, popup: bool = False, headers: dict[str, str] | None = None
) -> TestResponse:
    """Run the whole install (/install, approve in the sandbox, /callback) with the test client."""
    start = client.get("/install?popup=1" if popup else "/install")
    assert start.status_code == 302, start.get_data(as_text=True)
    callback = authorize_in_sandbox(start.headers["Location"])
    return client.get(local_path(callback), headers=headers or {})
