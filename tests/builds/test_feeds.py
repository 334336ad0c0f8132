"""A store with several feeds: one build pages the catalogue once per language and makes every feed,
each with its own language, links, rules, shipping, file and outcome (real Redis, the sandbox)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from feedapp_dev.sandbox import SandboxConfig
from feedapp_dev.sandbox.catalogue import generate_categories
from google_rules import feed_items, violations
from processes import wait_for
from rq.job import Job
from rq.registry import FinishedJobRegistry, ScheduledJobRegistry

from feedapp import create_app
from feedapp.builds import builder, queueing
from feedapp.builds.status import FeedsRefused, feed_diagnostics, feed_last_good, store_status
from feedapp.feed.options import FeedOptions
from feedapp.feed.publishing import published_feed
from feedapp.feed.rules import Action, Rule, dump_rules
from feedapp.feed.shipping import validate_shipping
from tests.bench import floor

RULES = Path(__file__).resolve().parent.parent / "data" / "rules-example.json"
#: The options the golden feed is built with: every item passes Google's rules.
CLEAN = FeedOptions(
    default_brand="Tienda Sandbox",
    gender="unisex",
    age_group="adult",
    default_google_category="5181",
)

Items = dict[str, dict]


def change_feed(svc, code: str, feed_id: str, **values: object) -> None:
    """Set fields of one feed of the store, as the page or the CLI saves them."""

    def change(feed) -> None:
        for name, value in values.items():
            setattr(feed, name, value)

    svc.registry.update_feed(code, feed_id, change)


def served(sandbox) -> int:
    """API requests the sandbox answered so far (a 429, had there been one, not counted)."""
    stats = sandbox.state.snapshot()
    return int(stats["requests"]) - int(stats["rate_limited"])


def feed_bytes(svc, code: str, feed_id: str) -> bytes:
    """The live file of one feed."""
    return published_feed(svc.feeds_dir, code, feed_id).xml_path.read_bytes()


def items(svc, code: str, feed_id: str) -> Items:
    """One feed's items by id, as attribute -> values (google_rules' reading, not ours)."""
    return {item["id"][0]: item for item in feed_items(feed_bytes(svc, code, feed_id))}


def expected_requests(products: int, languages: int) -> int:
    """The most a build may ask: tests/bench's floor R with one paging per language, plus what
    floor.NOT_COUNTED names (a build's own choice): the page read past the last one of each
    paging and the empty category page that ends the tree."""
    categories = len(generate_categories())
    needed = floor.catalogue_requests(products, categories)
    needed += (languages - 1) * floor.pages(products)  # each further language pages again
    return needed + languages + 1


# -- languages ---------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    "sandbox_config", [SandboxConfig(product_count=250, languages=["es", "pt"])]
)
def test_a_spanish_and_a_portuguese_feed_come_from_one_build(
    svc, installed, sandbox, start, live_config
) -> None:
    code = installed.code
    change_feed(svc, code, "1", name="Chile (es)", language="es", country="CL")
    brasil = svc.registry.add_feed(code, "Brasil (pt)", "pt", "BR")
    start("worker")
    before = served(sandbox)
    assert queueing.request_build(svc, code, reason="test") == "queued"
    wait_for(lambda: finished_jobs(svc), 120, "the build job to finish")
    seen = served(sandbox) - before

    (result,) = finished_jobs(svc)
    assert [(f["feed_id"], f["refused"]) for f in result["feeds"]] == [("1", None), ("2", None)]
    status = store_status(svc, code)
    assert status["state"] == "ok" and [f["state"] for f in status["feeds"]] == ["ok", "ok"]
    assert seen <= expected_requests(250, languages=2), seen

    with sandbox.state.lock:
        shop = sandbox.state.store(code)
        spanish = {str(p["id"]): p for page in (1, 2, 3) for p in shop.page(page, 100)}
        portuguese = {str(p["id"]): p for page in (1, 2, 3) for p in shop.page(page, 100, "pt")}
        pages = {
            lang: {pid: shop.storefront_url(p["permalink"], lang) for pid, p in found.items()}
            for lang, found in (("es", spanish), ("pt", portuguese))
        }
    assert all(spanish[pid]["name"] != portuguese[pid]["name"] for pid in spanish)
    for feed_id, lang, names in (("1", "es", spanish), ("2", "pt", portuguese)):
        written = items(svc, code, feed_id)
        assert len(written) > 250, feed_id
        named = 0
        for item_id, item in written.items():
            pid = item_id.split("-")[0]
            link = item["link"][0]
            assert link.split("?")[0] == pages[lang][pid], (feed_id, item_id, link)
            name = names[pid]["name"]
            if not set("&<>") & set(name):  # a messy name is cleaned first: compared elsewhere
                assert item["title"][0].startswith(name), (feed_id, item)
                named += 1
        assert named > 250, (feed_id, named)
        links = [item["link"][0] for item in written.values()]
        assert all(("/pt/" in link) == (lang == "pt") for link in links), feed_id
    assert items(svc, code, "1").keys() == items(svc, code, "2").keys()

    client = create_app(live_config, redis=svc.redis).test_client()
    reply = client.get(f"/feeds/{brasil.token}.xml", headers={"Accept-Encoding": "identity"})
    assert reply.status_code == 200 and reply.data == feed_bytes(svc, code, "2")
    reply.close()


def finished_jobs(svc) -> list[dict]:
    """The results of every build job that ran to its end."""
    registry = FinishedJobRegistry(queueing.QUEUE, connection=svc.redis)
    return [Job.fetch(j, connection=svc.redis).return_value() for j in registry.get_job_ids()]


def test_two_feeds_in_one_language_cost_the_requests_of_one(svc, installed, sandbox) -> None:
    code = installed.code
    before = served(sandbox)
    alone = builder.build_feed(svc, code)
    one_feed = served(sandbox) - before
    peru = svc.registry.add_feed(code, "Perú", "", "PE")
    before = served(sandbox)
    both = builder.build_feed(svc, code)
    two_feeds = served(sandbox) - before

    assert two_feeds <= one_feed, (one_feed, two_feeds)
    assert one_feed <= expected_requests(250, languages=1)
    assert [(f.feed_id, f.items) for f in both.feeds] == [
        ("1", alone.items),
        (peru.id, alone.items),
    ]
    assert both.items == 2 * alone.items and both.products == alone.products == 250


# -- rules -------------------------------------------------------------------------------------
GTIN = "7801234567894"


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(product_count=400)])
def test_a_feeds_rules_leave_out_label_and_retitle_its_items_only(svc, installed, sandbox) -> None:
    code = installed.code
    with sandbox.state.lock:
        shop = sandbox.state.store(code)
        image = [{"url": "https://images.example.com/clips.jpg"}]
        office = {"id": 30140, "name": "Oficina y Papelería"}
        # A cheap office product the rules leave out, then another sharing its barcode.
        product = {"price": 990, "stock": 9, "images": image, "barcode": GTIN}
        clips = shop.add({**product, "name": "Clips", "categories": [office]})
        lamp = shop.add({**product, "name": "Lámpara", "price": 25990})
    rules = json.loads(RULES.read_text())
    change_feed(svc, code, "1", rules=rules)
    svc.registry.add_feed(code, "Chile sin reglas", "", "CL")

    builder.build_feed(svc, code)

    ruled, plain = items(svc, code, "1"), items(svc, code, "2")
    excluded = plain.keys() - ruled.keys()
    assert str(clips["id"]) in excluded and ruled.keys() < plain.keys()
    problems = {p["code"]: p for p in feed_diagnostics(svc.registry, code, "1")["problems"]}
    left_out = problems["excluded_by_rule"]
    assert left_out["count"] == len(excluded)
    assert {e["detail"] for e in left_out["examples"]} == {"Leave out cheap office supplies"}
    assert {e["item_id"] for e in left_out["examples"]} <= excluded
    other = {p["code"] for p in feed_diagnostics(svc.registry, code, "2")["problems"]}
    assert "excluded_by_rule" not in other
    # The item left out claimed no GTIN: the lamp keeps it in the ruled feed only.
    assert ruled[str(lamp["id"])].get("gtin") == [GTIN]
    assert "gtin" not in plain[str(lamp["id"])]

    labels = {
        name: {v for item in ruled.values() for v in item.get(name, [])}
        for name in ("custom_label_0", "custom_label_1", "custom_label_2", "promotion_id")
    }
    assert labels == {
        "custom_label_0": {"ropa"},
        "custom_label_1": {"oferta"},
        "custom_label_2": {"premium"},
        "promotion_id": {"ofertas_2024"},
    }
    assert not [k for item in plain.values() for k in item if k.startswith("custom_label")]
    clothes = [i for i, item in ruled.items() if item.get("custom_label_0") and "brand" in item]
    assert clothes
    for item_id in clothes:
        brand, title = ruled[item_id]["brand"][0], ruled[item_id]["title"][0]
        assert title.startswith(f"{brand} ") and plain[item_id]["title"][0] != title, item_id


# -- shipping ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "sandbox_config", [SandboxConfig(product_count=300, seed=42, currency="CLP")]
)
def test_free_shipping_above_50000_clp_else_3990_on_every_item(svc, installed, sandbox) -> None:
    code = installed.code
    shipping, errors = validate_shipping(
        {"mode": "free_above", "free_above": "50000", "flat_price": "3990"}, "CLP"
    )
    assert errors == {}
    change_feed(svc, code, "1", options=CLEAN, country="CL", shipping=shipping)

    builder.build_feed(svc, code)

    feed = feed_bytes(svc, code, "1")
    assert violations(feed, target_country="CL") == []
    prices = set()
    for item in feed_items(feed):
        paid = (item.get("sale_price") or item["price"])[0]
        amount = Decimal(paid.removesuffix(" CLP"))
        (group,) = item["shipping"]
        cost = "0 CLP" if amount >= 50000 else "3990 CLP"
        assert group == {"country": ["CL"], "price": [cost]}, (item["id"], paid, group)
        prices.add(cost)
    assert prices == {"0 CLP", "3990 CLP"}


def test_shipping_saved_in_another_currency_refuses_that_feed_only(svc, installed, sandbox) -> None:
    """The store now sells in CLP; a feed's shipping saved in USD would mislead: it waits."""
    code = installed.code
    dollars, errors = validate_shipping({"mode": "flat", "flat_price": "4.90"}, "USD")
    assert errors == {}
    peru = svc.registry.add_feed(code, "Perú", "", "PE")
    change_feed(svc, code, peru.id, shipping=dollars)

    with pytest.raises(FeedsRefused, match='Feed "Perú": The shipping amounts were saved in USD'):
        builder.build_feed(svc, code)

    assert published_feed(svc.feeds_dir, code, peru.id) is None
    assert "shipping" not in next(iter(items(svc, code, "1").values()))
    first, second = store_status(svc, code)["feeds"]
    assert first["state"] == "ok" and second["state"] == "failed" and second["refused"]
    assert "save the feed's shipping settings again" in second["error"]


# -- the collapse guard ------------------------------------------------------------------------
@pytest.mark.slow
def test_a_collapse_keeps_that_feeds_file_and_publishes_the_other(
    svc, installed, sandbox, start
) -> None:
    code = installed.code
    change_feed(svc, code, "1", name="Chile")
    svc.registry.add_feed(code, "Perú", "", "PE")
    builder.build_feed(svc, code)
    kept = published_feed(svc.feeds_dir, code, "1")
    kept_bytes, kept_good = kept.xml_path.read_bytes(), feed_last_good(svc.registry, code, "1")
    other_build = published_feed(svc.feeds_dir, code, "2").build_id
    everything = dump_rules([Rule("Leave out everything", actions=(Action("exclude"),))])
    change_feed(svc, code, "1", rules=everything)

    start("worker")  # the job ends refused, and is not retried
    assert queueing.request_build(svc, code, reason="test") == "queued"
    wait_for(lambda: finished_jobs(svc), 120, "the build job to finish")

    assert feed_bytes(svc, code, "1") == kept_bytes
    assert feed_last_good(svc.registry, code, "1") == kept_good
    assert published_feed(svc.feeds_dir, code, "2").build_id != other_build
    (result,) = finished_jobs(svc)
    assert result["refused"].startswith(f'{code}: Feed "Chile": The new feed has 0 items')
    assert ScheduledJobRegistry(queueing.QUEUE, connection=svc.redis).count == 0
    status = store_status(svc, code)
    assert status["state"] == "failed" and status["error_kind"] == "collapse"
    first, second = status["feeds"]
    assert first["state"] == "failed" and first["refused"] is True
    assert first["collapse"] == {"old": kept.items, "new": 0}
    assert second["state"] == "ok" and second["error"] is None

    with pytest.raises(FeedsRefused):  # the same build in this process says the same
        builder.build_feed(svc, code)
    forced = builder.build_feed(svc, code, force=True)  # the merchant confirms
    assert [(f.feed_id, f.items) for f in forced.feeds] == [("1", 0), ("2", forced.items)]
