"""Memory: a build's peak RSS at two store sizes, to show it stays flat as catalogues grow."""

from __future__ import annotations

import statistics

from tests.bench import build
from tests.bench.report import Row, Section, size_label
from tests.bench.stack import Bench

SIZES = (10_000, 100_000)
QUICK_SIZES = (200, 1_000)


def sizes(bench: Bench) -> tuple[int, int]:
    """The small and the large store of the comparison."""
    return QUICK_SIZES if bench.quick else SIZES


def runs_for(bench: Bench, build_runs: list[dict]) -> list[dict]:
    """The build runs to read, building one store of each size when the build section did not."""
    small, large = sizes(bench)
    have = {r["products"] for r in build_runs}
    if {small, large} <= have:
        return build_runs
    return build.run(bench, ((small, 1), (large, 1)))


def summarise(bench: Bench, runs: list[dict]) -> Section:
    """Peak RSS of each size's build process (median of its runs) and their ratio."""
    small, large = sizes(bench)
    peaks = {
        n: statistics.median(r["peak_rss_mib"] for r in runs if r["products"] == n)
        for n in (small, large)
    }
    counts = {n: sum(r["products"] == n for r in runs) for n in (small, large)}
    baseline = statistics.median(r["baseline_rss_mib"] for r in runs)
    ratio = peaks[large] / peaks[small]
    rows = [
        Row(f"peak RSS, build of {n:,}", f"{peaks[n]:.0f} MiB", f"{counts[n]} runs")
        for n in (small, large)
    ]
    rows.append(
        Row(
            f"peak RSS ratio {size_label(large)}/{size_label(small)}",
            f"{ratio:.2f}x",
            f"above the {baseline:.0f} MiB baseline: {peaks[small] - baseline:.0f} -> "
            f"{peaks[large] - baseline:.0f} MiB",
            "memory.ratio",
            ratio,
        )
    )
    notes = [
        "memory: ru_maxrss of the build's own child process (interpreter, lxml and the app "
        "included; the sandbox runs elsewhere); baseline = that process after its imports."
    ]
    return Section(
        "memory",
        rows,
        {"peak_rss_mib": {str(n): peaks[n] for n in peaks}, "ratio": round(ratio, 3)},
        notes,
    )
