"""A seeded sandbox catalogue, built by the real pipeline, gives a checked-in feed byte for byte.

The golden file only says the output did not change; Google's rules, checked independently by
`google_rules`, say it is right, so a golden regenerated from broken code still fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from feedapp_dev.sandbox import SandboxConfig
from google_rules import violations

from feedapp.builds import builder
from feedapp.feed.options import FeedOptions
from feedapp.feed.publishing import published_feed

GOLDEN = Path(__file__).parent.parent / "data" / "golden-feed.xml"


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(product_count=300, seed=42, currency="CLP")


def test_seeded_catalogue_gives_the_golden_feed(svc, installed, request) -> None:
    options = FeedOptions(
        default_brand="Tienda Sandbox",
        gender="unisex",
        age_group="adult",
        default_google_category="5181",
        utm_campaign="golden",
    )
    svc.registry.update_feed(installed.code, "1", lambda feed: setattr(feed, "options", options))
    result = builder.build_feed(svc, installed.code)
    feed = published_feed(svc.feeds_dir, installed.code).xml_path.read_bytes()
    assert result.products == 300
    assert violations(feed) == []  # before any rewrite: a broken feed never becomes the golden
    if request.config.getoption("--update-golden"):
        GOLDEN.write_bytes(feed)
    assert feed == GOLDEN.read_bytes(), "feed differs; review, then rerun with --update-golden"
