"""The suite's targets in one place, and the judge that makes a missed one fail the run.

Each section gives a figure a target's name and the number it measured; the judge compares it
with the target's threshold. A full run judges every target; a quick run's sizes are too small to
compare with them, so it judges only the targets set on its command line
(``--target NAME=VALUE``), which is how a test proves a missed target fails the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tests.bench.report import Row


@dataclass(frozen=True)
class Target:
    """A named threshold: the measured figure must stay at most (or at least) `value`.

    `sized`: the figure depends on the store's size, so a quick run's tiny stores cannot judge it.
    """

    name: str
    at_most: bool
    value: float
    unit: str
    source: str
    sized: bool = True

    def text(self, value: float) -> str:
        """The target as the table shows it, e.g. `<= 1.2x floor`."""
        return f"{'<=' if self.at_most else '>='} {value:g}{self.unit}"

    def met(self, measured: float, value: float) -> bool:
        """Whether `measured` meets the threshold `value`."""
        return measured <= value if self.at_most else measured >= value


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("build.10k", True, 1.2, "x floor", "issue 6: a 10k store's build"),
        Target("build.100k", True, 1.1, "x floor", "issue 6: a 100k store's build"),
        Target("build.20k.pages", True, 1.3, "x pages/20", "issue 4: a 20k store's build"),
        # Twice the floor: the build maps ~49k items on one core, so even one meeting the quiet
        # targets spends most of the floor's time on CPU; two spinning processes on a 2-core
        # machine leave it about half a core. Beyond 2x, more than that CPU share is slowing it
        # (e.g. the limiter holding in-flight slots too long).
        Target("build.busy", True, 2.0, "x floor", "issue 10: the 20k build beside 2 busy cores"),
        Target("build.429", True, 0, "", "issue 10: no 429, quiet or busy", sized=False),
        Target("render.ratio", False, 0.6, "x", "issue 6: mapping + writing against bare lxml"),
        Target("memory.ratio", True, 1.3, "x", "issue 6: peak RSS of a 100k build over a 10k one"),
        Target("serve.304", False, 1.0, "x gunicorn's 200s", "issue 6: a 304 beats a full answer"),
        Target("incremental.edit.10k", True, 5, " s", "issue 13: a webhook edit, 10k store"),
        Target("incremental.edit.100k", True, 5, " s", "issue 13: a webhook edit, 100k store"),
        # A delivery carries the whole product, so applying it needs nothing from the API.
        Target(
            "incremental.edit.requests",
            True,
            0,
            "",
            "issue 13: API requests per webhook edit",
            sized=False,
        ),
        Target("incremental.render", True, 15, " s", "issue 13: an options change, 100k store"),
        Target(
            "incremental.render.requests",
            True,
            0,
            "",
            "issue 13: API requests of an options change",
            sized=False,
        ),
        Target(
            "incremental.reconcile", True, 1.1, "x floor", "issue 13: an unchanged 100k catalogue"
        ),
        Target("incremental.write", False, 0.6, "x", "issue 13: bare lxml over the write phase"),
        Target(
            "incremental.redis", True, 5, " MB", "issue 13: webhook keys of a 100k store at peak"
        ),
    )
}


def parse_override(text: str) -> tuple[str, float]:
    """`NAME=VALUE` from the command line; ValueError names what is wrong."""
    name, sep, value = text.partition("=")
    if not sep or name not in TARGETS:
        raise ValueError(f"{text!r}: use NAME=VALUE with NAME one of {', '.join(TARGETS)}")
    try:
        return name, float(value)
    except ValueError:
        raise ValueError(f"{text!r}: {value!r} is not a number") from None


def judge(rows: Iterable[Row], quick: bool, overrides: Mapping[str, float]) -> list[str]:
    """Fill each goal row's target and verdict; return one line per missed target.

    A quick run leaves the default targets of sized figures "not judged" (its stores are tiny),
    but always judges a target set in `overrides`.
    """
    missed = []
    for row in rows:
        if row.goal is None or row.measured is None:
            continue
        target = TARGETS[row.goal]
        if row.goal in overrides:
            value = overrides[row.goal]
            row.target = f"{target.text(value)} (set)"
        elif quick and target.sized:
            row.target, row.met = f"{target.text(target.value)}: not judged", None
            continue
        else:
            value = target.value
            row.target = target.text(value)
        row.met = target.met(row.measured, value)
        if not row.met:
            missed.append(
                f"{row.goal}: {row.figure} {row.measured:.3g}{target.unit}, "
                f"target {target.text(value)}"
            )
    return missed


def unmeasured(rows: Iterable[Row], overrides: Mapping[str, float]) -> list[str]:
    """Targets set on the command line that no figure of this run carries."""
    measured = {row.goal for row in rows}
    return sorted(name for name in overrides if name not in measured)
