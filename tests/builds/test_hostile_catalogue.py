"""A catalogue spoiled as merchants' imports are gives a feed Merchant Center fully accepts."""

from __future__ import annotations

import math

import pytest
from feedapp_dev.sandbox import SandboxConfig
from google_rules import feed_items, violations

from feedapp.builds import builder
from feedapp.builds.status import feed_diagnostics
from feedapp.feed.options import FeedOptions
from feedapp.feed.publishing import published_feed

PRODUCTS = 2000


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """A large store where half the products carry markup, entities, shared barcodes..."""
    return SandboxConfig(product_count=PRODUCTS, seed=7, hostile_share=0.5)


def test_hostile_catalogue_builds_a_feed_without_a_merchant_center_error(
    svc, installed, sandbox
) -> None:
    options = FeedOptions(default_brand="Tienda Sandbox", gender="unisex", age_group="adult")
    svc.registry.update_feed(installed.code, "1", lambda feed: setattr(feed, "options", options))
    result = builder.build_feed(svc, installed.code)
    feed = published_feed(svc.feeds_dir, installed.code).xml_path.read_bytes()

    found = violations(feed)
    assert found == [], f"{len(found)} violations, first ones:\n" + "\n".join(found[:20])

    store = sandbox.state.store(installed.code)
    pages = range(1, math.ceil(PRODUCTS / 100) + 1)
    products = [p for page in pages for p in store.page(page, 100)]
    assert len(products) == result.products == PRODUCTS
    offers = sum(max(1, len(p.get("variants") or [])) for p in products)
    diagnostics = feed_diagnostics(svc.registry, installed.code, "1")
    written, left_out = diagnostics["items_written"], diagnostics["items_left_out"]
    assert written == len(feed_items(feed)) == result.items
    assert written + left_out == offers, "every sellable variant is in the feed or reported"

    codes = {p["code"] for p in diagnostics["problems"]}
    assert {"name_markup", "gtin_duplicate", "variants_indistinct"} <= codes
    titles = [item["title"][0] for item in feed_items(feed)]
    assert not [t for t in titles if "<" in t or "&amp;" in t or "&quot;" in t]
