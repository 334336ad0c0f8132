"""No secret reaches a log at any level: every process at DEBUG through the whole pipeline.

The integration test runs the deployed processes (gunicorn with the compose file's command,
`flask worker`, `flask scheduler`) against a password-protected redis-server and the sandbox over
HTTP, drives install, build, feed fetches, a failing feed route, webhooks, a token refresh and a
failing install, then greps every captured log for every secret that was in play.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from feedapp_dev.sandbox import SandboxConfig
from live_servers import authorize_in_sandbox
from processes import Process, descendants, process_env, wait_for
from redis_server import RedisServer, free_port
from sandbox_server import SandboxServer
from test_deploy import command

from config import SETTINGS, Config, TestConfig
from feedapp import create_app
from feedapp.builds.status import store_status
from feedapp.feed.publishing import published_feed
from feedapp.jumpseller.hooks import PATH, signature
from feedapp.logs import RedactSecrets
from feedapp.services import Services

ROOT = Path(__file__).resolve().parent.parent
STORE = "sandboxstore"
FEED_TIMEOUT = 120.0


# -- the filter on its own ----------------------------------------------------------------------
SECRET = "Zq8xW3vR7tY2uK5n"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"GET /feeds/{SECRET}.xml HTTP/1.1", "GET /feeds/***.xml HTTP/1.1"),
        (f"Exception on /feeds/{SECRET}.xml.gz [GET]", "/feeds/***.xml.gz [GET]"),
        ("open('/data/feeds/sandboxstore/feed.xml')", "/data/feeds/sandboxstore/feed.xml"),
        (f"GET /feeds/{SECRET} HTTP/1.1", "GET /feeds/*** HTTP/1.1"),
        (f"GET /?t={SECRET}&x=1", "/?t=***&x=1"),
        (f'href="/?lang=es&amp;t={SECRET}"', "&amp;t=***"),
        (f"X-Page-Token: {SECRET}", "X-Page-Token: ***"),
        (f"{{'Authorization': 'Bearer {SECRET}'}}", "'Authorization': '***'"),
        (f"Authorization: Basic {SECRET}", "Authorization: ***"),
        (f"sent with bearer {SECRET} to the API", "bearer *** to the API"),
        (f"Redis at redis://:{SECRET}@redis:6379/0 down", "redis://:***@redis:6379/0 down"),
        (f"https://user:{SECRET}@example.com/x", "https://user:***@example.com/x"),
        (f"grant_type=refresh_token&refresh_token={SECRET}&x=1", "refresh_token=***&x=1"),
        (f'{{"access_token": "{SECRET}", "token_type": "bearer"}}', '"access_token": "***"'),
        (f"{{'client_secret': '{SECRET}'}}", "'client_secret': '***'"),
        (f"/callback?code={SECRET}&state=abc", "?code=***&state=abc"),
        (f"Credentials(username='feed-x', basic_password='{SECRET}')", "basic_password='***'"),
        (f"status_code=200 password: {SECRET}", "status_code=200 password: ***"),
        (f'{{\\"hooks_token\\": \\"{SECRET}\\"}}', '\\"hooks_token\\": \\"***\\"'),
        (f"configured value {SECRET} echoed", "configured value *** echoed"),
        ("store=sandboxstore status=200 Store-Code: sandboxstore", "Store-Code: sandboxstore"),
    ],
)
def test_the_filter_masks_each_kind_of_secret(text: str, kept: str) -> None:
    masked = RedactSecrets([SECRET]).redact(text)
    assert SECRET not in masked and kept in masked, masked


class _Lazy:
    """An argument that renders a secret only when the message is formatted."""

    def __str__(self) -> str:
        return f"token refresh_token={SECRET}"


def test_the_filter_formats_lazy_args_and_tracebacks_before_any_handler() -> None:
    redact = RedactSecrets([])
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "got %s", (_Lazy(),), None)
    try:
        raise RuntimeError(f"connect to redis://:{SECRET}@host:6379/0 failed")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    assert redact.filter(record)
    assert (record.msg, record.args) == ("got token refresh_token=***", None)
    text = logging.Formatter("%(message)s").format(record)
    assert SECRET not in text and "redis://:***@host" in text and "RuntimeError" in text


@pytest.mark.parametrize(
    "unit",
    [
        "a:",
        "://a:",
        "/feeds/",
        "/feeds/a",
        "?t=",
        "code",
        "code =",
        "a_",
        "x_password",
        "Bearer ",
        "bearer a",
        "x" * 7,
        " ",
        "@:",
    ],
)
def test_the_filter_takes_linear_time_on_hostile_text(unit: str) -> None:
    redact = RedactSecrets([SECRET, "another-secret"])
    text = unit * (60_000 // len(unit))
    started = time.perf_counter()
    redact.redact(text)
    # Linear work on 60 kB takes milliseconds; a quadratic pattern takes seconds.
    assert time.perf_counter() - started < 1.0


def test_testing_apps_leave_the_test_runners_logging_alone(config: TestConfig, redis) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers), [h.filters[:] for h in root.handlers])
    create_app(config, redis=redis)
    assert (root.level, list(root.handlers), [h.filters[:] for h in root.handlers]) == before


def test_an_unreachable_redis_is_named_without_its_password() -> None:
    password = secrets.token_hex(12)
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and k != "FLASK_APP"}
    env.update(
        SECRET_KEY="x",
        JUMPSELLER_CLIENT_ID="a",
        JUMPSELLER_CLIENT_SECRET="b",
        TOKEN_KEYS=Fernet.generate_key().decode(),
        REDIS_URL=f"redis://:{password}@127.0.0.1:1/0",
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "feedapp", "stores", "list"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Redis at redis://:***@127.0.0.1:1/0 does not answer" in proc.stderr, proc.stderr
    assert password not in proc.stderr + proc.stdout


# -- the deployed processes ---------------------------------------------------------------------
@contextmanager
def gunicorn(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen]:
    """The compose file's web command, bound to a loopback port; stopped after the block."""
    args = command("web")
    args[args.index("--bind") + 1] = f"127.0.0.1:{port}"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                for pid in [*descendants(proc.pid), proc.pid]:
                    os.kill(pid, signal.SIGKILL)
                proc.wait()


def answers(url: str) -> bool:
    """Whether the server answers 200 at `url` yet."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def control(sandbox: SandboxServer, path: str, payload: dict | None = None) -> dict:
    """Call the sandbox's control API (GET without a payload)."""
    method = "post" if payload is not None else "get"
    reply = requests.request(method, f"{sandbox.url}/_sandbox/{path}", json=payload, timeout=10)
    reply.raise_for_status()
    return reply.json()


def start_install(app_url: str) -> tuple[str, dict[str, str]]:
    """/install as a browser starts it: the sandbox's authorize URL and the cookies set.

    The cookies are sent back by hand: requests keeps Secure cookies off plain-http URLs.
    """
    reply = requests.get(f"{app_url}/install", allow_redirects=False, timeout=10)
    assert reply.status_code in (302, 303), reply.text
    return reply.headers["Location"], dict(reply.cookies)


def wait_built(svc: Services, after: float) -> dict:
    """The store's status once a build that finished after `after` succeeded."""

    def done() -> dict | None:
        build = svc.registry.get_json(STORE, "build") or {}
        if float(build.get("finished_at") or 0) > after and build.get("state") in ("ok", "failed"):
            return store_status(svc, STORE)
        return None

    status = wait_for(done, FEED_TIMEOUT, f"a build of {STORE}", every=0.2)
    assert status["state"] == "ok", status["error"]
    return status


def issued(sandbox: SandboxServer) -> dict[str, str]:
    """Every code and token the sandbox handed out, and the store's hooks_token."""
    with sandbox.state.lock:
        grants = sandbox.state.grants
        found = {f"authorization code #{i}": c for i, c in enumerate(grants.codes, 1)}
        found.update({f"access token #{i}": t for i, t in enumerate(grants.access, 1)})
        found.update({f"refresh token #{i}": t for i, t in enumerate(grants.refresh, 1)})
        found["hooks_token"] = sandbox.state.store(STORE).hooks_token
    return found


def leaks(logs: dict[str, Path], secret_values: dict[str, str]) -> list[str]:
    """Each log line holding a secret (or its URL-encoded form), shown with the secret masked."""
    found = []
    for log_name, path in logs.items():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for what, value in secret_values.items():
                for form in {value, quote(value, safe="")}:
                    if form in line:
                        shown = line.replace(form, f"<{what}>")[:400]
                        found.append(f"{what} in {log_name} log, line {number}: {shown}")
    return found


def debug_lines(path: Path) -> int:
    """Lines logged at DEBUG."""
    return sum(" DEBUG " in line for line in path.read_text(errors="replace").splitlines())


@pytest.mark.slow
def test_no_secret_reaches_any_log_at_debug(tmp_path: Path) -> None:
    client_secret = secrets.token_urlsafe(24)
    secret_key = secrets.token_urlsafe(48)
    token_key = Fernet.generate_key().decode()
    redis_password = secrets.token_hex(16)
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "worker", "scheduler")}
    handed_out: dict[str, str] = {}  # page tokens and cookie values our app gave the browser

    def keep(kind: str, values: list[str]) -> None:
        """Remember credentials the app handed out (deleted cookies are empty: not secrets)."""
        for value in values:
            if len(value) >= 8:
                handed_out[f"{kind} #{len(handed_out) + 1}"] = value

    with ExitStack() as stack:
        redis_url = stack.enter_context(RedisServer(password=redis_password))
        sandbox = stack.enter_context(
            SandboxServer(
                SandboxConfig(
                    client_secret=client_secret,
                    app_url=f"{app_url}/",
                    redirect_uris=[f"{app_url}/callback"],
                    product_count=60,
                )
            )
        )
        config = Config(
            {
                "SECRET_KEY": secret_key,
                "PUBLIC_URL": app_url,
                "JUMPSELLER_CLIENT_ID": sandbox.state.config.client_id,
                "JUMPSELLER_CLIENT_SECRET": client_secret,
                "JUMPSELLER_AUTH_URL": sandbox.url,
                "JUMPSELLER_API_URL": sandbox.api_url,
                "FRAME_ANCESTORS": sandbox.url,
                "REDIS_URL": redis_url,
                "FEEDS_DIR": str(tmp_path / "feeds"),
                "TOKEN_KEYS": token_key,
                "LOG_LEVEL": "DEBUG",
                "WEBHOOK_DEBOUNCE_SECONDS": "0",
                "BUILD_LOCK_TTL": "5",
            }
        )
        env = process_env(config)
        svc = Services(config)
        stack.callback(svc.redis.close)
        stack.enter_context(gunicorn(env, port, logs["web"]))
        wait_for(lambda: answers(f"{app_url}/healthz"), 60, "gunicorn to answer /healthz")
        for kind in ("worker", "scheduler"):
            stack.callback(Process([kind], env, logs[kind]).stop)

        # Install through the OAuth flow; the first build starts at once.
        mark = time.time()
        authorize_url, cookies = start_install(app_url)
        keep("install cookie", list(cookies.values()))
        callback = authorize_in_sandbox(authorize_url)
        done = requests.get(callback, cookies=cookies, allow_redirects=False, timeout=30)
        assert done.status_code in (302, 303), done.text
        page_url = urljoin(f"{app_url}/", done.headers["Location"])
        page_tokens = parse_qs(urlsplit(page_url).query).get("t", [])
        keep("page token", page_tokens)
        keep("session cookie", list(done.cookies.values()))
        page = requests.get(page_url, cookies=dict(done.cookies), timeout=10)
        assert page.status_code == 200
        keep("page cookie", list(page.cookies.values()))
        for token in page_tokens:  # what the page's own fetch calls send
            requests.get(
                f"{app_url}/settings/status",
                headers={"X-Page-Token": token, "Accept": "application/json"},
                timeout=10,
            )
        wait_built(svc, after=mark)

        # Merchant Center fetches the feed; strangers try addresses that hold no feed.
        store = svc.registry.get(STORE)
        feed_url = f"{app_url}/feeds/{store.first_feed.token}.xml"
        assert requests.get(feed_url, timeout=10).status_code == 200
        assert requests.get(f"{feed_url}.gz", timeout=10).status_code == 200
        unknown = secrets.token_urlsafe(32)
        assert requests.get(f"{app_url}/feeds/{unknown}.xml", timeout=10).status_code == 404
        assert requests.get(f"{app_url}/feeds/no.xml", timeout=10).status_code == 404

        # The feed route fails: the published file is not a file for one request.
        xml_path = published_feed(config.FEEDS_DIR, STORE).xml_path
        aside = xml_path.with_name("feed.xml.aside")
        xml_path.rename(aside)
        xml_path.mkdir()
        try:
            broken = requests.get(feed_url, headers={"Accept-Encoding": "identity"}, timeout=10)
        finally:
            xml_path.rmdir()
            aside.rename(xml_path)
        assert broken.status_code == 500

        # Tokens expire; a signed webhook queues a build, which must refresh them.
        assert control(sandbox, "tokens/expire", {})["expired"] >= 1
        hooks_token = control(sandbox, f"stores/{STORE}")["store"]["hooks_token"]
        body = json.dumps({"product": {"id": 1}}).encode()
        headers = {
            "Content-Type": "application/json",
            "Jumpseller-Event": "product_updated",
            "Jumpseller-Store-Code": STORE,
        }
        forged = {**headers, "Jumpseller-Hmac-Sha256": signature(body, "not-" + hooks_token)}
        assert (
            requests.post(f"{app_url}{PATH}", data=body, headers=forged, timeout=10).status_code
            == 401
        )
        mark = time.time()
        signed = {**headers, "Jumpseller-Hmac-Sha256": signature(body, hooks_token)}
        assert (
            requests.post(f"{app_url}{PATH}", data=body, headers=signed, timeout=10).status_code
            == 200
        )
        wait_built(svc, after=mark)
        assert control(sandbox, "stats")["token_grants"].get("refresh_token", 0) >= 1

        # An install whose code exchange Jumpseller refuses (the client secret no longer matches).
        authorize_url, cookies = start_install(app_url)
        keep("install cookie", list(cookies.values()))
        callback = authorize_in_sandbox(authorize_url)
        control(sandbox, "config", {"client_secret": secrets.token_urlsafe(24)})
        try:
            failed = requests.get(callback, cookies=cookies, allow_redirects=False, timeout=30)
        finally:
            control(sandbox, "config", {"client_secret": client_secret})
        assert failed.status_code == 400
        secret_values = {
            "JUMPSELLER_CLIENT_SECRET": client_secret,
            "SECRET_KEY": secret_key,
            "TOKEN_KEYS": token_key,
            "Redis password": redis_password,
            "feed token": store.first_feed.token,
            "unknown feed token": unknown,
            **handed_out,
            **issued(sandbox),
        }
        assert secret_values["hooks_token"] == hooks_token

    # Every process has stopped: the logs are complete.
    sizes = {name: path.stat().st_size for name, path in logs.items()}
    debug = {name: debug_lines(path) for name, path in logs.items()}
    print(f"log sizes {sizes}; DEBUG lines {debug}; secrets checked: {', '.join(secret_values)}")
    found = leaks(logs, secret_values)
    assert not found, f"{len(found)} secret(s) in the logs:\n" + "\n".join(found[:40])
    assert all(debug.values()), f"a log has no DEBUG line: {debug}"
    web, worker = logs["web"].read_text(), logs["worker"].read_text()
    assert f"feed fetch store={STORE}/1 status=200" in web
    assert f"store={STORE} installed" in web
    assert any(" WARNING " in line and "install" in line for line in web.splitlines())
    assert f"store={STORE} access token refreshed" in worker
    # The failing route's lines still say which route failed, and in which store's folder.
    assert "Exception on /feeds/***.xml [GET]" in web and f"/feeds/{STORE}/feed.xml" in web
