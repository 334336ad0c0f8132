"""Google's taxonomy lookups and the store's category tree."""

from __future__ import annotations

import subprocess
import sys

import pytest

from feedapp.feed import taxonomy
from feedapp.feed.options import FeedOptions
from feedapp.feed.taxonomy import CatalogContext, is_apparel, lookup, needs_size, search

CLOTHING = (1604, "Apparel & Accessories > Clothing")
SHIRTS = (212, "Apparel & Accessories > Clothing > Shirts & Tops")


def test_the_project_carries_its_own_copy_of_the_taxonomy() -> None:
    assert taxonomy.TAXONOMY_FILE.is_file()
    assert "feedapp" in taxonomy.TAXONOMY_FILE.parts
    assert "shared" not in taxonomy.TAXONOMY_FILE.parts


def test_nothing_is_loaded_at_import_time() -> None:
    code = (
        "import feedapp.feed.taxonomy as t, feedapp.feed.mapping\n"
        "assert t._taxonomy.cache_info().currsize == 0\n"
        "t.lookup(1604)\n"
        "assert t._taxonomy.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize(
    "value",
    [
        1604,
        "1604",
        " 1604 ",
        "Apparel & Accessories > Clothing",
        "apparel & accessories>clothing",
        "  Apparel &  Accessories  >  Clothing ",
        "1604 - Apparel & Accessories > Clothing",
    ],
)
def test_lookup_by_id_path_or_line(value: object) -> None:
    assert lookup(value) == CLOTHING


def test_id_wins_over_path_in_an_id_line() -> None:
    assert lookup("212 - something else") == SHIRTS


@pytest.mark.parametrize(
    "value",
    [None, True, "", "   ", 0, -1, 99999999, "Clothing", "Apparel > Nope", "1" * 5000, 1604.0, {}],
)
def test_lookup_unknown(value: object) -> None:
    assert lookup(value) is None


def test_every_line_of_the_file_is_loaded() -> None:
    lines = [
        line
        for line in taxonomy.TAXONOMY_FILE.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert len(lines) > 5000
    for line in lines[::97]:
        cid, _, path = line.partition(" - ")
        assert lookup(int(cid)) == (int(cid), path)
        assert lookup(path) == (int(cid), path)


def test_search_ranks_leaf_matches_first() -> None:
    results = search("shirts")
    assert results[0] == SHIRTS
    assert all("shirts" in path.casefold() for _, path in results)


def test_search_needs_every_word() -> None:
    results = search("clothing shirts", limit=50)
    assert results
    assert all("clothing" in p.casefold() and "shirts" in p.casefold() for _, p in results)


def test_search_by_id_puts_that_category_first() -> None:
    assert search("1604")[0] == CLOTHING


@pytest.mark.parametrize("query", ["", "   ", "zzzqqqxxx"])
def test_search_without_results(query: str) -> None:
    assert search(query) == []


def test_search_honours_the_limit() -> None:
    assert len(search("a", limit=7)) == 7
    assert search("a", limit=0) == []


@pytest.mark.parametrize(
    ("category", "apparel", "sized"),
    [
        (166, True, False),
        (1604, True, True),
        (212, True, True),
        (187, True, True),
        ("Apparel & Accessories > Shoes", True, True),
        (167, True, False),  # Clothing Accessories
        (178, True, False),  # Sunglasses
        (1, False, False),
        (222, False, False),
        (None, False, False),
        ("bogus", False, False),
    ],
)
def test_apparel_and_size_rules(category: object, apparel: bool, sized: bool) -> None:
    found = lookup(category)
    if found is not None and apparel:
        assert found[1].startswith("Apparel & Accessories")
    assert is_apparel(category) is apparel
    assert needs_size(category) is sized


CATEGORIES = [
    {"category": {"id": 1, "name": "Ropa", "parent_id": None, "permalink": "ropa"}},
    {"id": 2, "name": "Hombre", "parent_id": 1, "permalink": "ropa/hombre"},
    {"id": "3", "name": "Poleras", "parent_id": "2", "permalink": "ropa/hombre/poleras"},
    {"id": 4, "name": "Ofertas", "parent_id": None},
    {"id": 5, "name": "Loop A", "parent_id": 6},
    {"id": 6, "name": "Loop B", "parent_id": 5},
    {"id": 7, "name": "Orphan", "parent_id": 999},
    {"id": None, "name": "no id"},
    "garbage",
]


def test_category_paths() -> None:
    catalog = CatalogContext(CATEGORIES)
    assert catalog.path(3) == ("Ropa", "Hombre", "Poleras")
    assert catalog.path("3") == ("Ropa", "Hombre", "Poleras")
    assert catalog.path(1) == ("Ropa",)
    assert catalog.path(7) == ("Orphan",)
    assert catalog.path(12345) == ()
    assert catalog.path(None) == ()


def test_a_loop_in_the_tree_ends() -> None:
    path = CatalogContext(CATEGORIES).path(5)
    assert set(path) == {"Loop A", "Loop B"}
    assert len(path) <= 50


def test_product_type_uses_the_first_category() -> None:
    catalog = CatalogContext(CATEGORIES)
    assert catalog.product_type([{"id": 3}, {"id": 4}]) == "Ropa > Hombre > Poleras"
    assert catalog.product_type([{"id": 404, "name": "Unknown"}]) == "Unknown"
    assert catalog.product_type([]) == ""


def test_product_type_is_cut_to_750() -> None:
    long_tree = [{"id": i, "name": f"Level {i} " + "x" * 40, "parent_id": i - 1} for i in range(40)]
    result = CatalogContext(long_tree).product_type([{"id": 39}])
    assert 0 < len(result) <= 750


def test_google_category_prefers_the_products_own() -> None:
    catalog = CatalogContext(CATEGORIES)
    options = FeedOptions(category_map={"3": "212"}, default_google_category="166")
    assert catalog.google_category(["1604"], [{"id": 3}], options) == (1604, "")


def test_google_category_maps_the_deepest_category_first() -> None:
    catalog = CatalogContext(CATEGORIES)
    options = FeedOptions(category_map={"1": "166", "3": "212"}, default_google_category="1")
    assert catalog.google_category([None, ""], [{"id": 1}, {"id": 3}], options) == (212, "")


def test_google_category_falls_back_to_the_default_and_reports_unknown_values() -> None:
    catalog = CatalogContext(CATEGORIES)
    options = FeedOptions(category_map={"3": "not a category"}, default_google_category="166")
    assert catalog.google_category(["Ropa linda"], [{"id": 3}], options) == (166, "Ropa linda")


def test_google_category_may_be_absent() -> None:
    assert CatalogContext().google_category([], [], FeedOptions()) == (None, "")
