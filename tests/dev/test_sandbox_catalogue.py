"""The generated catalogue is deterministic, realistic in its mix, and messy where intended."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from feedapp_dev.sandbox.catalogue import (
    generate_catalogue,
    generate_product,
    product_id,
    product_index,
)
from feedapp_dev.sandbox.mess import MESS_KINDS

from feedapp.feed.gtin import check_digit

N = 4000


@pytest.fixture(scope="module")
def catalogue() -> tuple[list[dict], list[dict]]:
    return generate_catalogue(N, seed=3)


def _share(count: int, total: int = N) -> float:
    return count / total


def test_same_seed_same_catalogue_and_ids_are_stable() -> None:
    first, categories = generate_catalogue(300, seed=9)
    again, _ = generate_catalogue(300, seed=9)
    assert json.dumps(first) == json.dumps(again)
    longer, _ = generate_catalogue(400, seed=9)
    assert json.dumps(longer[:300]) == json.dumps(first)  # growing a store keeps what was there
    other, _ = generate_catalogue(300, seed=10)
    assert [p["id"] for p in other] == [p["id"] for p in first]
    assert [p["name"] for p in other] != [p["name"] for p in first]
    variant_ids = [v["id"] for p in first for v in p["variants"]]
    assert len(variant_ids) == len(set(variant_ids))
    assert categories == generate_catalogue(1, seed=1)[1]


def test_product_ids_round_trip() -> None:
    ids = [product_id(i) for i in range(1000)]
    assert ids == sorted(set(ids))
    assert all(product_index(pid, 1000) == i for i, pid in enumerate(ids))
    assert product_index(ids[0] + 1, 1000) is None
    assert product_index(product_id(1000), 1000) is None


def is_valid_gtin(code: str | None) -> bool:
    """An 8, 12, 13 or 14 digit string whose GS1 check digit is right."""
    if not isinstance(code, str) or len(code) not in (8, 12, 13, 14) or not code.isdigit():
        return False
    return check_digit(code[:-1]) == int(code[-1])


def test_validity_check_on_known_codes() -> None:
    assert is_valid_gtin("4006381333931")
    assert not is_valid_gtin("4006381333932")
    assert not is_valid_gtin("40063813339")
    assert not is_valid_gtin(None)


def test_mix_of_variants_statuses_prices_and_stock(catalogue: tuple[list[dict], list]) -> None:
    products, _ = catalogue
    with_variants = [p for p in products if p["variants"]]
    assert 0.35 <= _share(len(with_variants)) <= 0.45
    statuses = Counter(p["status"] for p in products)
    assert set(statuses) == {"available", "not-available", "disabled"}
    assert _share(statuses["available"]) > 0.7
    on_sale = [p for p in products if p["compare_at_price"] is not None]
    assert 0.12 <= _share(len(on_sale)) <= 0.18
    assert all(p["compare_at_price"] > p["price"] for p in on_sale if isinstance(p["price"], int))
    assert any(p["stock_unlimited"] for p in products)
    assert any(p["stock"] == 0 and not p["stock_unlimited"] for p in products)
    clean_prices = [p["price"] for p in products if isinstance(p["price"], int) and p["price"] > 0]
    assert _share(len(clean_prices)) > 0.97
    assert all(price % 1000 == 990 for price in clean_prices)
    assert {p["type"] for p in products} == {"physical", "digital", "gift_card"}


def test_variants_are_complete_and_vary_over_known_options(catalogue: tuple[list, list]) -> None:
    products, _ = catalogue
    names: Counter[str] = Counter()
    for product in products:
        for variant in product["variants"]:
            assert set(variant) >= {
                "id", "price", "sku", "barcode", "stock", "stock_unlimited",
                "compare_at_price", "image", "options",
            }  # fmt: skip
            for option in variant["options"]:
                assert set(option) >= {"name", "option_type", "value", "custom"}
                names[option["name"]] += 1
                if option["option_type"] == "color":
                    assert re.fullmatch(r"#[0-9A-F]{6}", option["custom"])
        values = [tuple(o["value"] for o in v["options"]) for v in product["variants"]]
        assert len(values) == len(set(values)) <= 20
    assert set(names) == {"Color", "Talla", "Size", "Material"}


def test_barcodes_are_mostly_valid_gtins(catalogue: tuple[list, list]) -> None:
    products, _ = catalogue
    codes = [p["barcode"] for p in products if p["barcode"]]
    valid = [c for c in codes if is_valid_gtin(c)]
    assert 0.8 <= len(valid) / len(codes) <= 0.9
    assert {len(c) for c in valid} == {8, 12, 13}
    assert any(not is_valid_gtin(c) for c in codes)
    assert any(p["barcode"] is None for p in products) and any(p["barcode"] == "" for p in products)


def test_brands_images_categories_and_google_category(catalogue: tuple[list, list]) -> None:
    products, categories = catalogue
    brands = Counter(p["brand"] for p in products)
    assert brands[""] and brands[None] and brands["N/A"]
    ids = {c["id"]: c for c in categories}
    assert any(c["parent_id"] for c in categories)
    for product in products:
        assert 0 <= len(product["images"]) <= 6
        for image in product["images"]:
            assert set(image) == {"id", "position", "url"}
            assert image["url"].startswith("https://images.jumpseller.com/store/sandboxstore/")
        for category in product["categories"]:
            assert ids[category["id"]] == category
    assert sum(1 for p in products if not p["images"]) > 0
    google = Counter(bool(p["google_product_category"]) for p in products)
    assert google[True] and google[False]
    assert any(" > " in (p["google_product_category"] or "") for p in products)


def test_about_five_percent_is_messy_in_every_intended_way() -> None:
    generated = [generate_product(i, seed=3) for i in range(N)]
    messy = [g for g in generated if g.mess]
    assert 0.035 <= _share(len(messy)) <= 0.065
    assert {kind for g in messy for kind in g.mess} == set(MESS_KINDS)
    names = [g.product["name"] for g in messy]
    assert any(len(name) > 150 for name in names)
    assert any("&amp;amp;" in name for name in names)
    assert any(re.search(r"[\x00-\x08\x0b\x1b\x7f]", name) for name in names)
    prices = [g.product["price"] for g in messy]
    assert None in prices and 0 in prices and any(isinstance(p, str) for p in prices)
    assert any(isinstance(p, int) and p < 0 for p in prices)
    assert all(not g.mess for g in generated if g not in messy)


def test_translations_and_other_currencies() -> None:
    generated = [generate_product(i, seed=3) for i in range(400)]
    translated = [g for g in generated if g.translation]
    assert 0.25 <= len(translated) / 400 <= 0.45
    assert all(g.translation["name"] != g.product["name"] for g in translated if not g.mess)
    usd, _ = generate_catalogue(50, seed=3, store_code="shop", currency="USD")
    assert all(isinstance(p["price"], float) for p in usd if not isinstance(p["price"], str))
    assert all(i["url"].startswith("https://images.jumpseller.com/store/shop/")
               for p in usd for i in p["images"])  # fmt: skip


def test_large_catalogue_has_every_product_once() -> None:
    # Its speed is the benchmark's business (tests/bench); a timed assertion here would be flaky.
    products, _ = generate_catalogue(20_000)
    assert len({p["id"] for p in products}) == 20_000
