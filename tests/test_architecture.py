"""Layering: the domain never loads Flask, only the CLI reaches into web/, imports are inert.

The import checks run in a fresh interpreter: this file, run as a script, is the probe.
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import json
import os
import pkgutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: What only feedapp/web, feedapp/cli and the body of create_app may bring into a process.
WEB_STACK = ("flask", "werkzeug", "jinja2", "click", "itsdangerous")
#: The packages that speak HTTP or wire commands; the rest of feedapp is the Flask-free domain.
WEB_SIDE = ("feedapp.web", "feedapp.cli")
#: The worker and scheduler processes load these without any Flask app.
PROCESS_MODULES = ("workers.jobs", "workers.scheduler")
#: Functions whose imports are wiring, allowed to reach into web/: the app factory.
WIRING = {("feedapp", "create_app")}
#: Audit events of a process reaching for the network, and which of their arguments say where.
NETWORK_EVENTS = {
    "socket.__new__": slice(1, 3),
    "socket.connect": slice(1, 2),
    "socket.getaddrinfo": slice(0, 2),
    "socket.gethostbyname": slice(0, 1),
}


# -- the probe (runs in the child interpreter) ------------------------------------------------
def importing_modules() -> list[str]:
    """The modules whose top-level code is running now, outermost first: who imported what."""
    names: list[str] = []
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "<module>":
            names.append(str(frame.f_globals.get("__name__")))
        frame = frame.f_back
    return [name for name in reversed(names) if name != "__main__"]


def is_ours(module: str) -> bool:
    """Whether a module is the app's own code (not a library it imports)."""
    return module == "config" or module.partition(".")[0] in ("feedapp", "workers")


def probe(modules: Sequence[str]) -> dict[str, object]:
    """Import the modules here, noting who first loads the web stack and any reach for the net."""
    chains: dict[str, list[str]] = {}
    network: list[dict[str, object]] = []

    class WebStackSpy(importlib.abc.MetaPathFinder):
        """Sees every import before it happens; finds nothing itself."""

        def find_spec(
            self, name: str, path: object = None, target: ModuleType | None = None
        ) -> None:
            """Remember the chain of modules that first asks for a web-stack package."""
            top = name.partition(".")[0]
            if top in WEB_STACK and top not in chains:
                chains[top] = [*importing_modules(), name]

    def on_audit(event: str, args: tuple) -> None:
        if event in NETWORK_EVENTS:
            chain = importing_modules()
            if chain and is_ours(chain[-1]):  # our top-level code, not a library's own import
                where = repr(args[NETWORK_EVENTS[event]])
                network.append({"event": event, "args": where, "chain": chain})

    preloaded = [name for name in WEB_STACK if name in sys.modules]
    sys.meta_path.insert(0, WebStackSpy())
    sys.addaudithook(on_audit)
    started = time.monotonic()
    for name in modules:
        importlib.import_module(name)
    return {
        "seconds": time.monotonic() - started,
        "preloaded": preloaded,
        "loaded": [name for name in WEB_STACK if name in sys.modules],
        "chains": chains,
        "network": network,
    }


# -- what to check ----------------------------------------------------------------------------
def domain_modules() -> list[str]:
    """config, feedapp and every module under it except web/ and cli/, then the processes."""
    found = ["config", "feedapp"]

    def walk(folder: Path, package: str) -> None:
        for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda i: i.name):
            name = f"{package}.{info.name}"
            if name in WEB_SIDE:
                continue
            found.append(name)
            if info.ispkg:
                walk(folder / info.name, name)

    walk(ROOT / "feedapp", "feedapp")
    return [*found, *PROCESS_MODULES]


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return probe_socket.getsockname()[1]


@dataclass(frozen=True)
class ImportRun:
    """One child interpreter that imported the domain modules, and what it saw."""

    modules: list[str]
    proc: subprocess.CompletedProcess
    report: dict
    feeds_dir: Path

    def explain(self) -> str:
        """The child's output, to read when a check fails."""
        return f"stdout:\n{self.proc.stdout[-3000:]}\nstderr:\n{self.proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> ImportRun:
    """Import every domain module in a fresh interpreter whose Redis and Jumpseller are dead."""
    dead = f"127.0.0.1:{free_port()}"
    feeds_dir = tmp_path_factory.mktemp("arch") / "feeds"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "JUMPSELLER_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        REDIS_URL=f"redis://{dead}/0",
        JUMPSELLER_AUTH_URL=f"http://{dead}",
        JUMPSELLER_API_URL=f"http://{dead}/v1",
        FEEDS_DIR=str(feeds_dir),
    )
    modules = domain_modules()
    proc = subprocess.run(
        [sys.executable, __file__, *modules],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = proc.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if proc.returncode == 0 and lines else {}
    return ImportRun(modules, proc, report, feeds_dir)


def test_the_domain_and_the_processes_never_load_the_web_stack(imported: ImportRun) -> None:
    assert imported.proc.returncode == 0, "importing the domain failed\n" + imported.explain()
    assert {"feedapp.builds.builder", "feedapp.stores", *PROCESS_MODULES} <= {*imported.modules}
    assert not any(m.startswith(WEB_SIDE) for m in imported.modules)
    report = imported.report
    assert not report["preloaded"], f"the interpreter starts with {report['preloaded']} loaded"
    culprits = [
        f"  {name}: " + " -> ".join(report["chains"].get(name, ["(chain not seen)"]))
        for name in report["loaded"]
    ]
    assert not culprits, (
        "Flask-free modules load the web stack (only feedapp/web, feedapp/cli and create_app "
        "may); each line is the import chain that first loaded it:\n" + "\n".join(culprits)
    )


def test_importing_the_domain_reaches_for_no_network_and_writes_nothing(
    imported: ImportRun,
) -> None:
    assert imported.proc.returncode == 0, "importing the domain failed\n" + imported.explain()
    reaches = [
        f"  {hit['event']}{hit['args']} while importing " + " -> ".join(hit["chain"])
        for hit in imported.report["network"]
    ]
    assert not reaches, "modules use the network at import time:\n" + "\n".join(reaches)
    assert not imported.feeds_dir.exists(), "a module created FEEDS_DIR at import time"
    assert imported.report["seconds"] < 15, imported.report["seconds"]


# -- static imports ---------------------------------------------------------------------------
def source_modules() -> dict[str, Path]:
    """Every module of the app (feedapp, workers, config) by dotted name."""
    files = [*sorted((ROOT / "feedapp").rglob("*.py")), *sorted((ROOT / "workers").glob("*.py"))]
    modules = {"config": ROOT / "config.py"}
    for path in files:
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imports_of(module: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """The modules a file imports (anywhere in it), absolute, with their line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    wiring = {
        id(node)
        for func in ast.walk(tree)
        if isinstance(func, ast.FunctionDef) and (module, func.name) in WIRING
        for node in ast.walk(func)
    }
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in wiring:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in known else base), node.lineno


def test_only_the_cli_and_the_app_factory_import_from_web() -> None:
    modules = source_modules()
    known = set(modules)
    reaching = [
        f"  {path.relative_to(ROOT)}:{line} imports {name}"
        for module, path in modules.items()
        if not module.startswith(WEB_SIDE)
        for name, line in imports_of(module, path, known)
        if name == "feedapp.web" or name.startswith("feedapp.web.")
    ]
    assert not reaching, "only feedapp/cli and create_app may import feedapp.web:\n" + "\n".join(
        reaching
    )


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle found by a depth-first walk, each as the path that closes it."""
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycles.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, [*path, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return cycles


def test_cli_modules_import_each_other_without_a_cycle() -> None:
    modules = source_modules()
    known = set(modules)
    cli = {name: path for name, path in modules.items() if name.startswith("feedapp.cli")}
    assert {"feedapp.cli", "feedapp.cli.operator"} <= set(cli)
    graph = {
        name: {target for target, _ in imports_of(name, path, known) if target in cli}
        for name, path in cli.items()
    }
    cycles = find_cycles(graph)
    assert not cycles, "import cycles between CLI modules:\n" + "\n".join(
        "  " + " -> ".join(cycle) for cycle in cycles
    )


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1:])))
