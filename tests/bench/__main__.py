"""The benchmark suite in one command: `python -m tests.bench [--quick] [--only build,loaded]`.

Prints one table (each figure the median of its runs, next to its target) and writes the same
figures, with every run, to tests/bench/results/bench.json (the child processes' logs beside it,
in logs/). Needs a Redis server; the suite uses its own database (12 by default) and flushes it.
Exits 1 when a judged target was missed (after the whole table), 2 on a usage error.
`--readme` runs nothing: it quotes the JSON of a full run in the README's Performance block.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from tests.bench import (
    build,
    freshness,
    incremental,
    loaded,
    memory,
    readme,
    render,
    serving,
    targets,
)
from tests.bench.report import Section, document, machine, progress, render_text, write_json
from tests.bench.stack import DEFAULT_REDIS_URL, open_bench

SECTIONS = ("build", "loaded", "render", "memory", "serving", "freshness", "incremental")
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "bench.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; --only takes a comma-separated subset of SECTIONS."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help="where to write figures (--readme: read)"
    )
    parser.add_argument(
        "--redis-url", default=DEFAULT_REDIS_URL, help="a Redis database the suite may flush"
    )
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"judge target NAME at VALUE, quick runs too; NAME: {', '.join(targets.TARGETS)}",
    )
    parser.add_argument(
        "--readme", action="store_true", help=f"quote --json in README.md (via {readme.QUOTED})"
    )
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(args.only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    try:
        args.target = dict(targets.parse_override(t) for t in args.target)
    except ValueError as exc:
        parser.error(f"--target {exc}")
    return args


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through bench.close(): no orphan processes


def quote_in_readme(source: Path) -> int:
    """--readme: rewrite the README's Performance block from `source`."""
    try:
        doc = readme.update(source)
    except (OSError, ValueError, KeyError) as exc:
        print(f"README not changed: {exc}", file=sys.stderr)
        return 2
    print(f"README.md's Performance block now quotes {readme.QUOTED} ({doc['finished_at']} run)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections, print the table and the verdict, write the JSON."""
    args = parse_args(argv)
    if args.readme:
        return quote_in_readme(args.json)
    signal.signal(signal.SIGTERM, _terminated)
    started = time.monotonic()
    host = machine()
    bench = open_bench(args.redis_url, args.quick, args.json.parent / "logs")
    sections: list[Section] = []
    try:
        build_runs: list[dict] = []
        if "build" in args.only:
            build_runs = build.run(bench)
            sections.append(build.summarise(build_runs))
        if "loaded" in args.only:
            quiet = loaded.quiet_runs(bench, build_runs)
            sections.append(loaded.summarise(quiet, loaded.run(bench)))
        if "render" in args.only:
            sections.append(render.run(bench))
        if "memory" in args.only:
            sections.append(memory.summarise(bench, memory.runs_for(bench, build_runs)))
        if "serving" in args.only:
            sections.append(serving.run(bench))
        if "freshness" in args.only:
            sections.append(freshness.run(bench))
        if "incremental" in args.only:
            sections.append(incremental.run(bench))
    finally:
        bench.close()
    rows = [row for section in sections for row in section.rows]
    missed = targets.judge(rows, args.quick, args.target)
    mode = "quick" if args.quick else "full"
    doc = document(sections, host, time.monotonic() - started, mode, args.target, missed)
    print(render_text(doc))
    write_json(args.json, doc)
    print(f"Figures written to {args.json}")
    unjudged = targets.unmeasured(rows, args.target)
    if unjudged:
        progress(f"no figure of this run carries target(s) {', '.join(unjudged)}: nothing judged")
        return 2
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
