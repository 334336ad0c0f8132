"""The merchant's page: the store's feeds (added, removed, each with its options, rules with a
preview, shipping), server-side validation beside each field, status, problems, rebuilds."""

from __future__ import annotations

import re
import time
from dataclasses import fields
from html import unescape

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig
from live_servers import connect_store
from sandbox_server import SandboxServer

from feedapp.builds import queueing
from feedapp.feed import rules
from feedapp.feed.mapping import Item
from feedapp.feed.options import FeedOptions
from feedapp.feed.problems import Problem
from feedapp.feed.publishing import publish
from feedapp.feed.xmlfeed import Channel, FeedWriter, store_dir
from feedapp.stores import Store, StoreRegistry
from feedapp.web import i18n
from feedapp.web.rules_form import ACTION_LABELS, FIELD_LABELS, OPERATOR_LABELS
from feedapp.web.security import PageSession, open_session

EN = {"Accept-Language": "en-US,en;q=0.9"}
CATEGORIES = [
    {"id": 10, "name": "Ropa", "parent_id": None, "permalink": "ropa"},
    {"id": 11, "name": "Poleras", "parent_id": 10, "permalink": "poleras"},
]


@pytest.fixture
def page(app, store: Store, registry: StoreRegistry) -> PageSession:
    """A signed-in page for the test store, whose categories are cached (no API call)."""
    registry.set_json(store.code, "categories", {"categories": CATEGORIES})
    with app.test_request_context():
        return open_session(store.code)


def token(app, page: PageSession) -> str:
    with app.test_request_context():
        return page.page_token


def csrf(app, page: PageSession) -> str:
    with app.test_request_context():
        return page.csrf


def show(client, app, page: PageSession, headers: dict | None = None) -> str:
    reply = client.get("/", query_string={"t": token(app, page)}, headers=headers or {})
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def valid_form(**changes: str) -> dict[str, str]:
    form = {
        "include_out_of_stock": "1",
        "default_brand": "Marca Propia",
        "default_google_category": "187 - Apparel & Accessories > Shoes",
        "category_map.11": "212 - Apparel & Accessories > Clothing > Shirts & Tops",
        "category_map.999": "166",  # not one of the store's categories: ignored
        "condition": "used",
        "gender": "female",
        "age_group": "adult",
        "color_options": "Color, Tono",
        "size_options": "Talla",
        "material_options": "Material",
        "pattern_options": "Diseño",
        "sku_is_mpn": "1",
        "title_pattern": "{brand} {name} ({options})",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "verano-2026",
        "frequency_hours": "6",
    }
    form.update(changes)
    return form


def post_options(client, app, page: PageSession, form: dict, headers: dict | None = None):
    data = {"t": token(app, page), "csrf": csrf(app, page), **form}
    return client.post("/settings/options", data=data, headers=headers or {})


def error_beside(html: str, field: str) -> str:
    match = re.search(rf'data-error-for="{re.escape(field)}">([^<]+)<', html)
    assert match, f"no error shown beside {field}"
    return unescape(match.group(1))


def input_value(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"\s+value="([^"]*)"', html)
    assert match, f"no input {name}"
    return unescape(match.group(1))


def test_page_has_a_field_for_every_feed_option(client, app, page: PageSession) -> None:
    html = show(client, app, page)
    options_form = html[html.index('id="options-form"') : html.index('id="rules"')]
    for option in fields(FeedOptions):
        name = "category_map.10" if option.name == "category_map" else option.name
        assert f'name="{name}"' in options_form, option.name
    assert "Ropa &gt; Poleras" in html  # Jumpseller categories shown with their parents
    assert "/feeds/" in html and 'data-copy="feed-url"' in html
    assert "Merchant Center" in html
    assert '<html lang="es">' in html and "Opciones del feed" in html
    assert '<html lang="en">' in show(client, app, page, EN)


def test_saving_valid_options_stores_them_and_queues_a_rebuild(
    client,
    app,
    page: PageSession,
    registry: StoreRegistry,
) -> None:
    reply = post_options(client, app, page, valid_form())
    assert reply.status_code == 303
    assert "notice=saved" in reply.headers["Location"]
    options = registry.get(page.store_code).first_feed.options
    assert options.default_brand == "Marca Propia"
    assert options.default_google_category == "187"
    assert options.category_map == {"11": "212"}
    assert options.condition == "used" and options.sku_is_mpn and options.include_out_of_stock
    assert (options.gender, options.age_group) == ("female", "adult")
    assert not options.include_not_available  # an unticked box means no
    assert options.color_options == ["Color", "Tono"] and options.frequency_hours == 6
    assert options.utm_campaign == "verano-2026"
    assert queueing.is_queued(app.extensions["feedapp"], page.store_code)
    html = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Ajustes guardados" in html
    assert input_value(html, "default_google_category") == "187 - Apparel & Accessories > Shoes"
    assert input_value(html, "default_brand") == "Marca Propia"


def test_a_rejected_save_keeps_the_old_settings_and_reshows_what_was_typed(
    client,
    app,
    page: PageSession,
    registry: StoreRegistry,
) -> None:
    before = registry.get(page.store_code).first_feed.options
    bad = valid_form(
        title_pattern="{brand} - {options}",
        utm_source="google ads!",
        default_google_category="zapatos bonitos",
        condition="broken",
        gender="other",
        age_group="teen",
        frequency_hours="5",
        default_brand="N/A",
        **{"category_map.11": "not a category"},
    )
    reply = post_options(client, app, page, bad)
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert registry.get(page.store_code).first_feed.options == before
    assert not queueing.is_queued(app.extensions["feedapp"], page.store_code)
    assert "El patrón de título debe contener {name}." in error_beside(html, "title_pattern")
    for field in (
        "utm_source",
        "default_google_category",
        "condition",
        "gender",
        "age_group",
        "frequency_hours",
        "default_brand",
        "category_map.11",
    ):
        assert error_beside(html, field)
    assert input_value(html, "title_pattern") == "{brand} - {options}"
    assert input_value(html, "utm_source") == "google ads!"
    assert input_value(html, "category_map.11") == "not a category"
    assert 'id="category-map" open' in html
    english = post_options(client, app, page, bad, EN).get_data(as_text=True)
    assert error_beside(english, "title_pattern") == "The title pattern must contain {name}."


def test_status_shows_last_build_next_build_progress_and_errors(
    client,
    app,
    page: PageSession,
    registry: StoreRegistry,
) -> None:
    code = page.store_code
    assert "Aún no generado" in show(client, app, page)
    finished = time.time() - 600
    registry.set_json(
        code,
        "last_good",
        {"finished_at": finished, "duration": 42.0, "items": 321, "products": 150, "left_out": 7},
    )
    registry.set_json(code, "build", {"state": "ok", "finished_at": finished, "error": None})
    html = show(client, app, page, EN)
    assert "Up to date" in html and "321 items from 150 products" in html
    assert "42 seconds" in html and "7 items left out" in html
    assert "Next scheduled build" in html and "in the next few minutes" not in html
    registry.set_json(
        code,
        "build",
        {
            "state": "failed",
            "error": "Store 'teststore': Jumpseller answered 403 to products.json",
            "error_kind": "api",
        },
    )
    html = show(client, app, page, EN)
    assert "The last build failed" in html and "answered 403" in html
    assert "Jumpseller did not answer as expected" in html
    assert "Jumpseller no respondió como se esperaba" in show(client, app, page)
    registry.set_json(code, "build", {"state": "running", "pages_done": 3, "pages_total": 4})
    app.extensions["feedapp"].redis.set(f"feedapp-test:lock:build:{code}", "x", ex=30)
    reply = client.get("/settings/status", headers={"X-Page-Token": token(app, page), **EN})
    assert reply.json["state"] == "running" and reply.json["percent"] == 75
    assert 'value="75"' in reply.json["html"] and "Pages read: 3 of 4" in reply.json["html"]


def test_rebuild_now_queues_once(client, app, page: PageSession) -> None:
    headers = {"Accept": "application/json", "X-CSRF-Token": csrf(app, page)}
    headers["X-Page-Token"] = token(app, page)
    first = client.post("/settings/rebuild", headers=headers)
    second = client.post("/settings/rebuild", headers=headers)
    assert (first.json["result"], second.json["result"]) == ("queued", "already-queued")
    assert first.json["state"] == "queued" and "Regeneración en cola" in first.json["message"]
    form = client.post("/settings/rebuild", data={"t": token(app, page), "csrf": csrf(app, page)})
    assert form.status_code == 303 and "notice=rebuild" in form.headers["Location"]


def test_taxonomy_search_feeds_the_category_picker(client, app, page: PageSession) -> None:
    reply = client.get(
        "/settings/taxonomy",
        query_string={"q": "shoes"},
        headers={"X-Page-Token": token(app, page)},
    )
    results = reply.json["results"]
    assert results and all("shoes" in r["path"].lower() for r in results)
    assert results[0]["label"] == f"{results[0]['id']} - {results[0]['path']}"
    assert len(results) <= 20


def test_problem_list_says_what_to_change_in_jumpseller(
    client,
    app,
    page: PageSession,
    registry: StoreRegistry,
) -> None:
    example = {
        "product_id": "501",
        "variant_id": "9001",
        "item_id": "501-9001",
        "product_name": "Polera Azul",
        "detail": "7801234567890",
    }
    registry.set_json(
        page.store_code,
        "diagnostics",
        {
            "problems": [
                {"code": "image_missing", "severity": "error", "count": 3, "examples": [example]},
                {
                    "code": "gtin_invalid_check_digit",
                    "severity": "warning",
                    "count": 1,
                    "examples": [example],
                },
                {"code": "from_the_future", "severity": "warning", "count": 2, "examples": []},
            ]
        },
    )
    html = unescape(show(client, app, page))
    problem = Problem(
        "gtin_invalid_check_digit", "warning", "501", "9001", "501-9001", "x", "7801234567890"
    )
    assert i18n.describe(problem, "es") in html
    assert i18n.describe(Problem("image_missing", "error", "501", None, "501", "x"), "es") in html
    assert "3 casos" in html and "1 caso" in html and "Omitido del feed" in html
    assert "Polera Azul" in html and "#501" in html and "variante 9001" in html
    assert "from_the_future" in html  # an unknown code still shows, with a generic hint
    registry.set_json(page.store_code, "diagnostics", {"problems": []})
    assert "Sin problemas" in show(client, app, page)


def test_disconnected_store_cannot_be_changed(
    client,
    app,
    page: PageSession,
    registry: StoreRegistry,
) -> None:
    registry.mark_uninstalled(page.store_code, "Jumpseller answered 401")
    html = show(client, app, page)
    assert 'id="disconnected"' in html and 'id="options-form"' not in html
    # The uninstall ended the session: the page explains, and nothing can be changed through it.
    assert post_options(client, app, page, valid_form()).status_code == 401
    assert registry.get(page.store_code).first_feed.options == FeedOptions()


def test_page_keeps_working_while_tokens_expire_every_few_seconds(app, client, config) -> None:
    """Each refresh fetches categories with a token that must be refreshed (and rotated)."""
    settings = SandboxConfig(product_count=20, auto_approve=True, token_ttl_seconds=3)
    with SandboxServer(settings) as sandbox:
        config.JUMPSELLER_AUTH_URL, config.JUMPSELLER_API_URL = sandbox.url, sandbox.api_url
        config.JUMPSELLER_CLIENT_ID = "sandbox-client"
        config.JUMPSELLER_CLIENT_SECRET = "sandbox-secret"
        assert connect_store(client).status_code == 303
        registry = app.extensions["feedapp"].registry
        names = {c["name"] for c in sandbox.state.store("sandboxstore").categories}
        for round_ in range(3):
            if round_ == 1:
                time.sleep(3.2)  # the access token really expires
            else:
                requests.post(f"{sandbox.url}/_sandbox/tokens/expire", timeout=5)
            registry.redis.hdel(registry.keys.store("sandboxstore"), "categories")
            html = client.get("/").get_data(as_text=True)
            assert 'id="options-form"' in html, round_
            assert any(name in unescape(html) for name in names)
            assert registry.get("sandboxstore").installed
        grants = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
        assert grants["token_grants"]["refresh_token"] >= 3
        assert grants["refresh_tokens_reused"] == 0


def test_page_says_so_when_jumpseller_refuses_the_app(app, client, store: Store) -> None:
    """The page's category fetch meets a 401 and a refused refresh: the store is disconnected."""
    with SandboxServer(SandboxConfig(product_count=5, store_code=store.code)) as sandbox:
        config = app.extensions["feedapp"].config
        config.JUMPSELLER_AUTH_URL, config.JUMPSELLER_API_URL = sandbox.url, sandbox.api_url
        config.JUMPSELLER_CLIENT_ID = "sandbox-client"
        config.JUMPSELLER_CLIENT_SECRET = "sandbox-secret"
        with app.test_request_context():
            page_token = open_session(store.code).page_token
        html = client.get("/", query_string={"t": page_token}).get_data(as_text=True)
    assert 'id="disconnected"' in html and 'id="connect-button"' in html
    assert 'id="options-form"' not in html
    registry = app.extensions["feedapp"].registry
    assert not registry.get(store.code).installed
    assert registry.get(store.code).first_feed.token == store.first_feed.token  # for a reconnect


def test_a_refused_collapse_can_be_published_on_purpose(client, app, page: PageSession) -> None:
    svc = app.extensions["feedapp"]
    collapse = {"old": 900, "new": 120}
    refused = {"state": "refused", "error": "kept", "error_kind": "collapse", "collapse": collapse}
    build = {
        "state": "failed",
        "finished_at": 1.0,
        "error": "kept",
        "refused": True,
        "collapse": collapse,
        "feeds": {"1": refused},
    }
    svc.registry.set_json(page.store_code, "build", build)
    reply = client.get("/settings/status", headers={"X-Page-Token": token(app, page), **EN})
    assert "120 items, fewer than half of the 900" in reply.json["html"]
    assert 'id="publish-smaller"' in reply.json["html"]
    confirmed = client.post(
        "/settings/rebuild", data={"t": token(app, page), "csrf": csrf(app, page), "force": "1"}
    )
    assert confirmed.status_code == 303
    job = queueing.queue(svc.redis).jobs[0]
    assert job.args == (page.store_code, True)  # forced: the collapse guard lets it through


# -- several feeds per store ---------------------------------------------------------------------
def form_for(app, page: PageSession, feed_id: str = "1", **fields: str) -> dict[str, str]:
    """A form of the page: its page token, CSRF token and feed, plus the given fields."""
    return {"t": token(app, page), "csrf": csrf(app, page), "feed": feed_id, **fields}


def show_feed(client, app, page: PageSession, feed_id: str, headers: dict | None = None) -> str:
    """The page with one feed selected."""
    query = {"t": token(app, page), "feed": feed_id}
    reply = client.get("/", query_string=query, headers=headers or EN)
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def feed_url_shown(html: str) -> str:
    """The selected feed's address, as the page shows it to copy."""
    match = re.search(r'id="feed-url" value="([^"]*)"', html)
    assert match, "no feed address shown"
    return unescape(match.group(1))


def test_the_page_lists_every_feed_and_shows_the_selected_one(
    client, app, page: PageSession, registry: StoreRegistry
) -> None:
    second = registry.add_feed(page.store_code, "USA (en)", "en", "US")
    store = registry.get(page.store_code)
    first_url = f"{app.extensions['feedapp'].config.PUBLIC_URL}/feeds/{store.first_feed.token}.xml"
    second_url = first_url.replace(store.first_feed.token, second.token)

    html = unescape(show(client, app, page, EN))
    assert feed_url_shown(html) == first_url  # no feed named: the first one
    for name, url in ((store.first_feed.name, first_url), ("USA (en)", second_url)):
        assert name in html and f'<code class="feed-address">{url}</code>' in html
    assert "Chile" in html and "United States" in html and "English (en)" in html
    assert 'id="currency-note"' not in html  # Chile pays in CLP, the store's currency

    html = unescape(show_feed(client, app, page, second.id))
    assert feed_url_shown(html) == second_url
    assert 'id="feed-name">Feed: USA (en)<' in html
    note = re.search(r'id="currency-note">([^<]+)<', html)
    assert note and "CLP" in note[1] and "USD" in note[1] and "converts" in note[1]
    assert f'name="feed" value="{second.id}"' in html  # every form posts the selected feed
    assert feed_url_shown(show_feed(client, app, page, "99")) == first_url  # unknown: the first


def test_a_feed_is_added_from_the_page_and_built(
    client, app, page: PageSession, registry: StoreRegistry
) -> None:
    form = form_for(app, page, name="Estados Unidos", language="en", country="us")
    reply = client.post("/settings/feeds", data=form, headers=EN)
    assert reply.status_code == 303
    assert (
        "feed=2" in reply.headers["Location"] and "notice=feed-added" in reply.headers["Location"]
    )
    store = registry.get(page.store_code)
    added = store.feed("2")
    assert (added.name, added.language, added.country) == ("Estados Unidos", "en", "US")
    assert added.token and added.token != store.first_feed.token
    assert queueing.is_queued(app.extensions["feedapp"], page.store_code)
    html = client.get(reply.headers["Location"], headers=EN).get_data(as_text=True)
    assert feed_url_shown(html).endswith(f"/feeds/{added.token}.xml")
    assert "Feed added." in html


def test_a_feed_with_three_mistakes_is_refused_beside_each_field(
    client, app, page: PageSession, registry: StoreRegistry
) -> None:
    form = form_for(app, page, name="x" * 61, language="fr", country="XX")
    reply = client.post("/settings/feeds", data=form, headers=EN)
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert error_beside(html, "name") == "Use at most 60 characters."
    assert error_beside(html, "language") == "Choose one of your store's languages: es, en."
    assert "two-letter code" in error_beside(html, "country")
    assert 'id="add-feed" open' in html
    assert len(registry.get(page.store_code).feeds) == 1
    assert not queueing.is_queued(app.extensions["feedapp"], page.store_code)


def test_a_feed_is_removed_with_its_files_only_when_confirmed(
    client, app, page: PageSession, registry: StoreRegistry
) -> None:
    svc = app.extensions["feedapp"]
    second = registry.add_feed(page.store_code, "USA (en)", "en", "US")
    channel = Channel.for_store("Test Store", "https://teststore.example.com")
    with FeedWriter(svc.feeds_dir, page.store_code, "b1", channel=channel, feed_id="2") as writer:
        writer.write(Item("1", [("id", "1"), ("title", "Polera")]))
    publish(svc.feeds_dir, page.store_code, writer.path, 1, feed_id="2")
    assert client.get(f"/feeds/{second.token}.xml", buffered=True).status_code == 200
    folder = store_dir(svc.feeds_dir, page.store_code, "2")

    unconfirmed = client.post("/settings/feeds/remove", data=form_for(app, page, "2"), headers=EN)
    assert unconfirmed.status_code == 400
    assert "Tick the box" in error_beside(unconfirmed.get_data(as_text=True), "confirm")
    assert len(registry.get(page.store_code).feeds) == 2 and folder.is_dir()

    confirmed = form_for(app, page, "2", confirm="1")
    reply = client.post("/settings/feeds/remove", data=confirmed, headers=EN)
    assert reply.status_code == 303 and "notice=feed-removed" in reply.headers["Location"]
    assert [f.id for f in registry.get(page.store_code).feeds] == ["1"]
    assert not folder.exists()
    assert client.get(f"/feeds/{second.token}.xml", buffered=True).status_code == 404

    last = client.post("/settings/feeds/remove", data=form_for(app, page, confirm="1"), headers=EN)
    assert last.status_code == 400 and "at least one feed" in last.get_data(as_text=True)
    assert len(registry.get(page.store_code).feeds) == 1
    html = show(client, app, page, EN)
    assert 'id="remove-feed-form"' not in html  # nothing to remove with one feed


def test_options_are_saved_for_the_selected_feed_only(
    client, app, page: PageSession, registry: StoreRegistry
) -> None:
    registry.add_feed(page.store_code, "USA (en)", "en", "US")
    data = {"feed": "2", **valid_form(default_brand="Solo USA")}
    reply = post_options(client, app, page, data)
    assert reply.status_code == 303 and "feed=2" in reply.headers["Location"]
    store = registry.get(page.store_code)
    assert store.feed("2").options.default_brand == "Solo USA"
    assert store.first_feed.options == FeedOptions()
    assert input_value(show_feed(client, app, page, "2"), "default_brand") == "Solo USA"
    assert input_value(show_feed(client, app, page, "1"), "default_brand") == ""


# -- rules ---------------------------------------------------------------------------------------
RULES = [
    {
        "name": "Verano",
        "match": "all",
        "conditions": [
            {"field": "price", "operator": ">", "value": "5000"},
            {"field": "option:", "option": "Talla", "operator": "in", "value": "S, M"},
        ],
        "actions": [{"kind": "custom_label_0", "value": "verano-{size}"}],
    },
    {
        "name": "Sin baratos",
        "match": "any",
        "conditions": [{"field": "price", "operator": "<", "value": "1000"}],
        "actions": [{"kind": "exclude", "value": ""}],
    },
]
SAVED_RULES = {
    "version": 1,
    "rules": [
        {
            "name": "Verano",
            "enabled": True,
            "match": "all",
            "conditions": [
                {"field": "price", "operator": ">", "value": 5000},
                {"field": "option:Talla", "operator": "in", "value": ["S", "M"]},
            ],
            "actions": [{"kind": "custom_label_0", "value": "verano-{size}"}],
        },
        {
            "name": "Sin baratos",
            "enabled": True,
            "match": "any",
            "conditions": [{"field": "price", "operator": "<", "value": 1000}],
            "actions": [{"kind": "exclude"}],
        },
    ],
}


def rules_form(rules: list[dict], **extra: str) -> dict[str, str]:
    """The rules editor's fields for these rules, as the browser posts them."""
    form: dict[str, str] = {}
    for i, rule in enumerate(rules):
        form[f"rules[{i}].name"] = rule["name"]
        form[f"rules[{i}].match"] = rule.get("match", "all")
        if rule.get("enabled", True):
            form[f"rules[{i}].enabled"] = "1"
        for j, condition in enumerate(rule.get("conditions", [])):
            for key in ("field", "option", "operator", "value"):
                form[f"rules[{i}].conditions[{j}].{key}"] = condition.get(key, "")
        for j, action in enumerate(rule.get("actions", [])):
            for key in ("kind", "value"):
                form[f"rules[{i}].actions[{j}].{key}"] = action.get(key, "")
    return {**form, **extra}


def post_rules(client, app, page: PageSession, form: dict, feed_id: str = "1"):
    return client.post("/settings/rules", data=form_for(app, page, feed_id, **form), headers=EN)


def test_rules_are_saved_for_one_feed_and_shown_again(
    client, app, page: PageSession, registry: StoreRegistry
) -> None:
    registry.add_feed(page.store_code, "USA (en)", "en", "US")
    reply = post_rules(client, app, page, rules_form(RULES, op="save"), "2")
    assert reply.status_code == 303
    assert (
        "notice=rules-saved" in reply.headers["Location"] and "#rules" in reply.headers["Location"]
    )
    store = registry.get(page.store_code)
    assert store.feed("2").rules == SAVED_RULES
    assert store.first_feed.rules == {"version": 1, "rules": []}
    assert queueing.is_queued(app.extensions["feedapp"], page.store_code)
    html = unescape(show_feed(client, app, page, "2"))
    assert 'id="r0-name" name="rules[0].name" value="Verano"' in html
    assert 'name="rules[0].conditions[1].option" value="Talla"' in html
    assert 'name="rules[0].conditions[1].value" value="S, M"' in html
    assert 'name="rules[1].name" value="Sin baratos"' in html
    assert 'id="no-rules"' in show_feed(client, app, page, "1")


def test_a_rules_list_with_three_mistakes_is_refused_with_three_messages(
    client, app, page: PageSession, registry: StoreRegistry
) -> None:
    svc = app.extensions["feedapp"]
    registry.update_feed(page.store_code, "1", lambda f: setattr(f, "rules", SAVED_RULES))
    bad = [
        {**RULES[0], "name": ""},  # a rule needs a name
        {
            **RULES[1],
            "conditions": [{"field": "price", "operator": "contains", "value": "1000"}],
            "actions": [{"kind": "title", "value": "{nombre} barato"}],
        },
    ]
    reply = post_rules(client, app, page, rules_form(bad, op="save"))
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert error_beside(html, "rules[0].name") == "Enter a value."
    assert error_beside(html, "rules[1].conditions[0].operator").startswith(
        "This field takes the operators equals, not_equals, <"
    )
    assert error_beside(html, "rules[1].actions[0].value").startswith(
        "Unknown placeholder {nombre}; use {name}"
    )
    assert html.count('class="field-error"') == 3
    assert 'id="rules-errors"' in html
    assert 'name="rules[1].actions[0].value" value="{nombre} barato"' in html  # as typed
    assert registry.get(page.store_code).first_feed.rules == SAVED_RULES  # nothing saved
    assert not queueing.is_queued(svc, page.store_code)


def test_the_editor_buttons_change_the_list_without_saving(
    client, app, page: PageSession, registry: StoreRegistry
) -> None:
    def names(html: str) -> list[str]:
        return re.findall(r'name="rules\[\d+\]\.name" value="([^"]*)"', html)

    down = post_rules(client, app, page, rules_form(RULES, op="down-0"))
    assert down.status_code == 200
    html = down.get_data(as_text=True)
    assert names(html) == ["Sin baratos", "Verano"] and 'id="rules-unsaved"' in html
    added = post_rules(client, app, page, rules_form(RULES, op="add-rule")).get_data(as_text=True)
    assert names(added) == ["Verano", "Sin baratos", ""]
    assert 'name="rules[2].actions[0].kind"' in added
    more = post_rules(client, app, page, rules_form(RULES, op="add-condition-1"))
    assert 'name="rules[1].conditions[1].field"' in more.get_data(as_text=True)
    fewer = post_rules(client, app, page, rules_form(RULES, op="remove-condition-0-0"))
    assert 'value="Talla"' in fewer.get_data(as_text=True)
    assert 'name="rules[0].conditions[1].field"' not in fewer.get_data(as_text=True)
    deleted = post_rules(client, app, page, rules_form(RULES, op="delete-0"))
    assert names(deleted.get_data(as_text=True)) == ["Sin baratos"]
    assert registry.get(page.store_code).first_feed.rules == {"version": 1, "rules": []}
    assert not queueing.is_queued(app.extensions["feedapp"], page.store_code)


def test_the_preview_counts_what_each_rule_matches_in_the_feeds_language(
    app, client, config
) -> None:
    """Against the sandbox over HTTP: a Portuguese feed previews the Portuguese catalogue."""
    settings = SandboxConfig(product_count=250, auto_approve=True, languages=["es", "pt"])
    with SandboxServer(settings) as sandbox:
        config.JUMPSELLER_AUTH_URL, config.JUMPSELLER_API_URL = sandbox.url, sandbox.api_url
        config.JUMPSELLER_CLIENT_ID = "sandbox-client"
        config.JUMPSELLER_CLIENT_SECRET = "sandbox-secret"
        assert connect_store(client).status_code == 303
        svc = app.extensions["feedapp"]
        code = "sandboxstore"
        shop = sandbox.state.store(code)
        target = shop.ids[3]  # one simple product, so its items are known: exactly one
        requests.post(
            f"{sandbox.url}/_sandbox/stores/{code}/products/{target}",
            json={"variants": [], "price": 12990, "stock": 4, "status": "available"},
            timeout=5,
        ).raise_for_status()
        pt_name = shop.product(target, "pt")["name"]
        page_html = client.get("/", headers=EN).get_data(as_text=True)
        token = re.search(r'data-csrf="([^"]+)"', page_html)[1]
        added = client.post(
            "/settings/feeds",
            data={"csrf": token, "name": "Brasil (pt)", "language": "pt", "country": "BR"},
        )
        assert added.status_code == 303, added.get_data(as_text=True)
        before = svc.registry.get(code)
        svc.redis.delete(*svc.redis.keys("*queue*"), *svc.redis.keys("*queued*"))
        tried = [
            {
                "name": "Todo",
                "conditions": [],
                "actions": [{"kind": "custom_label_1", "value": "x"}],
            },
            {
                "name": "Uno",
                "conditions": [{"field": "product_id", "operator": "equals", "value": str(target)}],
                "actions": [{"kind": "custom_label_0", "value": "oferta-{id}"}],
            },
            {
                "name": "Cerâmica",
                "conditions": [{"field": "name", "operator": "contains", "value": "cerâmica"}],
                "actions": [{"kind": "exclude"}],
            },
        ]

        def preview(feed_id: str) -> str:
            form = {"csrf": token, "feed": feed_id, **rules_form(tried, op="preview")}
            reply = client.post("/settings/rules", data=form, headers=EN)
            assert reply.status_code == 200, reply.get_data(as_text=True)
            return unescape(reply.get_data(as_text=True))

        def matched(html: str, index: int) -> int:
            return int(re.search(rf'id="preview-{index}" data-matched="(\d+)"', html)[1])

        pt = preview("2")
        summary = re.search(r'id="preview-summary" data-products="(\d+)" data-items="(\d+)"', pt)
        assert summary and int(summary[1]) == 200  # two pages of the 250 products, no more
        items = int(summary[2])
        assert "looked at the first 200 products" in pt
        assert matched(pt, 0) == items > 200  # no conditions: every item (variants included)
        assert matched(pt, 1) == 1
        example = re.search(r'id="preview-1".*?<li><strong>([^<]+)</strong>.*?</li>', pt, re.S)
        assert example and example[1].startswith(pt_name.split(" ")[0])
        assert f'data-value-of="custom_label_0">oferta-{target}<' in pt
        assert matched(pt, 2) > 0  # Portuguese names spell it "Cerâmica"...
        es = preview("1")
        assert matched(es, 2) == 0  # ...Spanish ones "Cerámica"
        assert matched(es, 1) == 1
        after = svc.registry.get(code)
        assert [f.rules for f in after.feeds] == [f.rules for f in before.feeds]  # nothing saved
        assert not queueing.is_queued(svc, code)


# -- shipping ------------------------------------------------------------------------------------
def test_shipping_is_checked_beside_each_field_then_saved_for_the_feed(
    client, app, page: PageSession, registry: StoreRegistry
) -> None:
    registry.add_feed(page.store_code, "USA (en)", "en", "US")
    bad = form_for(
        app,
        page,
        "2",
        mode="free_above",
        flat_price="-5",
        free_above="50.000",
        min_handling_days="3",
    )
    reply = client.post("/settings/shipping", data=bad, headers=EN)
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert error_beside(html, "flat_price") == "The amount can't be negative."
    assert error_beside(html, "free_above") == "CLP amounts have no decimals, e.g. 3990."
    assert error_beside(html, "max_handling_days") == "Enter the maximum too, or leave both empty."
    assert input_value(html, "free_above") == "50.000"
    assert registry.get(page.store_code).feed("2").shipping.mode == "none"
    assert not queueing.is_queued(app.extensions["feedapp"], page.store_code)

    good = form_for(
        app,
        page,
        "2",
        mode="free_above",
        flat_price="3990",
        free_above="50000",
        min_handling_days="1",
        max_handling_days="2",
        min_transit_days="2",
        max_transit_days="5",
    )
    reply = client.post("/settings/shipping", data=good, headers=EN)
    assert reply.status_code == 303 and "notice=shipping-saved" in reply.headers["Location"]
    shipping = registry.get(page.store_code).feed("2").shipping
    assert (shipping.mode, shipping.currency) == ("free_above", "CLP")
    assert (shipping.flat_price, shipping.free_above) == (3990, 50000)
    assert (shipping.max_handling_days, shipping.max_transit_days) == (2, 5)
    assert registry.get(page.store_code).first_feed.shipping.mode == "none"
    assert queueing.is_queued(app.extensions["feedapp"], page.store_code)
    html = show_feed(client, app, page, "2")
    assert input_value(html, "free_above") == "50000" and input_value(html, "flat_price") == "3990"
    assert 'id="shipping-mode-free_above" checked' in html


def test_every_new_form_refuses_a_forged_post(
    client, app, page: PageSession, registry: StoreRegistry
) -> None:
    registry.add_feed(page.store_code, "USA (en)", "en", "US")
    forged = {"t": token(app, page), "csrf": "0" * 64, "feed": "2"}
    posts = {
        "/settings/feeds": {"language": "en", "country": "AR"},
        "/settings/feeds/remove": {"confirm": "1"},
        "/settings/rules": rules_form(RULES, op="save"),
        "/settings/shipping": {"mode": "free"},
    }
    for path, posted in posts.items():
        assert client.post(path, data={**forged, **posted}).status_code == 400, path
    store = registry.get(page.store_code)
    assert [f.id for f in store.feeds] == ["1", "2"]
    assert store.feed("2").rules == {"version": 1, "rules": []}
    assert store.feed("2").shipping.mode == "none"


def test_the_rules_editor_names_every_field_operator_and_action_of_the_rules_module() -> None:
    """A field, operator or action added to feedapp.feed.rules needs its words on the page."""
    assert set(FIELD_LABELS) == {*rules.FIELD_TYPES, "option:"}
    assert set(OPERATOR_LABELS) == {op for ops in rules.OPERATORS.values() for op in ops}
    assert set(ACTION_LABELS) == set(rules.ACTION_KINDS) - set(rules.LABELS)
