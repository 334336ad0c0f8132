"""The build beside busy cores: the 20k store's build while two CPU-bound processes run.

A saturated CPU delays our requests between their sending and their arrival at Jumpseller, so
they arrive bunched; this repeats the build section's measurement (a new store, its first build
in a child process, its time over the rate-limit floor) with two `while True: pass` processes
beside it (tests/processes.py cpu_burners, as the pipeline test and `make stress` use), and puts
it next to the same size built on a quiet machine, with the 429s each met.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from tests.bench import build
from tests.bench.report import Row, Section, progress, size_label
from tests.bench.stack import Bench
from tests.processes import cpu_burners

BUSY_CORES = 2
SIZE, QUICK_SIZE = 20_000, 1_000
RUNS = 1
#: The targets (tests/bench/targets.py): the busy build's ratio to the floor (judged at full
#: size), and no 429 in the quiet or the busy builds of the comparison (judged at every size).
GOAL, NO_429 = "build.busy", "build.429"
TAG = "busy"


def size(bench: Bench) -> int:
    """The store size compared quiet and busy."""
    return QUICK_SIZE if bench.quick else SIZE


def quiet_runs(bench: Bench, build_runs: list[dict]) -> list[dict]:
    """The quiet builds of the compared size: the build section's, or one built here."""
    products = size(bench)
    same = [r for r in build_runs if r["products"] == products]
    return same or build.run(bench, ((products, 1),))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(bench: Bench) -> list[dict]:
    """The busy builds: each a new store built while BUSY_CORES CPU-bound processes run."""
    products = size(bench)
    runs = []
    with cpu_burners(BUSY_CORES) as burners:
        progress(f"{BUSY_CORES} CPU-bound processes started beside the build")
        for n in range(RUNS):
            spent = [cpu_seconds(b.pid) for b in burners]
            started = time.monotonic()
            figures = build.build_once(bench, products, n, TAG)
            elapsed = time.monotonic() - started
            used = [cpu_seconds(b.pid) - s for b, s in zip(burners, spent, strict=True)]
            busy = statistics.mean(used) / elapsed
            runs.append({**figures, "busy_cores": BUSY_CORES, "burner_core_share": round(busy, 3)})
    return runs


def summarise(quiet: list[dict], busy: list[dict]) -> Section:
    """The busy build's row with the quiet one's figures beside it, then the 429s of both."""
    products = busy[0]["products"]
    q, b = build.medians(quiet)[str(products)], build.medians(busy)[str(products)]
    quiet_429, busy_429 = (sum(r["rate_limited_429"] for r in runs) for runs in (quiet, busy))
    label = size_label(products)
    rows = [
        Row(
            f"build {products:,} products beside {BUSY_CORES} busy cores",
            f"{b['duration']:.1f} s; {b['ratio_to_floor']:.2f}x floor {b['floor_seconds']:.1f} s "
            f"(made {b['requests_served']:.0f}); quiet {q['duration']:.1f} s, "
            f"{q['ratio_to_floor']:.2f}x floor",
            f"{len(busy)} runs, quiet {len(quiet)}; burners at {b['burner_core_share']:.0%} "
            f"of a core each; items {b['items']:,.0f}",
            GOAL,
            b["ratio_to_floor"],
        ),
        Row(
            f"429s met by the {label} builds",
            f"{busy_429} beside busy cores; {quiet_429} quiet",
            f"{len(busy)} busy runs, {len(quiet)} quiet",
            NO_429,
            busy_429 + quiet_429,
        ),
    ]
    notes = [
        f"beside busy cores: the build section's measurement (a new store, same sandbox, limits "
        f"and latency, same floor) while {BUSY_CORES} `python -c 'while True: pass'` processes "
        "run (tests/processes.py cpu_burners, started before the store is installed and killed "
        "after the build); 'burners at' = the CPU time each used over the run's wall time; "
        f"quiet = the build section's {label} run(s), or one built just before when it did not "
        "run. 429s = the sandbox's 429 answers to those builds; any 429 fails the run, quick "
        "runs too."
    ]
    return Section("loaded", rows, {"busy_cores": BUSY_CORES, "runs": busy}, notes)
