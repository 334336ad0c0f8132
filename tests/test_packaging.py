"""The image's install, for real: feedapp alone in a fresh virtualenv, as the Dockerfile builds it.

The Dockerfile's COPY lines are replayed into a build folder, the dependencies come from
pyproject.toml and the package is installed with `pip install --no-deps .`; everything then runs
from another folder, so nothing can come from the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DEV_BIN = Path(sys.executable).parent
#: The image's dependencies as wheels, fetched by `make setup`, so this test needs no network.
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
#: Checkout files the running app never reads (catalog tooling), so the wheel leaves them out.
NOT_SHIPPED = (
    "*/__pycache__/*",
    "*.pyc",
    "feedapp/translations/*.cfg",
    "feedapp/translations/*.pot",
)
#: Only the development install has these: the sandbox and demo, fakeredis, the test tools.
DEV_ONLY_MODULES = ("feedapp_dev", "fakeredis", "pytest")

#: Run by the installed interpreter: the app with test settings, and what it serves.
PROBE = """
import json, sys
from pathlib import Path

import feedapp
from config import TestConfig

config = TestConfig()
config.REDIS_URL, config.FEEDS_DIR = sys.argv[1:3]
app = feedapp.create_app(config)
client = app.test_client()
home = client.get("/", headers={"Accept-Language": "es"})
english = client.get("/", headers={"Accept-Language": "en"})
print(json.dumps({
    "package": str(Path(feedapp.__file__).resolve().parent),
    "template": app.jinja_env.get_template("connect/connect.html").filename,
    "home": [home.status_code, home.get_data(as_text=True)],
    "english": [english.status_code, english.get_data(as_text=True)],
    "static": client.get("/static/feedapp.css").status_code,
    "sandbox_config": client.get("/_sandbox/config").status_code,
}))
"""


def dockerfile_copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of each COPY in the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    rows = [line.split()[1:] for line in text.splitlines() if line.split()[:1] == ["COPY"]]
    return [(row[:-1], row[-1]) for row in rows]


def clean_env() -> dict[str, str]:
    """The environment minus what could point Python or Flask at the checkout, or pip elsewhere."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "FLASK_APP")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull}  # pip reads no settings: the wheelhouse only


def run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command with the clean environment, output kept for the assertion messages."""
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def flask_commands(flask: Path, cwd: Path) -> set[str]:
    """The command names `flask --app feedapp --help` lists."""
    done = run([flask, "--app", "feedapp", "--help"], cwd)
    assert done.returncode == 0, done.stderr
    listing = done.stdout.split("Commands:", 1)[1]
    return set(re.findall(r"^  (\S+)", listing, re.M))


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A fresh virtualenv holding what the image holds; returns the folder to run things from."""
    if not (WHEELHOUSE / "requirements.txt").is_file():
        pytest.fail(f"no wheelhouse at {WHEELHOUSE}: run `make setup` once, online", pytrace=False)
    started = time.monotonic()
    base = tmp_path_factory.mktemp("image")
    build = base / "build"
    build.mkdir()
    for sources, dest in dockerfile_copies():
        assert not dest.startswith("/"), f"COPY to {dest}: the test replays relative copies only"
        for source in sources:
            origin, target = ROOT / source, build / dest
            if origin.is_dir():
                ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
                shutil.copytree(origin, target, ignore=ignore, dirs_exist_ok=True)
            else:
                shutil.copy2(origin, target / origin.name if dest.endswith("/") else target)
    requirements = tomllib.loads((build / "pyproject.toml").read_text())["project"]
    (build / "requirements.txt").write_text("\n".join(requirements["dependencies"]))
    venv = base / "venv"
    offline = ["--no-index", "--find-links", WHEELHOUSE]
    for step in (
        [sys.executable, "-m", "venv", venv],
        [venv / "bin" / "pip", "install", "-q", *offline, "-r", "requirements.txt"],
        [venv / "bin" / "pip", "install", "-q", *offline, "--no-deps", "."],
    ):
        done = run(step, build)
        assert done.returncode == 0, f"{step}: {done.stdout}{done.stderr}"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # shown even when the tests pass
        print(f"\nimage install in a fresh venv: {time.monotonic() - started:.1f} s")
    shutil.rmtree(build)  # as the Dockerfile does: only the installed package remains
    return base


def site_packages(base: Path) -> Path:
    """Where the image's interpreter installed feedapp."""
    done = run(
        [base / "venv" / "bin" / "python", "-c", "import feedapp; print(feedapp.__file__)"], base
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip()).resolve().parent.parent


def test_image_has_no_sandbox_command(image: Path) -> None:
    commands = flask_commands(image / "venv" / "bin" / "flask", image)
    assert {"stores", "feeds", "worker", "scheduler"} <= commands
    assert "sandbox" not in commands
    # The development install has it, through feedapp_dev's flask.commands entry point.
    assert "sandbox" in flask_commands(DEV_BIN / "flask", image)


@pytest.mark.parametrize("module", DEV_ONLY_MODULES)
def test_image_lacks_development_modules(image: Path, module: str) -> None:
    probe = ["-c", f"import {module}"]
    done = run([image / "venv" / "bin" / "python", *probe], image)
    assert done.returncode != 0 and f"No module named '{module}'" in done.stderr
    assert run([DEV_BIN / "python", *probe], image).returncode == 0  # the probe itself works


@pytest.mark.usefixtures("redis")
def test_installed_app_serves_from_the_wheel(image: Path, redis_url: str, tmp_path: Path) -> None:
    (image / "probe.py").write_text(PROBE)
    done = run(
        [image / "venv" / "bin" / "python", "probe.py", redis_url, tmp_path / "feeds"], image
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    package = Path(seen["package"])
    assert package == site_packages(image) / "feedapp"
    assert package.is_relative_to(image / "venv") and not package.is_relative_to(ROOT)
    assert Path(seen["template"]) == package / "templates" / "connect" / "connect.html"
    status, body = seen["home"]
    assert status == 200 and 'id="connect"' in body  # the connect page, rendered from the wheel
    assert seen["english"][0] == 200 and seen["english"][1] != body  # the catalogs ship too
    assert seen["static"] == 200
    assert seen["sandbox_config"] == 404


def test_every_runtime_file_ships(image: Path) -> None:
    installed = site_packages(image)
    wanted = {"config.py": "config.py"}
    for folder, into in (
        ("feedapp", "feedapp"),
        ("workers", "workers"),
        ("templates", "feedapp/templates"),
    ):
        for path in (ROOT / folder).rglob("*"):
            name = path.relative_to(ROOT).as_posix()
            if path.is_file() and not any(fnmatch(name, p) for p in NOT_SHIPPED):
                wanted[name] = f"{into}/{path.relative_to(ROOT / folder).as_posix()}"
    missing = sorted(name for name, target in wanted.items() if not (installed / target).is_file())
    assert not missing, f"in the checkout but not in the installed package: {missing}"
