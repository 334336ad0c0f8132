"""Every `flask` command, as an operator runs it, answers missing or wrong settings in words.

The commands are found by walking the CLI the `flask` program builds (Flask's own, the dev
plugin's and the app's, groups included), so a command added later is checked without being
listed here. Each runs in its own process, the way the README runs it: the venv's `flask` with
FLASK_APP=feedapp.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
from flask.cli import FlaskGroup, ScriptInfo

from config import REQUIRED, SETTINGS, TestConfig
from feedapp import create_app

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")
KEY = "tK4b0z8rnP0xKQ2cQ3f1E0y9Yt0r2G8Q9mO3r4y3QzA="
PASSWORD = "hunter2-not-for-print"
CLOSED = "127.0.0.1:1"  # nothing listens on port 1 here
#: Commands that need no setting: they may run without any, so only a wrong one must stop them.
SETTINGS_FREE = {
    "routes": "lists the URL rules",
    "shell": "an interactive shell; what it touches names a missing setting itself",
    "sandbox": "the local Jumpseller: every setting it reads has a default",
}
#: The one line a malformed REDIS_URL gives, whatever the command.
MALFORMED = (
    "feedapp cannot start: REDIS_URL must be a redis://, rediss:// or unix:// URL "
    "(e.g. redis://redis:6379/0), not 'notaurl'"
)


def commands() -> list[list[str]]:
    """Every leaf command of the `flask` program, as argv with each required argument filled."""
    return [path + _arguments(command) for path, command in _leaves()]


def _leaves() -> list[tuple[list[str], click.Command]]:
    """The `flask` program's leaf commands and their paths (["stores", "list"])."""
    root = FlaskGroup(create_app=lambda: create_app(TestConfig()))
    ctx = click.Context(root, info_name="flask", obj=ScriptInfo(create_app=root.create_app))
    with ctx:
        return list(_walk(root, ctx, []))


def _walk(
    group: click.Group, ctx: click.Context, path: list[str]
) -> Iterator[tuple[list[str], click.Command]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from _walk(
                command, click.Context(command, info_name=name, parent=ctx), [*path, name]
            )
        else:
            yield [*path, name], command


def _arguments(command: click.Command) -> list[str]:
    """A value for every argument, optional ones too: a store code, standing in for a FEED as well
    (every command looks the store up first, so the settings and Redis checks come first)."""
    return ["teststore" for p in command.params if isinstance(p, click.Argument)]


def run(argv: list[str], settings: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`flask ARGV` in a process of its own, with exactly `settings` of the app's variables."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and k != "FLASK_APP"}
    env.update(settings, FLASK_APP="feedapp")
    return subprocess.run(
        [FLASK, *argv],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )


def run_all(
    argvs: list[list[str]], settings: dict[str, str]
) -> list[tuple[list[str], subprocess.CompletedProcess[str]]]:
    """Each command run in parallel (each is a new Python process: seconds apiece)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(zip(argvs, pool.map(lambda argv: run(argv, settings), argvs), strict=True))


def lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """What the operator sees, blank lines left out."""
    return [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]


def needing_settings() -> list[list[str]]:
    """The commands that cannot run without settings: all but SETTINGS_FREE."""
    found = commands()
    free = [argv for argv in found if argv[0] in SETTINGS_FREE]
    assert {argv[0] for argv in free} == set(SETTINGS_FREE), "a settings-free command is gone"
    return [argv for argv in found if argv[0] not in SETTINGS_FREE]


def test_the_walk_finds_every_kind_of_command() -> None:
    found = {" ".join(argv) for argv in commands()}
    for expected in (
        "stores list",
        "stores show teststore",
        "feeds status teststore teststore",
        "feeds rebuild teststore teststore",
        "feeds list teststore",
        "feeds rules teststore teststore",
        "feeds auth teststore",
        "worker",
        "scheduler",
        "run",
        "sandbox",
    ):
        assert expected in found, (expected, sorted(found))


def test_without_settings_every_command_names_what_is_missing() -> None:
    failures = []
    for argv, proc in run_all(needing_settings(), {}):
        shown = lines(proc)
        last = shown[-1] if shown else ""
        named = re.match(r"\s+([A-Z_]+): ", last)
        problems = [
            proc.returncode != 2 and f"exit {proc.returncode}",
            "Traceback" in proc.stdout + proc.stderr and "a traceback",
            not (named and named.group(1) in REQUIRED) and f"last line {last!r}",
            not all(f"  {name}: {REQUIRED[name]}" in shown for name in ("REDIS_URL", "TOKEN_KEYS"))
            and "REDIS_URL or TOKEN_KEYS not named",
            sum("cannot start" in line for line in shown) != 1 and "not one message",
        ]
        failures += [f"flask {' '.join(argv)}: {p}" for p in problems if p]
    assert not failures, "\n".join(failures)


def test_a_malformed_setting_stops_every_command_with_one_line() -> None:
    failures = []
    for argv, proc in run_all(commands(), {"REDIS_URL": "notaurl"}):
        if proc.returncode != 2 or lines(proc) != [MALFORMED]:
            failures.append(f"flask {' '.join(argv)}: exit {proc.returncode}, {lines(proc)[-3:]}")
    assert not failures, "\n".join(failures)


def test_an_unreachable_redis_is_one_line_without_its_password() -> None:
    settings = {
        "SECRET_KEY": "x",
        "JUMPSELLER_CLIENT_ID": "a",
        "JUMPSELLER_CLIENT_SECRET": "b",
        "JUMPSELLER_AUTH_URL": f"http://{CLOSED}",
        "JUMPSELLER_API_URL": f"http://{CLOSED}/v1",
        "TOKEN_KEYS": KEY,
        "REDIS_URL": f"redis://:{PASSWORD}@{CLOSED}/0",
    }
    failures = []
    for argv, proc in run_all(needing_settings(), settings):
        shown = lines(proc)
        last = shown[-1] if shown else ""
        problems = [
            proc.returncode != 1 and f"exit {proc.returncode}",
            "Traceback" in proc.stdout + proc.stderr and "a traceback",
            PASSWORD in proc.stdout + proc.stderr and "the password shown",
            not (last.startswith("Error: Redis at redis://:***@") and "fix REDIS_URL" in last)
            and f"last line {last!r}",
        ]
        failures += [f"flask {' '.join(argv)}: {p}" for p in problems if p]
    assert not failures, "\n".join(failures)


def test_help_needs_no_settings() -> None:
    paths = {tuple(path[:depth]) for path, _ in _leaves() for depth in range(len(path) + 1)}
    failures = []
    for argv, proc in run_all([[*path, "--help"] for path in sorted(paths)], {}):
        if proc.returncode != 0 or "Usage:" not in proc.stdout or proc.stderr:
            failures.append(f"flask {' '.join(argv)}: exit {proc.returncode}, {proc.stderr!r}")
    assert not failures, "\n".join(failures)
