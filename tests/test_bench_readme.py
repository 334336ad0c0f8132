"""The README's Performance block is exactly what `python -m tests.bench --readme` writes from the
JSON it names, and that JSON is a full run judged by today's targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from processes import ROOT

from tests.bench import readme
from tests.bench.targets import TARGETS


def quoted_run() -> tuple[str, str, dict]:
    """The README's text, the path its block names and the JSON document at that path."""
    text = readme.README.read_text()
    _, _, quoted = readme.find_block(text)
    return text, quoted, json.loads((ROOT / quoted).read_text())


def test_readme_block_is_generated_from_the_json_it_names() -> None:
    text, quoted, document = quoted_run()
    start, end, _ = readme.find_block(text)
    assert quoted == readme.QUOTED
    assert text[start:end] == readme.block(document, quoted), (
        "README.md's Performance block differs from its JSON: run `python -m tests.bench --readme`"
    )


def test_quoted_run_is_a_full_run_judged_by_todays_targets() -> None:
    _, _, document = quoted_run()
    assert document["mode"] == "full" and document["target_overrides"] == {}
    rows = [r for s in document["sections"].values() for r in s["rows"]]
    goals = [r for r in rows if r["goal"]]
    assert sorted(r["goal"] for r in goals) == sorted(TARGETS), (  # each target judged, once
        f"{readme.QUOTED} predates today's targets: quote a new full run (`make bench`, then "
        "`python -m tests.bench --readme`)"
    )
    missed = []
    for row in goals:
        target = TARGETS[row["goal"]]
        assert row["target"] == target.text(target.value), row["figure"]
        assert row["met"] == target.met(row["measured"], target.value), row["figure"]
        missed += [] if row["met"] else [row["goal"]]
    assert [m.split(":")[0] for m in document["missed"]] == missed


def test_update_rewrites_only_the_block(tmp_path: Path) -> None:
    _, quoted, document = quoted_run()
    page = tmp_path / "README.md"
    before, after = "# Title\n\n## Performance\n\nIntro.\n\n", "\n\n## Next\n\nKept as is.\n"
    page.write_text(f"{before}{readme.begin_marker('q.json')}\nstale table\n{readme.END}{after}")
    source = tmp_path / "run.json"
    source.write_text(json.dumps(document))
    readme.update(source, page, "q.json")
    assert page.read_text() == before + readme.block(document, "q.json") + after
    assert json.loads((tmp_path / "q.json").read_text()) == document


def test_update_refuses_a_quick_run_and_leaves_the_readme_alone(tmp_path: Path) -> None:
    _, _, document = quoted_run()
    page = tmp_path / "README.md"
    page.write_text(f"{readme.begin_marker('q.json')}\nfigures\n{readme.END}\n")
    source = tmp_path / "run.json"
    source.write_text(json.dumps({**document, "mode": "quick"}))
    with pytest.raises(ValueError, match="quotes only a full run"):
        readme.update(source, page, "q.json")
    assert page.read_text() == f"{readme.begin_marker('q.json')}\nfigures\n{readme.END}\n"
    assert not (tmp_path / "q.json").exists()
