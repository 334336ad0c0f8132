"""Static checks of the deployment files: no container engine runs here, so these are the test."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

from config import SETTINGS, Config
from config import TestConfig as Settings
from feedapp import create_app
from feedapp.web import limits, security, serving

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "scheduler")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


def command(name: str) -> list[str]:
    cmd = service(name)["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def mounts(name: str) -> list[tuple[str, str, str]]:
    """(source, target, mode) of each short-syntax volume of a service."""
    out = []
    for spec in service(name).get("volumes", []):
        source, target, *mode = spec.split(":")
        out.append((source, target, mode[0] if mode else "rw"))
    return out


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line) for line in lines)
    return {m[1]: m[2] for m in pairs if m}


def caddyfile() -> str:
    return (ROOT / "deploy" / "Caddyfile").read_text()


#: `{$NAME}` or `{$NAME:default}` in the Caddyfile: an environment variable, maybe with a default.
CADDY_ENV = re.compile(r"\{\$([A-Z0-9_]+)(?::([^}]*))?\}")


def caddy_default(text: str) -> str:
    """A Caddyfile value as production has it: env placeholders with defaults at their default."""
    return CADDY_ENV.sub(lambda m: m[2] if m[2] is not None else m[0], text)


def caddy_json() -> dict:
    """The Caddyfile as Caddy itself reads it (`caddy adapt`), with .env.example's values."""
    placeholders = dict(CADDY_ENV.findall(caddyfile()))
    env = {name: value for name, value in os.environ.items() if name not in placeholders}
    env.update({name: env_example()[name] for name, default in placeholders.items() if not default})
    adapted = subprocess.run(
        [shutil.which("caddy") or "caddy", "adapt", "--config", str(ROOT / "deploy" / "Caddyfile")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(adapted.stdout)


def handlers(node: object) -> Iterator[tuple[dict, list]]:
    """Every handler of an adapted config with the matchers of the route holding it."""
    if isinstance(node, dict):
        for handler in node.get("handle", []):
            yield handler, node.get("match", [])
        for value in node.values():
            yield from handlers(value)
    elif isinstance(node, list):
        for value in node:
            yield from handlers(value)


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    rows = [line.strip() for line in text.splitlines()]
    return [
        (row.split(None, 1)[0].upper(), row.split(None, 1)[1])
        for row in rows
        if row and not row.startswith("#")
    ]


def test_every_service_exists() -> None:
    assert {"redis", "web", "worker", "scheduler", "proxy"} <= set(compose()["services"])


def test_redis_is_durable_and_never_evicts() -> None:
    redis = service("redis")
    assert redis["image"].split(":")[1].startswith("7")
    args = " ".join(command("redis"))
    for option in ("--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction"):
        assert option in args
    (source, target, _), *_ = mounts("redis")
    assert target == "/data" and source in compose()["volumes"]
    assert "redis-cli" in redis["healthcheck"]["test"]


def test_app_services_share_one_image_and_env_file() -> None:
    builds = {(repr(service(n).get("build")), service(n).get("image")) for n in APP_SERVICES}
    assert len(builds) == 1 and None not in next(iter(builds))
    for name in (*APP_SERVICES, "proxy"):  # Redis needs none of these secrets
        assert service(name)["env_file"] in (".env", [".env"]), name
        assert service(name)["restart"] in ("unless-stopped", "always"), name


def test_one_scheduler_and_several_workers() -> None:
    assert service("scheduler")["deploy"]["replicas"] == 1
    assert service("worker")["deploy"]["replicas"] == 2


def test_web_waits_for_a_healthy_redis() -> None:
    assert service("web")["depends_on"]["redis"]["condition"] == "service_healthy"


def test_gunicorn_target_is_the_app_factory() -> None:
    cmd = command("web")
    assert cmd[0] == "gunicorn"
    module_name, _, attr = cmd[-1].partition(":")
    factory = getattr(importlib.import_module(module_name), attr.removesuffix("()"))
    assert callable(factory)
    inspect.signature(factory).bind()  # gunicorn calls it with no arguments
    assert "--forwarded-allow-ips=*" in cmd
    assert "--preload" in cmd  # a bad setting ends the container, not a restart loop
    # Threads, not one process per request; no keep-alive: a refused upload's connection closes
    # instead of being drained, and Caddy never reuses a connection gunicorn is closing.
    assert cmd[cmd.index("--worker-class") + 1] == "gthread"
    assert cmd[cmd.index("--keep-alive") + 1] == "0"
    # The image's default command is the web command, so `docker run` starts the same thing.
    cmd_row = [args for instr, args in dockerfile() if instr == "CMD"][-1]
    assert json.loads(cmd_row) == cmd


@pytest.mark.parametrize("name", ["worker", "scheduler"])
def test_flask_commands_are_registered(name: str) -> None:
    cmd = command(name)
    assert cmd[0] == "flask"
    app = create_app(Settings())
    assert cmd[1] in app.cli.commands, f"`flask {cmd[1]}` is not a registered command"


def test_healthcheck_targets_the_health_route() -> None:
    app = create_app(Settings())
    assert "/healthz" in {rule.rule for rule in app.url_map.iter_rules()}
    check = [args for instr, args in dockerfile() if instr == "HEALTHCHECK"][0]
    port = command("web")[command("web").index("--bind") + 1].rsplit(":", 1)[1]
    assert f"127.0.0.1:{port}/healthz" in check
    for name in ("worker", "scheduler"):  # they serve no HTTP: the image's check would fail
        assert service(name)["healthcheck"] == {"disable": True}


def test_feeds_volume_is_shared_by_web_worker_and_proxy() -> None:
    feeds_dir = env_example()["FEEDS_DIR"]
    assert ("feeds", feeds_dir, "rw") in mounts("web")
    assert ("feeds", feeds_dir, "rw") in mounts("worker")
    assert "feeds" in compose()["volumes"]
    proxy = {target: (source, mode) for source, target, mode in mounts("proxy")}
    root = caddy_default(re.search(r"^\s*root \* (\S+)$", caddyfile(), re.M)[1])
    assert proxy[root.rstrip("/") + serving.PROTECTED_PREFIX] == ("feeds", "ro")


def test_proxy_offloads_feeds_and_fronts_the_web_service() -> None:
    text = caddyfile()
    env = env_example()
    port = command("web")[command("web").index("--bind") + 1].rsplit(":", 1)[1]
    upstream = re.search(r"^\s*reverse_proxy (\S+) \{", text, re.M)[1]
    assert caddy_default(upstream) == f"web:{port}"
    header = env["FEED_SENDFILE_HEADER"]
    assert re.search(rf"@accel header {re.escape(header)} \*", text)
    assert f"{{http.reverse_proxy.header.{header}}}" in text
    assert f"respond {serving.PROTECTED_PREFIX}/* 404" in text
    assert {"80:80", "443:443"} <= set(service("proxy")["ports"])
    assert service("proxy")["volumes"][0].endswith(":/etc/caddy/Caddyfile:ro")
    assert service("proxy")["volumes"][0].startswith("./deploy/Caddyfile:")


def test_proxy_bounds_every_request_before_gunicorn_sees_it() -> None:
    """Caddy reads each request whole, within deadlines and the app's largest body limit."""
    config = caddy_json()
    (server,) = config["apps"]["http"]["servers"].values()
    assert server["read_header_timeout"] <= 10e9 and server["read_timeout"] <= 30e9
    assert server["idle_timeout"] <= 300e9 and "write_timeout" not in server  # big feeds finish
    found = {handler["handler"]: (handler, match) for handler, match in handlers(config)}
    assert found["request_body"][0]["max_size"] == limits.LARGEST_BODY
    proxy = found["reverse_proxy"][0]
    assert proxy["buffer_requests"] and proxy["max_buffer_size"] == limits.LARGEST_BODY
    refusals = [
        (handler, match)
        for handler, match in handlers(config)
        if handler.get("status_code") == 413 and handler.get("close")
    ]
    (expression,) = [m["expression"] for _, matches in refusals for m in matches]
    assert "Content-Length" in expression and f"> {limits.LARGEST_BODY}" in expression
    hsts = [
        (handler, match)
        for handler, match in handlers(config)
        if "Strict-Transport-Security" in handler.get("response", {}).get("set", {})
    ]
    (header, match), *_ = hsts
    assert header["response"]["set"]["Strict-Transport-Security"] == [security.HSTS]
    assert header["response"]["deferred"] and match == [{"protocol": "https"}]
    # The Caddyfile is written for (and tested with) this Caddy: 2.7 renamed buffer_requests.
    assert re.fullmatch(r"caddy:2\.6\.\d+", service("proxy")["image"])


def test_env_example_points_at_the_stack() -> None:
    env = env_example()
    host = re.fullmatch(r"redis://([^:/]+):6379/\d+", env["REDIS_URL"])[1]
    assert service(host)["image"].startswith("redis:")
    assert env["PUBLIC_URL"] == f"https://{env['DOMAIN']}"


def test_every_env_example_variable_is_read() -> None:
    # Config reads exactly the variables SETTINGS declares (tests/test_config.py proves it).
    proxy_vars = {name: default for name, default in CADDY_ENV.findall(caddyfile())}
    for name in env_example():
        if name in proxy_vars:
            continue
        assert name in SETTINGS, f"config.Config does not read {name}"
    # The ones without a default are the operator's to set; the others are for the tests.
    assert {name for name, default in proxy_vars.items() if not default} <= set(env_example())
    Config(env_example())  # and every value the example gives is a valid one


def test_every_setting_is_documented() -> None:
    documented = set(env_example())
    for name in SETTINGS:
        assert name in documented, f"{name} is missing from .env.example"


def test_dockerfile_builds_a_non_root_image() -> None:
    rows = dockerfile()
    assert rows[0] == ("FROM", "python:3.11-slim")
    env = " ".join(args for instr, args in rows if instr == "ENV")
    assert "FEEDS_DIR=/data/feeds" in env and "FLASK_APP=feedapp" in env
    users = [args for instr, args in rows if instr == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(instr == "RUN" and "pip install" in args for instr, args in rows)


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps a project path out of the build context."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return any(fnmatch(path, p) or fnmatch(path.split("/")[0], p) for p in patterns)


def test_docker_context_has_what_copy_needs_and_no_secrets() -> None:
    for instr, args in dockerfile():
        if instr == "COPY":
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: no such file in the project"
                assert not dockerignored(source), f"COPY {source}: excluded by .dockerignore"
    for secret in (".env", ".venv", ".git", "feeds", "instance"):
        assert dockerignored(secret), secret


def test_image_installs_the_production_package_only() -> None:
    """A regular install without the dev extra; tests/test_packaging.py replays it for real."""
    rows = dockerfile()
    installs = [args for instr, args in rows if instr == "RUN" and "pip install" in args]
    assert any(re.search(r"\bpip install --no-deps \.(\s|$)", args) for args in installs)
    for words in map(str.split, installs):
        assert not {"-e", "--editable"} & set(words), words
        assert not any("[dev]" in word or word.rstrip("/").endswith("dev") for word in words)
    copied = {
        source.strip("./").split("/")[0]
        for instr, args in rows
        if instr == "COPY"
        for source in args.split()[:-1]
    }
    assert not copied & {"tests", "dev"}
    for development in ("tests", "dev"):
        assert dockerignored(development), development
    for name in APP_SERVICES:
        assert not any("sandbox" in part for part in command(name)), name
