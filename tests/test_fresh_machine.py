"""`make test` on a fresh machine: offline on a redis-server of its own, or one line saying why.

The runs work on a copy of the working tree (its tracked and untracked files: what a clean clone
of this work holds) and reuse this virtualenv by path, since setting one up needs the network.
`unshare -n` gives a run a network namespace with only loopback; `unshare -m` lets a run see
/usr/bin/chromium as missing without touching the machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
from prerequisites import CHROMIUM, missing
from processes import ROOT, descendants
from redis import Redis
from redis.exceptions import RedisError
from redis_server import RedisServer

#: Tests that need Redis: the part of the suite the runs below repeat (all of it would double CI).
SUBSET = ("tests/test_stores.py", "tests/builds/test_queueing.py")
#: Offline, also the one test that installs packages (from the wheelhouse `make setup` fills).
OFFLINE_SUBSET = (*SUBSET, "tests/test_packaging.py")
#: This virtualenv, which the copies use as theirs.
VENV = Path(sys.prefix)
#: How soon a run must stop when the machine lacks something.
REFUSAL_SECONDS = 5.0
#: What a developer's Redis may hold on the suite's old default address (db 15).
DEVELOPER_REDIS = ("127.0.0.1", 6379, 15)


def tool(name: str) -> str:
    """The path of a program the runs need; the test fails (never skips) without it."""
    found = shutil.which(name)
    assert found, f"{name} is not installed (unshare: util-linux, ip: iproute2)"
    return found


def offline(*, hide_chromium: Path | None = None) -> list[str]:
    """The prefix that runs a command in a namespace with only loopback (and maybe no chromium)."""
    assert subprocess.run([tool("unshare"), "-n", "true"]).returncode == 0, "unshare -n: not root?"
    script = f"{tool('ip')} link set lo up && "
    flags = ["-n"]
    if hide_chromium is not None:  # a private mount namespace: the machine keeps its chromium
        flags.append("-m")
        script += f"mount --bind {hide_chromium} {CHROMIUM} && "
    return [tool("unshare"), *flags, "sh", "-c", script + 'exec "$@"', "sh"]


def fresh_env(**changes: str) -> dict[str, str]:
    """This environment as a fresh machine's shell has it: no REDIS_URL, no outer make's flags."""
    drop = ("REDIS_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **changes}


def run(
    command: list[str], cwd: Path, env: dict[str, str], timeout: float
) -> tuple[int, str, float]:
    """Exit code, output (stdout and stderr) and seconds; on a timeout every descendant killed."""
    started = time.monotonic()
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for pid in [*descendants(proc.pid), proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        output, _ = proc.communicate()
        pytest.fail(f"{command} still ran after {timeout} s:\n{output[-3000:]}")
    return proc.returncode, output, time.monotonic() - started


def path_without(program: str, farm: Path) -> str:
    """This PATH with `program` taken out: the other programs of its folders linked from `farm`."""
    farm.mkdir()
    folders: list[str] = []
    for folder in os.environ["PATH"].split(os.pathsep):
        if folder and (Path(folder) / program).exists():
            for entry in Path(folder).iterdir():
                if entry.name != program and not os.path.lexists(farm / entry.name):
                    (farm / entry.name).symlink_to(entry)
            folder = str(farm)
        if folder and folder not in folders:
            folders.append(folder)
    path = os.pathsep.join(folders)
    assert shutil.which(program, path=path) is None and shutil.which("make", path=path)
    return path


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the working tree's tracked and untracked files, none of the ignored ones."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    copy = tmp_path_factory.mktemp("checkout")
    for name in filter(None, listing.split("\0")):
        if (ROOT / name).is_file():  # a tracked file deleted in the working tree is listed too
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    return copy


def one_line_refusal(command: list[str], checkout: Path, env: dict[str, str]) -> str:
    """Run a command that must stop at once with one line and a non-zero exit; that line."""
    code, output, seconds = run(command, checkout, env, timeout=60)
    lines = [line for line in output.splitlines() if line.strip()]
    assert code != 0 and len(lines) == 1, f"exit {code}, {len(lines)} lines:\n{output[-3000:]}"
    assert seconds < REFUSAL_SECONDS, f"took {seconds:.1f} s to say: {lines[0]}"
    return lines[0]


NEED = "The tests need {}, which {} not installed: apt-get install {}"


@pytest.mark.parametrize(
    ("redis_url", "without", "chromium", "expected"),
    [
        (
            None,
            ("redis-server", "caddy"),
            "/nonexistent",
            NEED.format("redis-server, chromium and caddy", "are", "redis-server chromium caddy"),
        ),
        (None, ("redis-server",), CHROMIUM, NEED.format("redis-server", "is", "redis-server")),
        (None, (), "/nonexistent", NEED.format("chromium", "is", "chromium")),
        (None, ("caddy",), CHROMIUM, NEED.format("caddy", "is", "caddy")),
        (None, (), CHROMIUM, None),
        ("redis://127.0.0.1:6379/0", ("redis-server",), CHROMIUM, None),  # no redis-server needed
    ],
    ids=["none", "no-redis-server", "no-chromium", "no-caddy", "all", "redis-url-instead"],
)
def test_missing_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    redis_url: str | None,
    without: tuple[str, ...],
    chromium: str,
    expected: str | None,
) -> None:
    for n, program in enumerate(without):  # each program taken out of the PATH left so far
        monkeypatch.setenv("PATH", path_without(program, tmp_path / f"bin{n}"))
    assert missing(redis_url, chromium) == expected


@pytest.mark.slow
def test_offline_make_test_passes_on_a_redis_of_its_own(checkout: Path, tmp_path: Path) -> None:
    setup_done = ("-o", f"{VENV}/bin/flask", "-o", f"{VENV}/wheelhouse/requirements.txt")
    pytest_args = f"-p no:cacheprovider --basetemp={tmp_path / 'run'} {' '.join(OFFLINE_SUBSET)}"
    command = [tool("make"), *setup_done, "test", f"VENV={VENV}", f"PYTEST_ARGS={pytest_args}"]
    code, output, _ = run([*offline(), *command], checkout, fresh_env(), timeout=300)
    assert code == 0, output[-5000:]
    assert " passed" in output.splitlines()[-1] and "failed" not in output


@pytest.mark.slow
def test_the_suite_leaves_the_developers_redis_alone(checkout: Path, tmp_path: Path) -> None:
    host, port, db = DEVELOPER_REDIS
    developer = Redis(host=host, port=port, db=db, socket_connect_timeout=1)
    temporary = tmp_path / "tmp"  # where the run's own redis-server keeps its folder
    temporary.mkdir()
    with ExitStack() as stack:
        try:
            developer.ping()
        except RedisError:  # none runs here: one stands in, as a developer's would
            stack.enter_context(RedisServer(port=port))
        sentinel = f"feedapp-sentinel:{uuid.uuid4().hex}"
        developer.set(sentinel, "keep me", ex=600)
        stack.callback(developer.delete, sentinel)
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *SUBSET]
        command.append(f"--basetemp={tmp_path / 'run'}")
        code, output, _ = run(command, checkout, fresh_env(TMPDIR=str(temporary)), timeout=300)
        assert code == 0, output[-5000:]
        assert developer.get(sentinel) == b"keep me", f"db {db} of {host}:{port} was flushed"
    assert list(temporary.iterdir()) == [], "the run's redis-server left its folder behind"
    servers = [entry.name for entry in Path("/proc").iterdir() if works_in(entry, temporary)]
    assert servers == [], "the run's redis-server is still running"


def works_in(process: Path, folder: Path) -> bool:
    """Whether a /proc entry is a process whose working folder is (or was) inside `folder`."""
    try:
        return process.name.isdigit() and os.readlink(process / "cwd").startswith(f"{folder}/")
    except OSError:  # gone meanwhile
        return False


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["make", "pytest"])
def test_without_redis_server_one_line_at_once(checkout: Path, tmp_path: Path, runner: str) -> None:
    env = fresh_env(PATH=path_without("redis-server", tmp_path / "bin"))
    command = {
        "make": [tool("make"), "test", f"PYTEST_ARGS={' '.join(SUBSET)}"],
        "pytest": [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *SUBSET],
    }[runner]
    line = one_line_refusal([*offline(), *command], checkout, env)
    assert "redis-server, which is not installed: apt-get install redis-server" in line


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["make", "pytest"])
def test_without_chromium_one_line_at_once(checkout: Path, tmp_path: Path, runner: str) -> None:
    nothing = tmp_path / "not-a-browser"
    nothing.write_bytes(b"")
    nothing.chmod(0o644)  # what the run sees at /usr/bin/chromium: no program
    command = {
        "make": [tool("make"), "test", f"PYTEST_ARGS={' '.join(SUBSET)}"],
        "pytest": [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *SUBSET],
    }[runner]
    line = one_line_refusal([*offline(hide_chromium=nothing), *command], checkout, fresh_env())
    assert "chromium, which is not installed: apt-get install chromium" in line
    assert os.access(CHROMIUM, os.X_OK)  # the machine's own is untouched
