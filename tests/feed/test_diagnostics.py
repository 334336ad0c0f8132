"""Build diagnostics: right counts, bounded examples, and a lossless JSON round trip."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from feedapp.feed.diagnostics import MAX_EXAMPLES, BuildDiagnostics


@dataclass
class Problem:
    """Stands in for mapping's problem record."""

    code: str
    severity: str
    product_id: int | None = 1
    variant_id: int | None = None
    item_id: str | None = None
    product_name: str = "Camisa"
    detail: str = ""


@dataclass
class Mapped:
    """Stands in for mapping's result for one product."""

    items: list[object] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    offers: int = 1


def test_counts_products_items_and_left_out_items() -> None:
    diagnostics = BuildDiagnostics()
    diagnostics.add(Mapped(items=["a", "b"]))
    diagnostics.add(
        Mapped(
            items=["c"],
            problems=[
                Problem("missing_price", "error", 2, 21, "2-21"),
                Problem("missing_image", "error", 2, 21, "2-21"),  # same item: one left out
                Problem("missing_price", "error", 2, 22, "2-22"),
                Problem("missing_gtin", "warning", 2, 23, "2-23"),
            ],
        )
    )
    diagnostics.add(Mapped(problems=[Problem("not_available", "error", 3)], offers=4))
    data = diagnostics.to_dict()
    # The unavailable product's four variants are all left out by its one product-level error.
    assert (data["products"], data["items_written"], data["items_left_out"]) == (3, 3, 6)
    assert (data["errors"], data["warnings"]) == (4, 1)
    by_code = {p["code"]: p for p in data["problems"]}
    assert {c: p["count"] for c, p in by_code.items()} == {
        "missing_price": 2,
        "missing_image": 1,
        "missing_gtin": 1,
        "not_available": 1,
    }
    assert by_code["missing_gtin"]["severity"] == "warning"
    assert by_code["missing_price"]["examples"][1] == {
        "product_id": "2",
        "variant_id": "22",
        "item_id": "2-22",
        "product_name": "Camisa",
        "detail": "",
    }


def test_problems_are_ordered_errors_first_then_by_count_then_code() -> None:
    diagnostics = BuildDiagnostics()
    problems = [Problem("w_many", "warning")] * 5 + [Problem("e_b", "error")] * 2
    problems += [Problem("e_a", "error")] * 2 + [Problem("e_c", "error")] * 3
    diagnostics.add(Mapped(problems=problems))
    assert [p.code for p in diagnostics.problems] == ["e_c", "e_a", "e_b", "w_many"]
    assert [p["code"] for p in diagnostics.to_dict()["problems"]] == ["e_c", "e_a", "e_b", "w_many"]


def test_a_code_seen_as_error_counts_as_error() -> None:
    diagnostics = BuildDiagnostics()
    diagnostics.add(Mapped(problems=[Problem("gtin", "warning"), Problem("gtin", "error")]))
    assert diagnostics.problems[0].severity == "error"


def test_examples_are_capped_and_keep_the_first_ones() -> None:
    diagnostics = BuildDiagnostics()
    for n in range(120):
        diagnostics.add(Mapped(problems=[Problem("missing_price", "error", product_id=n)]))
    stats = diagnostics.problems[0]
    assert stats.count == 120
    assert len(stats.examples) == MAX_EXAMPLES
    assert [e["product_id"] for e in stats.examples] == [str(n) for n in range(MAX_EXAMPLES)]


def test_memory_stays_bounded_over_a_large_catalogue() -> None:
    diagnostics = BuildDiagnostics(max_examples=5)
    codes = ["a", "b", "c"]
    for n in range(100_000):
        diagnostics.add(Mapped(items=[n], problems=[Problem(codes[n % 3], "warning", n)]))
    assert diagnostics.products == diagnostics.items_written == 100_000
    assert [len(p.examples) for p in diagnostics.problems] == [5, 5, 5]
    assert len(json.dumps(diagnostics.to_dict())) < 5_000


def test_long_names_and_details_are_truncated() -> None:
    diagnostics = BuildDiagnostics()
    diagnostics.add(
        Mapped(problems=[Problem("long", "warning", product_name="N" * 1000, detail="D" * 5000)])
    )
    example = diagnostics.problems[0].examples[0]
    assert 0 < len(example["product_name"]) < 1000
    assert 0 < len(example["detail"]) < 5000


def test_round_trip_through_json_is_lossless_and_deterministic() -> None:
    diagnostics = BuildDiagnostics(max_examples=3)
    for n in range(10):
        diagnostics.add(
            Mapped(
                items=[n],
                problems=[
                    Problem("missing_brand", "warning", n, n * 10, f"{n}", "Zapato", "no brand"),
                    Problem("bad_gtin", "error", n, None, None, "Zapato", f"gtin {n}"),
                ],
            )
        )
    data = diagnostics.to_dict()
    stored = json.dumps(data, sort_keys=True)
    again = BuildDiagnostics.from_dict(json.loads(stored))
    assert again.to_dict() == data
    assert json.dumps(again.to_dict(), sort_keys=True) == stored
    again.add(Mapped(problems=[Problem("bad_gtin", "error")]))
    assert again.problems[0].count == 11
    assert len(again.problems[0].examples) == 3


def test_from_empty_or_missing_record() -> None:
    for record in (None, {}):
        data = BuildDiagnostics.from_dict(record).to_dict()
        assert data["products"] == 0 and data["problems"] == [] and data["errors"] == 0
