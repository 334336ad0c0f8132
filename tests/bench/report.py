"""The suite's one table and its JSON twin, with the machine the figures came from."""

from __future__ import annotations

import json
import os
import platform
import sys
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Row:
    """One figure of the table: what, the median measured, the target and whether it is met."""

    figure: str
    value: str
    target: str
    met: bool | None
    runs: str


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


def _mark(met: bool | None) -> str:
    return "-" if met is None else ("yes" if met else "NO")


def render_table(sections: list[Section], host: dict[str, object], seconds: float) -> str:
    """The table as printed: one line per figure, then the notes that define them."""
    header = ("figure", "median", "target", "met", "runs")
    rows = [(r.figure, r.value, r.target, _mark(r.met), r.runs) for s in sections for r in s.rows]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    lines = [
        f"Machine: {host['cpu']}, {host['cores']} cores, {host['ram_gib']} GiB RAM, "
        f"Python {host['python']}, {host['os']}; load average at start "
        f"{', '.join(map(str, host['load_average_at_start']))}",
        "",
        " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        "-+-".join("-" * w for w in widths),
    ]
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append("")
    for section in sections:
        for note in section.notes:
            lines += textwrap.wrap(note, 100, initial_indent="* ", subsequent_indent="  ")
    lines.append(f"Suite wall time: {seconds:.0f} s")
    return "\n".join(lines)


def write_json(
    path: Path, sections: list[Section], host: dict[str, object], seconds: float, mode: str
) -> None:
    """The same figures as the table, plus every run, for comparing machines and commits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": host,
        "mode": mode,
        "suite_seconds": round(seconds, 1),
        "sections": {
            s.name: {"rows": [asdict(r) for r in s.rows], "notes": s.notes, **s.data}
            for s in sections
        },
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
