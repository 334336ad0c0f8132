"""The sandbox's /v1 API pages, counts, translates and wraps objects the way Jumpseller does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig
from feedapp_dev.sandbox.catalogue import generate_product, product_id
from sandbox_server import SandboxServer

RATE_HEADERS = (
    "Jumpseller-PerSecondRateLimit-Limit",
    "Jumpseller-PerSecondRateLimit-Remaining",
    "Jumpseller-PerMinuteRateLimit-Limit",
    "Jumpseller-PerMinuteRateLimit-Remaining",
)
COUNT = 230


class Api:
    """requests with the bearer header and the sandbox base URL filled in."""

    def __init__(self, sandbox: SandboxServer, token: str):
        self.base = sandbox.api_url
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: object) -> requests.Response:
        """GET an API path with query parameters."""
        return requests.get(self.base + path, headers=self.headers, params=params, timeout=10)

    def post(self, path: str, body: object) -> requests.Response:
        """POST a JSON body to an API path."""
        return requests.post(self.base + path, headers=self.headers, json=body, timeout=10)

    def delete(self, path: str) -> requests.Response:
        """DELETE an API path."""
        return requests.delete(self.base + path, headers=self.headers, timeout=10)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    settings = SandboxConfig(product_count=COUNT, seed=7, per_second=1000, per_minute=100000)
    with SandboxServer(settings) as server:
        yield server


@pytest.fixture(scope="module")
def api(sandbox: SandboxServer) -> Api:
    token = sandbox.authorize(scope="read_products read_store read_hooks write_hooks")
    return Api(sandbox, token["access_token"])


def test_products_page_through_the_whole_catalogue(api: Api) -> None:
    seen: list[int] = []
    page = 1
    while True:
        reply = api.get("/products.json", page=page, limit=100)
        assert reply.status_code == 200
        rows = reply.json()
        if not rows:
            break
        assert all(set(row) == {"product"} for row in rows)
        seen.extend(row["product"]["id"] for row in rows)
        page += 1
    assert page == 4  # 100 + 100 + 30, then an empty page
    assert seen == [product_id(i) for i in range(COUNT)]


def test_limit_defaults_to_50_and_is_clamped_to_100(api: Api) -> None:
    assert len(api.get("/products.json").json()) == 50
    assert len(api.get("/products.json", limit=500).json()) == 100
    assert len(api.get("/products.json", limit=7).json()) == 7
    assert len(api.get("/products.json", limit="lots").json()) == 50


def test_page_past_the_end_is_an_empty_array(api: Api) -> None:
    reply = api.get("/products.json", page=99, limit=100)
    assert reply.status_code == 200
    assert reply.json() == []
    assert api.get("/products.json", page=3, limit=100).json()[-1]["product"]["id"] == product_id(
        COUNT - 1
    )


def test_pages_do_not_overlap(api: Api) -> None:
    first = [r["product"]["id"] for r in api.get("/products.json", page=1, limit=30).json()]
    second = [r["product"]["id"] for r in api.get("/products.json", page=2, limit=30).json()]
    assert len(set(first) | set(second)) == 60


def test_count(api: Api) -> None:
    assert api.get("/products/count.json").json() == {"count": COUNT}


def test_single_product_and_unknown_id(api: Api) -> None:
    pid = product_id(5)
    reply = api.get(f"/products/{pid}.json")
    assert reply.status_code == 200
    assert reply.json() == {"product": generate_product(5, seed=7).product}
    missing = api.get("/products/99.json")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Product not found"}
    assert missing.headers["Content-Type"] == "application/json"


def test_locale_returns_the_translation_when_there_is_one(api: Api) -> None:
    translated = next(i for i in range(COUNT) if generate_product(i, seed=7).translation)
    untranslated = next(i for i in range(COUNT) if not generate_product(i, seed=7).translation)
    english = generate_product(translated, seed=7).translation
    assert english is not None
    reply = api.get(f"/products/{product_id(translated)}.json", locale="en").json()["product"]
    assert reply["name"] == english["name"]
    assert reply["description"] == english["description"]
    spanish = api.get(f"/products/{product_id(translated)}.json").json()["product"]
    assert spanish["name"] != english["name"]
    same = api.get(f"/products/{product_id(untranslated)}.json", locale="en").json()["product"]
    assert same == generate_product(untranslated, seed=7).product

    page = api.get("/products.json", limit=100, locale="en").json()
    names = {row["product"]["id"]: row["product"]["name"] for row in page}
    assert names[product_id(translated)] == english["name"]


def test_store_info_is_wrapped_and_languages_list_es_first(api: Api) -> None:
    store = api.get("/store/info.json").json()["store"]
    assert store["code"] == "sandboxstore"
    assert store["currency"] == "CLP"
    assert store["url"] == "https://sandboxstore.jumpseller.com"
    assert len(store["hooks_token"]) >= 16
    languages = api.get("/store/languages.json").json()
    assert [lang["code"] for lang in languages] == ["es", "en"]


def test_categories_have_parents(api: Api) -> None:
    rows = [row["category"] for row in api.get("/categories.json").json()]
    ids = {row["id"] for row in rows}
    children = [row for row in rows if row["parent_id"] is not None]
    assert children and all(row["parent_id"] in ids for row in children)
    assert all(row["permalink"] for row in rows)


def test_hooks_create_list_delete(api: Api) -> None:
    body = {"hook": {"event": "product_updated", "url": "https://app.example/hooks"}}
    created = api.post("/hooks.json", body)
    assert created.status_code == 200
    hook = created.json()["hook"]
    assert hook["event"] == "product_updated" and hook["url"] == "https://app.example/hooks"
    listed = [row["hook"]["id"] for row in api.get("/hooks.json").json()]
    assert hook["id"] in listed
    assert api.get(f"/hooks/{hook['id']}.json").json() == {"hook": hook}
    assert api.delete(f"/hooks/{hook['id']}.json").status_code == 200
    assert api.get(f"/hooks/{hook['id']}.json").status_code == 404
    assert api.delete(f"/hooks/{hook['id']}.json").status_code == 404


def test_hook_with_unknown_event_is_refused(api: Api) -> None:
    reply = api.post("/hooks.json", {"hook": {"event": "product_exploded", "url": "https://x.io"}})
    assert reply.status_code == 422
    assert "event" in reply.json()["message"]


def test_every_api_reply_carries_the_rate_limit_headers(api: Api, sandbox: SandboxServer) -> None:
    replies = [
        api.get("/products.json"),
        api.get("/products/99.json"),  # 404
        api.get("/no-such-thing.json"),  # unknown route
        api.post("/hooks.json", {}),  # 422
        requests.get(f"{sandbox.api_url}/products.json", timeout=5),  # 401
    ]
    assert [r.status_code for r in replies] == [200, 404, 404, 422, 401]
    for reply in replies:
        for header in RATE_HEADERS:
            assert reply.headers[header].isdigit(), (reply.url, header)
    assert replies[0].headers["Jumpseller-PerSecondRateLimit-Limit"] == "1000"
