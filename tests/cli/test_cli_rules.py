"""`flask feeds rules STORE FEED --export|--import`; the README's example is the one imported."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from feedapp.builds import queueing
from feedapp.feed.rules import MAX_FILE_BYTES, dump_rules, load_rules
from feedapp.stores import StoreRegistry

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "data" / "rules-example.json"
#: Three mistakes, each in another place: a wrong version, an operator the field does not take,
#: and an unknown action.
THREE_MISTAKES = {
    "version": 2,
    "rules": [
        {
            "name": "Cheap",
            "conditions": [{"field": "price", "operator": "is_true"}],
            "actions": [{"kind": "exclude"}],
        },
        {"name": "Label", "actions": [{"kind": "custom_label_9", "value": "x"}]},
    ],
}


def readme_example() -> str:
    """The ```json block of the README's "Feed rules" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Feed rules\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```json\n(.*?)\n```", section, re.DOTALL)
    assert len(blocks) == 1, "the Feed rules section has one JSON example"
    return blocks[0]


@pytest.fixture
def second(store, registry: StoreRegistry) -> str:
    """A second feed of the test store, whose rules the tests import (the first keeps none)."""
    return registry.add_feed("teststore", "Chile (en)", "en", "CL").id


def error_lines(output: str) -> list[str]:
    """The lines an operator reads as errors."""
    return [line for line in output.splitlines() if line.startswith("Error: ")]


def test_the_readme_example_is_the_file_the_tests_import() -> None:
    assert json.loads(readme_example()) == json.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_import_the_readme_example_then_export_it(runner, registry, second, svc) -> None:
    block = svc.feeds_dir.parent / "readme-rules.json"  # the README's own block, as a file
    block.write_text(readme_example(), encoding="utf-8")
    imported = runner.invoke(args=["feeds", "rules", "teststore", second, "--import", str(block)])
    assert imported.exit_code == 0, imported.output
    assert "teststore: feed 2 (Chile (en)): 6 rules saved." in imported.output
    assert "teststore: build queued." in imported.output and queueing.is_queued(svc, "teststore")

    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    rules, errors = load_rules(EXAMPLE.read_bytes())
    assert not errors
    saved = registry.get("teststore")
    assert saved.feed(second).rules == dump_rules(rules, example["description"])
    assert saved.first_feed.rules == dump_rules([])  # the other feed keeps its own (none)
    assert [r["name"] for r in saved.feed(second).rules["rules"]] == [
        r["name"] for r in example["rules"]
    ]

    exported = runner.invoke(args=["feeds", "rules", "teststore", second, "--export"])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output) == saved.feed(second).rules
    again = runner.invoke(
        args=["feeds", "rules", "teststore", "1", "--import", "-"], input=exported.output
    )
    assert again.exit_code == 0, again.output
    assert registry.get("teststore").first_feed.rules == saved.feed(second).rules


def test_a_file_with_three_mistakes_changes_nothing(runner, registry, second, svc) -> None:
    bad = svc.feeds_dir.parent / "bad.json"
    bad.write_text(json.dumps(THREE_MISTAKES), encoding="utf-8")
    before = registry.get("teststore").feed(second).rules
    refused = runner.invoke(args=["feeds", "rules", "teststore", second, "--import", str(bad)])
    assert refused.exit_code == 1
    assert error_lines(refused.output) == [
        "Error: teststore: feed 2: version: Use version 1.",
        "Error: teststore: feed 2: rules[0].conditions[0].operator: This field takes the "
        "operators equals, not_equals, <, <=, >, >=, present, absent.",
        "Error: teststore: feed 2: rules[1].actions[0].kind: Unknown action; use exclude, brand, "
        "condition, google_product_category, product_type, title, custom_label_0, "
        "custom_label_1, custom_label_2, custom_label_3, custom_label_4, promotion_id.",
    ]
    assert refused.output.endswith(
        f"\nteststore: feed 2: 3 mistake(s) in {bad}; the rules were not changed.\n"
    )
    assert registry.get("teststore").feed(second).rules == before
    assert not queueing.is_queued(svc, "teststore")


def test_files_that_are_not_rules_are_refused_in_one_line(runner, registry, second, svc) -> None:
    folder = svc.feeds_dir.parent
    cases = {
        "broken.json": (
            '{"version": 1,\n  "rules": [}',
            "file: The file is not valid JSON (line 2",
        ),
        "huge.json": (" " * (MAX_FILE_BYTES + 1), "file: The file is larger than 512 KB."),
        "list.json": ("[]", "file: The file must be a JSON object"),
    }
    for name, (text, message) in cases.items():
        (folder / name).write_text(text, encoding="utf-8")
        result = runner.invoke(
            args=["feeds", "rules", "teststore", second, "--import", str(folder / name)]
        )
        assert result.exit_code == 1, name
        assert error_lines(result.output)[0].startswith(f"Error: teststore: feed 2: {message}")
    missing = runner.invoke(
        args=["feeds", "rules", "teststore", second, "--import", str(folder / "nothing.json")]
    )
    assert missing.exit_code == 1 and "Cannot read" in missing.output
    for args in ([], ["--export", "--import", "-"]):
        both = runner.invoke(args=["feeds", "rules", "teststore", second, *args])
        assert both.exit_code == 1 and "either --export or --import FILE" in both.output
    unknown = runner.invoke(args=["feeds", "rules", "teststore", "5", "--export"])
    assert unknown.exit_code == 1 and "has no feed '5'" in unknown.output
    assert registry.get("teststore").feed(second).rules == dump_rules([])


def test_categories_are_checked_once_the_store_tree_is_known(runner, registry, second) -> None:
    registry.set_json("teststore", "categories", {"categories": [{"id": 30000}, {"id": 30161}]})
    refused = runner.invoke(args=["feeds", "rules", "teststore", second, "--import", str(EXAMPLE)])
    assert refused.exit_code == 1
    assert error_lines(refused.output)[0] == (
        "Error: teststore: feed 2: rules[0].conditions[0].value[0]: "
        "The store has no category with the id 30140."
    )
    registry.set_json(
        "teststore", "categories", {"categories": [{"id": i} for i in (30000, 30140, 30161)]}
    )
    accepted = runner.invoke(args=["feeds", "rules", "teststore", second, "--import", str(EXAMPLE)])
    assert accepted.exit_code == 0, accepted.output


def test_imported_rules_shape_their_own_feed_only(runner, installed) -> None:
    code = installed.code
    assert runner.invoke(args=["feeds", "rebuild", code, "--sync"]).exit_code == 0
    added = runner.invoke(args=["feeds", "add", code, "--country", "CL", "--name", "Reglas"])
    assert added.exit_code == 0, added.output
    imported = runner.invoke(args=["feeds", "rules", code, "2", "--import", str(EXAMPLE)])
    assert imported.exit_code == 0, imported.output  # its categories are the store's
    assert runner.invoke(args=["feeds", "rebuild", code, "--sync"]).exit_code == 0

    status = json.loads(runner.invoke(args=["feeds", "status", code, "--json"]).output)
    plain, ruled = status["feeds"]
    assert "excluded_by_rule" not in plain["problems"]
    assert ruled["problems"]["excluded_by_rule"] > 0
    assert ruled["items"] == plain["items"] - ruled["problems"]["excluded_by_rule"]
