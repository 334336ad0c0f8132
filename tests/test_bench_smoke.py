"""The benchmark suite runs end to end in quick mode, so its code cannot rot unnoticed, and a
missed target fails its run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from feedapp_dev.sandbox.catalogue import generate_categories
from processes import ROOT
from redis import Redis

from tests.bench import loaded
from tests.bench.floor import catalogue_requests, pages_floor, rate_floor
from tests.bench.report import Row
from tests.bench.targets import TARGETS, judge

SECTIONS = ("build", "loaded", "render", "memory", "serving", "freshness", "incremental")


def bench(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m tests.bench ARGS`, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "tests.bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_floor_is_the_per_second_limit_until_the_minute_binds() -> None:
    assert rate_floor(16) == pytest.approx(0.8)
    assert rate_floor(800) == pytest.approx(40.0)
    assert rate_floor(801) == pytest.approx(60.05)  # the 801st waits for the minute window
    assert rate_floor(1004) == pytest.approx(70.2)
    assert rate_floor(1601) == pytest.approx(120.05)
    assert rate_floor(2500, per_minute=2000) == pytest.approx(125.0)  # minute never binds


def test_floor_counts_the_catalogue_not_the_requests_made() -> None:
    # info, languages, count, 1 category page, 10 product pages: no empty pages, no hooks
    assert catalogue_requests(1000, categories=24) == 14
    assert catalogue_requests(1001, categories=24) == 15
    assert catalogue_requests(100_000, categories=24) == 1004
    assert catalogue_requests(1000, categories=250) == 16  # three category pages
    assert catalogue_requests(0, categories=0) == 4  # the start-up requests alone
    assert pages_floor(10_000) == pytest.approx(5.0)


def test_full_runs_judge_every_goal_and_quick_runs_only_the_ones_set() -> None:
    def rows() -> list[Row]:
        return [
            Row("render ratio to floor", "0.22x", "", "render.ratio", 0.22),
            Row("peak RSS ratio", "1.10x", "", "memory.ratio", 1.1),
            Row("render floor", "45,000 items/s", ""),
        ]

    full = rows()
    assert judge(full, quick=False, overrides={}) == [
        "render.ratio: render ratio to floor 0.22x, target >= 0.6x"
    ]
    assert [(r.target, r.met) for r in full] == [(">= 0.6x", False), ("<= 1.3x", True), ("-", None)]
    quick = rows()
    assert judge(quick, quick=True, overrides={}) == []
    assert [r.met for r in quick] == [None, None, None]
    assert quick[0].target == ">= 0.6x: not judged"
    forced = rows()
    assert judge(forced, quick=True, overrides={"memory.ratio": 1.05}) == [
        "memory.ratio: peak RSS ratio 1.1x, target <= 1.05x"
    ]
    assert [r.met for r in forced] == [None, False, None]


def test_a_429_beside_busy_cores_fails_even_a_quick_run() -> None:
    def runs(duration: float, limited: int) -> list[dict]:
        figures = {"duration": duration, "floor_seconds": 10.2, "requests_served": 211}
        ratio = duration / 10.2
        return [{"products": 20_000, "items": 48_717, "rate_limited_429": limited,
                 "ratio_to_floor": ratio, "burner_core_share": 0.6, **figures}]  # fmt: skip

    section = loaded.summarise(runs(12.0, 0), runs(15.3, 1))
    busy, limited = section.rows
    assert busy.figure == "build 20,000 products beside 2 busy cores"
    assert busy.value.startswith("15.3 s; 1.50x floor 10.2 s (made 211); quiet 12.0 s, 1.18x")
    assert limited.value == "1 beside busy cores; 0 quiet"
    assert judge(section.rows, quick=True, overrides={}) == [
        "build.429: 429s met by the 20k builds 1, target <= 0"
    ]
    assert (busy.met, limited.met) == (None, False)  # the ratio needs a full run, a 429 does not
    slow = loaded.summarise(runs(12.0, 0), runs(30.6, 0)).rows
    assert judge(slow, quick=False, overrides={}) == [
        "build.busy: build 20,000 products beside 2 busy cores 3x floor, target <= 2x floor"
    ]


def test_unknown_section_or_target_is_refused() -> None:
    run = bench("--only", "build,speed")
    assert run.returncode == 2
    assert "unknown section(s) speed" in run.stderr
    run = bench("--target", "speed=3")
    assert run.returncode == 2
    assert "NAME one of " + ", ".join(TARGETS) in run.stderr


def test_quick_run_leaves_the_real_targets_unjudged(tmp_path, redis: Redis, redis_url) -> None:
    out = tmp_path / "bench.json"
    run = bench("--quick", "--only", "render", "--json", str(out), "--redis-url", redis_url)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "render ratio to floor" in run.stdout
    assert ">= 0.6x: not judged" in run.stdout
    assert "No target judged" in run.stdout
    assert json.loads(out.read_text())["missed"] == []


def test_quick_run_exits_1_when_a_target_is_set_impossibly_high(
    tmp_path, redis: Redis, redis_url
) -> None:
    out = tmp_path / "bench.json"
    run = bench(
        "--quick", "--only", "render", "--json", str(out), "--redis-url", redis_url,
        "--target", "render.ratio=1000",
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr[-3000:]
    table, _, verdict = run.stdout.partition("Targets missed (1 of 1): render.ratio: ")
    assert "render ratio to floor" in table and ">= 1000x (set) | NO" in table  # table first
    assert verdict.startswith("render ratio to floor ") and "x, target >= 1000x\n" in verdict
    document = json.loads(out.read_text())
    assert document["target_overrides"] == {"render.ratio": 1000.0}
    assert [m.split(":")[0] for m in document["missed"]] == ["render.ratio"]


def test_a_target_this_run_cannot_judge_is_an_error(tmp_path, redis: Redis, redis_url) -> None:
    out = tmp_path / "bench.json"
    run = bench(
        "--quick", "--only", "render", "--json", str(out), "--redis-url", redis_url,
        "--target", "build.10k=1",
    )  # fmt: skip
    assert run.returncode == 2
    assert "no figure of this run carries target(s) build.10k" in run.stderr


@pytest.mark.slow
def test_quick_suite_prints_and_saves_every_section(tmp_path, redis: Redis, redis_url) -> None:
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "tests.bench", "--quick", "--json", str(out)]
    suite = subprocess.Popen(
        [*command, "--redis-url", redis_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = suite.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        suite.terminate()  # the suite stops its own children on SIGTERM
        stdout, stderr = suite.communicate(timeout=60)
        pytest.fail(f"the quick suite took over 120 s:\n{stderr[-3000:]}")
    assert suite.returncode == 0, stderr[-3000:]
    table = stdout
    assert "Machine: " in table and "figure" in table and "median" in table
    for label in (
        "build 200 products",
        "build 1,000 products beside 2 busy cores",
        "429s met by the 1k builds",
        "render ratio to floor",
        "peak RSS ratio",
        "serve 304",
        "edit to published feed, full rebuild",
        "webhook edit to published feed (200 products)",
        "API requests per webhook edit",
        "options change to published feed",
        "reconcile unchanged 600 catalogue",
        "reconcile: bare lxml over the write phase",
        "Redis per 600 store, 10 edits pending",
    ):
        assert label in table
    document = json.loads(out.read_text())
    assert document["mode"] == "quick"
    assert document["missed"] == []
    assert document["machine"]["cores"] >= 1
    assert set(document["sections"]) == set(SECTIONS)
    for name in SECTIONS:
        rows = document["sections"][name]["rows"]
        assert rows and all(row["figure"] in table for row in rows)
    rows = [r for s in document["sections"].values() for r in s["rows"]]
    # quick: only the 429s and the API requests of updates are judged (none at any size); no
    # time goal at these sizes
    assert {r["goal"]: r["met"] for r in rows if r["met"] is not None} == {
        "build.429": True,
        "incremental.edit.requests": True,
        "incremental.render.requests": True,
    }
    goals = {r["goal"] for r in rows if r["goal"]}
    assert goals == {
        "build.busy",
        "build.429",
        "render.ratio",
        "memory.ratio",
        "serve.304",
        *(name for name in TARGETS if name.startswith("incremental.")),
    }
    categories = generate_categories()
    for build in document["sections"]["build"]["runs"]:
        assert build["categories"] == len(categories)
        assert build["requests_needed"] == catalogue_requests(build["products"], len(categories))
        assert build["requests_served"] >= build["requests_needed"]
        assert build["floor_seconds"] > 0 and build["ratio_to_floor"] > 0
        assert build["peak_rss_mib"] > build["baseline_rss_mib"] > 0
    (busy,) = document["sections"]["loaded"]["runs"]
    assert busy["products"] == 1_000 and busy["rate_limited_429"] == 0
    assert busy["busy_cores"] == 2 and busy["burner_core_share"] > 0.25  # they did burn
    assert all(p["same_bytes"] for p in document["sections"]["render"]["passes"])
    assert document["sections"]["freshness"]["runs"][0]["seconds"] > 0
    incremental = document["sections"]["incremental"]
    assert [r["requests"] for r in incremental["edits"]["200"] + incremental["edits"]["600"]] == [
        0,
        0,
    ]
    assert incremental["bare_lxml"]["same_bytes"] is True
    assert incremental["burst"]["memory"]["issue_13"] > 0  # measured while the events waited
    assert incremental["redis_after_first_build"]["total"] > 0
