"""Run the Jumpseller sandbox as a real HTTP server on a free port, and point the app at it."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

import requests
from feedapp_dev.sandbox import SandboxConfig, create_sandbox
from feedapp_dev.sandbox.state import SandboxState
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from config import Config

AnyConfig = TypeVar("AnyConfig", bound=Config)


class QuietHandler(WSGIRequestHandler):
    """No access log lines: test servers answer thousands of requests."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""
        return None


class SandboxServer:
    """`with SandboxServer(settings) as sandbox:` serves on sandbox.url until the block ends."""

    def __init__(self, settings: SandboxConfig | None = None, host: str = "127.0.0.1"):
        self.app: Flask = create_sandbox(settings)
        self._server: BaseWSGIServer = make_server(
            host, 0, self.app, threaded=True, request_handler=QuietHandler
        )
        self.url = f"http://{host}:{self._server.server_port}"
        self.api_url = f"{self.url}/v1"
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> SandboxState:
        """The sandbox's in-memory world (take state.lock to read it consistently)."""
        return self.app.extensions["sandbox"]

    def authorize(
        self, scope: str = "read_products read_store", redirect_uri: str | None = None
    ) -> dict:
        """Install the app as a merchant would (approve, exchange the code); the token reply."""
        settings = self.state.config
        redirect_uri = redirect_uri or settings.redirect_uris[0]
        params = {
            "client_id": settings.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": "sandbox-helper",
        }
        reply = requests.get(
            f"{self.url}/oauth/authorize", params=params, allow_redirects=False, timeout=10
        )
        if reply.status_code == 200:  # the approval page: press Approve
            reply = requests.post(
                f"{self.url}/oauth/authorize",
                data={**params, "decision": "approve"},
                allow_redirects=False,
                timeout=10,
            )
        code = parse_qs(urlsplit(reply.headers["Location"]).query)["code"][0]
        token = requests.post(
            f"{self.url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "client_id": settings.client_id,
                "client_secret": settings.client_secret,
                "code": code,
                "redirect_uri": redirect_uri,
            },
            timeout=10,
        )
        token.raise_for_status()
        return token.json()

    def start(self) -> SandboxServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sandbox-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, wait for requests in progress, close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def point_at_sandbox(
    config: AnyConfig, sandbox: SandboxServer, public_url: str | None = None
) -> AnyConfig:
    """Aim the app at this sandbox as at Jumpseller: accounts, API, credentials, framing admin."""
    credentials = sandbox.state.config
    config.JUMPSELLER_AUTH_URL = sandbox.url
    config.JUMPSELLER_API_URL = sandbox.api_url
    config.JUMPSELLER_CLIENT_ID = credentials.client_id
    config.JUMPSELLER_CLIENT_SECRET = credentials.client_secret
    config.FRAME_ANCESTORS = ["https://{store}.jumpseller.com", sandbox.url]
    if public_url is not None:
        config.PUBLIC_URL = public_url
    return config
