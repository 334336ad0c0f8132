"""Find the next race before CI does: the integration and browser tests, run again and again.

`.venv/bin/python -m tests.stress` (or `make stress`) runs `pytest -m "slow or browser"` 5 times in
a row, then 2 more times with two CPU-bound processes beside it (a loaded CI machine), prints the
last line of each run, and exits 1 if any run failed. Every run's whole output is kept in a folder
it names. Options: --runs, --busy-runs, --burners, --logs; arguments after `--` go to pytest.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path
from types import FrameType

from tests.processes import ROOT, cpu_burners

MARKERS = "slow or browser"


def run_pytest(pytest_args: list[str], log: Path) -> tuple[int, str]:
    """One run of the marked tests, its output in `log`; its exit code and last line."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-m", MARKERS, *pytest_args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            code = proc.wait()
        except BaseException:
            stop_pytest(proc)
            raise
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    return code, next((line for line in reversed(lines) if line), "(no output)")


def stop_pytest(proc: subprocess.Popen) -> None:
    """End an interrupted run as Ctrl-C would, so its fixtures stop the processes they started."""
    try:
        proc.wait(timeout=5)  # a Ctrl-C in the terminal reached pytest as well
        return
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _terminated(signum: int, _frame: FrameType | None) -> None:
    """A TERM unwinds like Ctrl-C, so the CPU-bound processes are killed on the way out."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run every round; 0 when all passed, 1 when any failed."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.stress", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=5, help="runs on their own (default 5)")
    parser.add_argument(
        "--busy-runs", type=int, default=2, help="then runs beside CPU-bound processes (default 2)"
    )
    parser.add_argument(
        "--burners", type=int, default=2, help="CPU-bound processes in the busy runs (default 2)"
    )
    parser.add_argument("--logs", type=Path, help="folder for each run's output (default: new)")
    parser.add_argument("pytest_args", nargs="*", help="after --: more arguments for pytest")
    options = parser.parse_args(argv)
    logs: Path = options.logs or Path(tempfile.mkdtemp(prefix="feedapp-stress-"))
    logs.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _terminated)
    total = options.runs + options.busy_runs
    print(f'{total} runs of pytest -m "{MARKERS}"; each run\'s output in {logs}/', flush=True)
    failed = 0
    for n in range(1, total + 1):
        busy = n > options.runs
        log = logs / f"run-{n}.log"
        with cpu_burners(options.burners) if busy else nullcontext():
            code, last = run_pytest(options.pytest_args, log)
        failed += code != 0
        beside = f"beside {options.burners} CPU-bound processes" if busy else "on its own"
        verdict = "ok" if code == 0 else f"FAILED (exit {code}, see {log})"
        print(f"run {n}/{total} {beside}: {last}  [{verdict}]", flush=True)
    print(f"{total - failed} of {total} runs passed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
