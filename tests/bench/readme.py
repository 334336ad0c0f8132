"""The README's Performance block, written from a run's JSON so it can never be pasted by hand.

`python -m tests.bench --readme` copies the run's JSON to tests/bench/readme.json (checked in;
tests/bench/results/ is not) and rewrites the README between two HTML comments, the first of
which names that JSON. tests/test_bench_readme.py regenerates the block from the named JSON and
compares, so an edited table or a stale JSON fails the suite.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Mapping
from pathlib import Path

from tests.bench.report import machine_line, notes, table, verdict

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
QUOTED = "tests/bench/readme.json"
END = "<!-- /bench-table -->"
_BEGIN = re.compile(
    r"<!-- bench-table from (\S+): written by `python -m tests\.bench --readme` -->"
)


def begin_marker(quoted: str) -> str:
    """The opening comment, naming the JSON the block is drawn from."""
    return f"<!-- bench-table from {quoted}: written by `python -m tests.bench --readme` -->"


def block(doc: Mapping, quoted: str) -> str:
    """The whole block, markers included: when and where, the table, its notes, the verdict."""
    lines = [
        begin_marker(quoted),
        f"A {doc['mode']} run finished {doc['finished_at']} (suite wall time "
        f"{doc['suite_seconds']:.0f} s); each figure is the median of its runs.",
        f"{machine_line(doc)}.",
        "",
        "```",
        table(doc),
        "```",
        "",
    ]
    for note in notes(doc):
        lines += textwrap.wrap(
            note, 100, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False
        )
    emphasis = "**" if doc["missed"] else ""
    lines.append("")
    lines += textwrap.wrap(f"{emphasis}{verdict(doc)}{emphasis}", 100, break_on_hyphens=False)
    lines.append(END)
    return "\n".join(lines)


def find_block(text: str) -> tuple[int, int, str]:
    """Where the block starts and ends in `text`, and the JSON its first comment names."""
    begins = list(_BEGIN.finditer(text))
    if len(begins) != 1 or text.count(END) != 1:
        raise ValueError(f"README needs exactly one {begin_marker(QUOTED)!r} ... {END!r} block")
    start = begins[0].start()
    end = text.index(END, start) + len(END)
    return start, end, begins[0].group(1)


def replace_block(text: str, new_block: str) -> str:
    """`text` with its block replaced and every other character left as it was."""
    start, end, _ = find_block(text)
    return text[:start] + new_block + text[end:]


def update(source: Path, readme: Path = README, quoted: str = QUOTED) -> dict:
    """Quote the run in `source`: copy it to `quoted`, rewrite the README's block from it.

    Only a full run with the default targets may be quoted. The README is read just before it
    is written, so edits to its other sections made meanwhile survive.
    """
    doc = json.loads(source.read_text())
    if doc["mode"] != "full" or doc["target_overrides"]:
        raise ValueError(
            f"{source} is a {doc['mode']} run with targets {doc['target_overrides'] or 'default'}:"
            " the README quotes only a full run with the default targets (run `make bench`)"
        )
    destination = readme.parent / quoted
    if destination.resolve() != source.resolve():
        shutil.copyfile(source, destination)
    readme.write_text(replace_block(readme.read_text(), block(doc, quoted)))
    return doc
