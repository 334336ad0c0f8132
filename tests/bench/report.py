"""The suite's one table and its JSON twin, with the machine the figures came from.

The printed table, the JSON and the README's Performance block are all drawn from one document
(`document()`), so the README can be regenerated from the JSON alone and checked against it.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import textwrap
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

HEADER = ("figure", "median", "target", "met", "runs")


@dataclass
class Row:
    """One figure: what, the median measured, and, for a figure with a target, its verdict.

    `goal` names the target in targets.TARGETS and `measured` is the number it judges; the judge
    fills `target` and `met` (None: no target, or not judged).
    """

    figure: str
    value: str
    runs: str
    goal: str | None = None
    measured: float | None = None
    target: str = "-"
    met: bool | None = None


@dataclass
class Section:
    """A benchmark's rows, its raw per-run figures for the JSON, and how to read it."""

    name: str
    rows: list[Row]
    data: dict[str, object]
    notes: list[str] = field(default_factory=list)


def progress(message: str) -> None:
    """A line on stderr while the suite runs, so a long run shows where it is."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def size_label(count: int) -> str:
    """1k, 10k, 100k: how the issue names store sizes."""
    return f"{count // 1000}k" if count >= 1000 and count % 1000 == 0 else str(count)


def machine() -> dict[str, object]:
    """CPU model, cores, RAM and Python: what a reader needs to compare figures."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": ram_gib,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def document(
    sections: list[Section],
    host: dict[str, object],
    seconds: float,
    mode: str,
    overrides: Mapping[str, float],
    missed: list[str],
) -> dict[str, object]:
    """Everything the run found: every row with its verdict, every run, the missed targets."""
    end = {"load_average_at_end": [round(x, 2) for x in os.getloadavg()]}
    return {
        "machine": {**host, **end},
        "mode": mode,
        "finished_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "suite_seconds": round(seconds, 1),
        "target_overrides": dict(overrides),
        "missed": missed,
        "sections": {
            s.name: {"rows": [asdict(r) for r in s.rows], "notes": s.notes, **s.data}
            for s in sections
        },
    }


def machine_line(doc: Mapping) -> str:
    """The machine the figures came from, and how busy it was when the run began."""
    host = doc["machine"]
    return (
        f"Machine: {host['cpu']}, {host['cores']} cores, {host['ram_gib']} GiB RAM, "
        f"Python {host['python']}, {host['os']}; load average at start "
        f"{', '.join(map(str, host['load_average_at_start']))}, at the end "
        f"{', '.join(map(str, host['load_average_at_end']))}"
    )


def _mark(met: bool | None) -> str:
    return "-" if met is None else ("yes" if met else "NO")


def table(doc: Mapping) -> str:
    """The figures, one aligned line each (trailing spaces trimmed)."""
    rows = [
        (r["figure"], r["value"], r["target"], _mark(r["met"]), r["runs"])
        for s in doc["sections"].values()
        for r in s["rows"]
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(HEADER, *rows, strict=True)]
    lines = [
        " | ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)),
        "-+-".join("-" * w for w in widths),
    ]
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def notes(doc: Mapping) -> list[str]:
    """Every section's notes, in table order."""
    return [note for s in doc["sections"].values() for note in s["notes"]]


def verdict(doc: Mapping) -> str:
    """One line: the missed targets by name, or that every judged one was met."""
    judged = sum(r["met"] is not None for s in doc["sections"].values() for r in s["rows"])
    if doc["missed"]:
        return f"Targets missed ({len(doc['missed'])} of {judged}): " + "; ".join(doc["missed"])
    if judged == 0:
        return "No target judged (a quick run judges only targets set with --target NAME=VALUE)."
    return f"Every target met ({judged} judged)."


def render_text(doc: Mapping) -> str:
    """What the suite prints: machine, table, the notes that define each figure, the verdict."""
    lines = [machine_line(doc), "", table(doc), ""]
    for note in notes(doc):
        lines += textwrap.wrap(
            note, 100, initial_indent="* ", subsequent_indent="  ", break_on_hyphens=False
        )
    lines += [f"Suite wall time: {doc['suite_seconds']:.0f} s", verdict(doc)]
    return "\n".join(lines)


def write_json(path: Path, doc: Mapping) -> None:
    """The document, for comparing machines and commits and for the README's block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
