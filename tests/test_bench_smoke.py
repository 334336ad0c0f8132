"""The benchmark suite runs end to end in quick mode, so its code cannot rot unnoticed."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from processes import ROOT

from tests.bench.floor import build_requests, pages_floor, rate_floor

SMOKE_DB = 11
SECTIONS = ("build", "render", "memory", "serving", "freshness")


def test_floor_is_the_per_second_limit_until_the_minute_binds() -> None:
    assert rate_floor(16) == pytest.approx(0.8)
    assert rate_floor(800) == pytest.approx(40.0)
    assert rate_floor(801) == pytest.approx(60.05)  # the 801st waits for the minute window
    assert rate_floor(1006) == pytest.approx(70.3)
    assert rate_floor(1601) == pytest.approx(120.05)
    assert rate_floor(2500, per_minute=2000) == pytest.approx(125.0)  # minute never binds


def test_requests_of_a_build() -> None:
    # info, languages, 1 category page + empty, count, 10 product pages, final empty page
    assert build_requests(1000, categories=30) == 16
    assert build_requests(100_000, categories=30) == 1006
    assert pages_floor(10_000) == pytest.approx(5.0)


def test_unknown_section_is_refused() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--only", "build,speed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "unknown section(s) speed" in run.stderr


@pytest.mark.slow
def test_quick_suite_prints_and_saves_every_section(tmp_path, redis_url) -> None:
    # A database of its own (the suite flushes it): not the tests' 13-15, not a full run's 12.
    bench_redis = urlsplit(redis_url)._replace(path=f"/{SMOKE_DB}").geturl()
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "tests.bench", "--quick", "--json", str(out)]
    suite = subprocess.Popen(
        [*command, "--redis-url", bench_redis],
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
        "render ratio to floor",
        "peak RSS ratio",
        "serve 304",
        "edit to published feed",
    ):
        assert label in table
    document = json.loads(out.read_text())
    assert document["mode"] == "quick"
    assert document["machine"]["cores"] >= 1
    assert set(document["sections"]) == set(SECTIONS)
    for name in SECTIONS:
        rows = document["sections"][name]["rows"]
        assert rows and all(row["figure"] in table for row in rows)
    for build in document["sections"]["build"]["runs"]:
        assert build["requests_needed"] >= build["requests_for_catalogue"]
        assert build["floor_seconds"] > 0 and build["ratio_to_floor"] > 0
        assert build["peak_rss_mib"] > build["baseline_rss_mib"] > 0
    assert all(p["same_bytes"] for p in document["sections"]["render"]["passes"])
    assert document["sections"]["freshness"]["runs"][0]["seconds"] > 0
