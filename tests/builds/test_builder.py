"""One build against the sandbox: what it publishes, what a failure leaves, whose facts it uses."""

from __future__ import annotations

import json
import time

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig
from lxml import etree

from feedapp.builds import builder
from feedapp.builds.snapshot import Snapshot
from feedapp.builds.status import feed_diagnostics, feed_last_good, store_status
from feedapp.feed.mapping import CatalogContext
from feedapp.feed.options import FeedOptions
from feedapp.feed.publishing import published_feed
from feedapp.jumpseller.client import ApiError
from feedapp.services import Services
from feedapp.storefeeds import StoreFeed
from feedapp.stores import Store

G = "{http://base.google.com/ns/1.0}"


def control(sandbox, path: str, payload: dict | None = None, method: str = "post") -> dict:
    """One call of the sandbox's control API."""
    reply = requests.request(method, f"{sandbox.url}/_sandbox/{path}", json=payload, timeout=10)
    reply.raise_for_status()
    return reply.json()


def feed_titles(svc: Services, code: str) -> dict[str, str]:
    """The published feed's items: id -> title."""
    root = etree.fromstring(published_feed(svc.feeds_dir, code).xml_path.read_bytes())
    return {item.findtext(f"{G}id"): item.findtext(f"{G}title") for item in root.iter("item")}


def problems(svc: Services, code: str) -> dict[str, dict]:
    """The last build's problems by code."""
    diagnostics = feed_diagnostics(svc.registry, code, "1") or {}
    return {p["code"]: p for p in diagnostics.get("problems", [])}


# -- a product the mapping cannot read -------------------------------------------------------
@pytest.mark.parametrize("sandbox_config", [SandboxConfig(product_count=0)])
def test_a_product_the_mapping_cannot_read_is_reported_and_the_rest_is_published(
    svc, installed, sandbox
) -> None:
    code = installed.code
    with sandbox.state.lock:
        category = sandbox.state.store(code).categories[0]

    def add(name: str, **fields: object) -> str:
        image = {"url": f"https://images.example.com/{len(name)}.jpg"}
        product = {"name": name, "price": 15990, "stock": 5, "images": [image], **fields}
        return str(control(sandbox, f"stores/{code}/products", product)["product"]["id"])

    first = add("Mesa de roble")
    broken = add("Lámpara de pie", categories=[{"id": category["id"], "name": category["name"]}])
    last = add("Silla de haya")
    # Options as an older version saved them: the category map as a list of pairs. Only a
    # product with a category reaches the map, and mapping it raises.
    feeds = json.loads(svc.redis.hget(svc.keys.store(code), "feeds"))
    feeds[0]["options"]["category_map"] = [[str(category["id"]), "5181"]]
    svc.redis.hset(svc.keys.store(code), "feeds", json.dumps(feeds))

    result = builder.build_feed(svc, code)

    assert (result.products, result.items) == (3, 2)
    assert set(feed_titles(svc, code)) == {first, last}
    unreadable = problems(svc, code)["product_unreadable"]
    assert unreadable["severity"] == "error" and unreadable["count"] == 1
    (example,) = unreadable["examples"]
    assert example["product_id"] == broken and example["product_name"] == "Lámpara de pie"
    assert example["detail"] == "AttributeError"
    assert store_status(svc, code)["state"] == "ok"


# -- a failed build --------------------------------------------------------------------------
@pytest.mark.parametrize("sandbox_config", [SandboxConfig(product_count=800)])
def test_a_build_failing_midway_leaves_the_live_feed_and_says_which_store(
    svc, installed, sandbox
) -> None:
    code = installed.code
    builder.build_feed(svc, code)
    live = published_feed(svc.feeds_dir, code)
    before = (live.xml_path.read_bytes(), live.gz_path.read_bytes())
    last_good = feed_last_good(svc.registry, code, "1")
    with Snapshot.open(svc.feeds_dir, code) as snap:
        kept = snap.known("")
    with sandbox.state.lock:  # the first page reads as changed: the snapshot takes it in
        sandbox.state.store(code).edit(min(kept), {"name": "Renamed before the failure"})
    pages_seen: list[int] = []

    def refuse_products_after_the_first_page(update: dict[str, object]) -> None:
        pages_seen.append(int(update["pages_done"]))
        if len(pages_seen) == 1:  # the first page is in the snapshot's transaction; 7-9 are not
            with sandbox.state.lock:  # asked for yet: the merchant takes read_products away
                for grant in sandbox.state.grants.access.values():
                    grant.scope = "read_store"

    with pytest.raises(ApiError, match=f"Store '{code}': Jumpseller answered 403"):
        builder.build_feed(svc, code, progress=refuse_products_after_the_first_page)

    assert pages_seen[0] == 1 and len(pages_seen) < 8
    after = published_feed(svc.feeds_dir, code)
    assert (after.xml_path.read_bytes(), after.gz_path.read_bytes()) == before
    assert after.build_id == live.build_id
    assert not list(live.xml_path.parent.glob("*.tmp")), "a half-written feed stayed"
    with Snapshot.open(svc.feeds_dir, code) as snap:
        assert snap.known("") == kept, "the failed build's pages reached the snapshot"
    build = svc.registry.get_json(code, "build")
    assert build["state"] == "failed" and build["error_kind"] == "api"
    assert f"Store '{code}'" in build["error"] and build["finished_at"] >= build["started_at"]
    assert feed_last_good(svc.registry, code, "1") == last_good
    status = store_status(svc, code)
    assert status["state"] == "failed" and status["items"] == last_good["items"]


# -- the store facts a build uses ------------------------------------------------------------
@pytest.mark.parametrize(
    ("chosen", "feed_language"),
    [
        ("", ""),  # no choice: the store's default language, asked for without a locale
        ("es", ""),  # the default language itself needs no locale either
        ("en", "en"),  # another of the store's languages
        ("pt", ""),  # a language the store no longer has falls back to the default
    ],
)
def test_store_info_takes_the_feed_language_the_merchant_chose(
    chosen: str, feed_language: str
) -> None:
    store = Store(
        code="tienda",
        name="Tienda",
        url="https://tienda.example.com",
        currency="CLP",
        weight_unit="lb",
        country="CL",
        languages=["es", "en"],
        default_language="es",
    )
    info = builder.store_info(store, StoreFeed("1", language=chosen))
    assert info.language == feed_language
    assert (info.code, info.name, info.url) == ("tienda", "Tienda", "https://tienda.example.com")
    assert (info.currency, info.weight_unit, info.country) == ("CLP", "lb", "CL")
    assert builder.store_info(store, StoreFeed("2", language=chosen, country="PE")).country == "PE"


def test_store_info_fills_what_store_info_json_did_not_say() -> None:
    info = builder.store_info(Store(code="tienda"), StoreFeed("1"))
    assert (info.name, info.currency, info.weight_unit, info.language) == (
        "tienda",
        "USD",
        "kg",
        "",
    )


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(product_count=100)])
def test_the_feed_is_written_in_the_language_the_merchant_chose(svc, installed, sandbox) -> None:
    code = installed.code
    with sandbox.state.lock:
        shop = sandbox.state.store(code)
        pairs = [
            (p["id"], p["name"], shop.product(p["id"], "en")["name"]) for p in shop.page(1, 100)
        ]
    english = {str(pid): en for pid, es, en in pairs if en != es}
    assert english, "the sandbox catalogue translates some products"
    svc.registry.update_feed(code, "1", lambda feed: setattr(feed, "language", "en"))
    builder.build_feed(svc, code)
    assert svc.registry.get(code).languages == ["es", "en"]
    titles = feed_titles(svc, code)
    checked = 0
    for item_id, title in titles.items():
        name = english.get(item_id.split("-")[0])
        if name is not None:
            assert title.startswith(name), (item_id, title, name)
            checked += 1
    assert checked > 10


# -- the store record a build refreshes ------------------------------------------------------
def test_refresh_profile_keeps_a_token_refreshed_meanwhile(svc, store: Store) -> None:
    seen_at_start = svc.registry.get(store.code)
    svc.registry.save_tokens(store.code, "access-new", "refresh-new", time.time() + 3600)
    info = {"name": "Renamed Store", "currency": "USD", "hooks_token": "hooks-new"}
    builder.refresh_profile(svc, seen_at_start, info, ["en", "es"])
    saved = svc.registry.get(store.code)
    assert (saved.access_token, saved.refresh_token) == ("access-new", "refresh-new")
    assert (saved.name, saved.currency, saved.hooks_token) == ("Renamed Store", "USD", "hooks-new")
    assert saved.languages == ["en", "es"] and saved.default_language == "es"


def test_a_build_that_refreshes_tokens_keeps_the_rotated_ones(svc, installed, sandbox) -> None:
    for round_ in range(2):
        control(sandbox, "tokens/expire")  # the next request meets a 401 and refreshes
        before = svc.registry.get(installed.code)
        assert builder.build_feed(svc, installed.code).items > 0, round_
        after = svc.registry.get(installed.code)
        assert after.installed and after.refresh_token != before.refresh_token, round_
    stats = control(sandbox, "stats", method="get")
    assert stats["refresh_tokens_reused"] == 0 and stats["token_grants"]["refresh_token"] == 2


# -- links in the feed's language ------------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "link"),
    [
        ("", "https://tienda.example.com/mesa-1"),  # the default language, at the root
        ("pt", "https://tienda.example.com/pt/mesa-1"),
        ("pt_BR", "https://tienda.example.com/br/mesa-1"),  # a regional code: its region
        ("es-CL", "https://tienda.example.com/cl/mesa-1"),
    ],
)
def test_links_point_to_the_page_in_the_feeds_language(language: str, link: str) -> None:
    store = Store(
        code="tienda",
        url="https://tienda.example.com/",
        currency="CLP",
        languages=["es", "pt", "pt_BR", "es-CL"],
        default_language="es",
    )
    info = builder.store_info(store, StoreFeed("1", language=language))
    options = FeedOptions(utm_source="", utm_medium="")
    product = {"id": 1, "name": "Mesa", "permalink": "/mesa-1", "price": 990, "brand": "B"}
    product["images"] = [{"url": "https://images.example.com/1.jpg"}]
    (item,) = builder.map_safely(product, info, options, CatalogContext([])).items
    assert dict(item.fields)["link"] == link
