"""The merchant's settings page: options with server-side validation, status, problems, rebuilds."""

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
from feedapp.feed.options import FeedOptions
from feedapp.feed.problems import Problem
from feedapp.stores import Store, StoreRegistry
from feedapp.web import i18n
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
        "language": "en",
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
    for option in fields(FeedOptions):
        name = "category_map.10" if option.name == "category_map" else option.name
        assert f'name="{name}"' in html, option.name
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
    options = registry.get(page.store_code).options
    assert options.default_brand == "Marca Propia"
    assert options.default_google_category == "187"
    assert options.category_map == {"11": "212"}
    assert options.condition == "used" and options.sku_is_mpn and options.include_out_of_stock
    assert (options.gender, options.age_group) == ("female", "adult")
    assert not options.include_not_available  # an unticked box means no
    assert options.color_options == ["Color", "Tono"] and options.frequency_hours == 6
    assert options.language == "en" and options.utm_campaign == "verano-2026"
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
    before = registry.get(page.store_code).options
    bad = valid_form(
        title_pattern="{brand} - {options}",
        utm_source="google ads!",
        default_google_category="zapatos bonitos",
        condition="broken",
        gender="other",
        age_group="teen",
        frequency_hours="5",
        language="fr",
        default_brand="N/A",
        **{"category_map.11": "not a category"},
    )
    reply = post_options(client, app, page, bad)
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert registry.get(page.store_code).options == before
    assert not queueing.is_queued(app.extensions["feedapp"], page.store_code)
    assert "El patrón de título debe contener {name}." in error_beside(html, "title_pattern")
    for field in (
        "utm_source",
        "default_google_category",
        "condition",
        "gender",
        "age_group",
        "frequency_hours",
        "language",
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
    assert registry.get(page.store_code).options == FeedOptions()


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
    assert registry.get(store.code).feed_token == store.feed_token  # kept for a reconnect


def test_a_refused_collapse_can_be_published_on_purpose(client, app, page: PageSession) -> None:
    svc = app.extensions["feedapp"]
    build = {
        "state": "failed",
        "finished_at": 1.0,
        "error": "kept",
        "refused": True,
        "collapse": {"old": 900, "new": 120},
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
