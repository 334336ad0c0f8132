"""A sandbox store speaks several languages the way Jumpseller's API does: `locale` on products."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig
from feedapp_dev.sandbox.catalogue import (
    TRANSLATED_FIELDS,
    generate_product,
    product_id,
    slug,
)
from feedapp_dev.sandbox.vocabulary import (
    ADJECTIVES,
    CARE,
    FAMILIES,
    MATERIALS,
    ORIGINS,
    PT_ADJECTIVES,
    PT_CARE,
    PT_FAMILIES,
    PT_MATERIALS,
    PT_ORIGINS,
)
from sandbox_server import SandboxServer

COUNT = 230
SEED = 11
LANGUAGES = ["es", "pt", "en"]
#: The products the edit test changes; the others keep what the seed made.
EDITED = (COUNT - 3, COUNT - 2, COUNT - 1)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    settings = SandboxConfig(
        product_count=COUNT, seed=SEED, languages=LANGUAGES, per_second=1000, per_minute=10**5
    )
    with SandboxServer(settings) as server:
        yield server


@pytest.fixture(scope="module")
def headers(sandbox: SandboxServer) -> dict[str, str]:
    token = sandbox.authorize(scope="read_products read_store")["access_token"]
    return {"Authorization": f"Bearer {token}"}


def get(sandbox: SandboxServer, headers: dict[str, str], path: str, **params: object) -> object:
    """A /v1 reply's JSON, after checking it succeeded."""
    reply = requests.get(sandbox.api_url + path, headers=headers, params=params, timeout=10)
    assert reply.status_code == 200, (path, params, reply.text[:200])
    return reply.json()


def one(sandbox: SandboxServer, headers: dict[str, str], index: int, **params: object) -> dict:
    """The index-th product as products/{id}.json gives it."""
    return get(sandbox, headers, f"/products/{product_id(index)}.json", **params)["product"]


def all_ids(sandbox: SandboxServer, headers: dict[str, str], **params: object) -> list[int]:
    """Every product id, paging products.json until an empty page."""
    ids: list[int] = []
    for page in range(1, 100):
        rows = get(sandbox, headers, "/products.json", page=page, limit=100, **params)
        if not rows:
            return ids
        ids += [row["product"]["id"] for row in rows]
    raise AssertionError("products.json never ran out of pages")


def generated(index: int) -> tuple[dict, dict[str, dict]]:
    """What the seed makes of a product in this store's languages: the product, its texts."""
    made = generate_product(index, SEED, hostile_share=0.0, languages=LANGUAGES)
    return made.product, made.translations


def test_languages_json_lists_the_store_languages_default_first(sandbox, headers) -> None:
    assert get(sandbox, headers, "/store/languages.json") == [
        {"code": "es", "name": "Español"},
        {"code": "pt", "name": "Português"},
        {"code": "en", "name": "English"},
    ]


def test_portuguese_has_its_own_text_and_the_same_everything_else(sandbox, headers) -> None:
    for index in range(40):
        spanish = one(sandbox, headers, index)
        portuguese = one(sandbox, headers, index, locale="pt")
        product, texts = generated(index)
        assert spanish == product
        assert {f: portuguese[f] for f in TRANSLATED_FIELDS} == texts["pt"]
        assert {k: v for k, v in portuguese.items() if k not in TRANSLATED_FIELDS} == {
            k: v for k, v in spanish.items() if k not in TRANSLATED_FIELDS
        }, index  # id, price, stock, variants, images, categories... are one product's
        assert portuguese["name"] != spanish["name"]
        assert portuguese["permalink"] == f"{slug(texts['pt']['name'])}-{index + 1}"
        assert portuguese["permalink"] != spanish["permalink"]
        assert "para o dia a dia" in (portuguese["meta_description"] or "para o dia a dia")


def test_every_locale_pages_the_same_ids_in_the_same_order(sandbox, headers) -> None:
    everyone = all_ids(sandbox, headers)
    assert everyone == [product_id(i) for i in range(COUNT)]
    for locale in ("pt", "en", "es", "fr"):
        assert all_ids(sandbox, headers, locale=locale) == everyone, locale
        assert get(sandbox, headers, "/products/count.json", locale=locale) == {"count": COUNT}
    rows = get(sandbox, headers, "/products.json", page=2, limit=50, locale="pt")
    assert [row["product"]["name"] for row in rows] == [
        generated(index)[1]["pt"]["name"] for index in range(50, 100)
    ]


def test_no_locale_the_default_one_or_an_unknown_one_answer_in_spanish(sandbox, headers) -> None:
    for index in (0, 7, 19):
        spanish = generated(index)[0]
        assert one(sandbox, headers, index) == spanish
        assert one(sandbox, headers, index, locale="es") == spanish
        assert one(sandbox, headers, index, locale="fr") == spanish  # not one of the store's
    page = get(sandbox, headers, "/products.json", limit=5, locale="")
    assert [row["product"] for row in page] == [generated(i)[0] for i in range(5)]


def test_english_covers_some_products_and_the_rest_fall_back(sandbox, headers) -> None:
    english = [i for i in range(60) if "en" in generated(i)[1]]
    untranslated = [i for i in range(60) if "en" not in generated(i)[1]]
    assert english and untranslated
    for index in english[:5]:
        reply = one(sandbox, headers, index, locale="en")
        assert {f: reply[f] for f in TRANSLATED_FIELDS} == generated(index)[1]["en"]
    for index in untranslated[:5]:
        assert one(sandbox, headers, index, locale="en") == generated(index)[0]


def test_storefront_urls_put_other_languages_under_their_code(sandbox, headers) -> None:
    url = get(sandbox, headers, "/store/info.json")["store"]["url"]
    with sandbox.state.lock:
        store = sandbox.state.store(sandbox.state.config.store_code)
        assert store.storefront_url("taza-1") == f"{url}/taza-1"
        assert store.storefront_url("taza-1", "es") == f"{url}/taza-1"
        assert store.storefront_url("caneca-1", "pt") == f"{url}/pt/caneca-1"
        assert store.storefront_url("mug-1", "en") == f"{url}/en/mug-1"
        assert store.storefront_url("taza-1", "fr") == f"{url}/taza-1"


def test_edits_change_the_default_language_unless_a_locale_is_named(sandbox, headers) -> None:
    base = f"{sandbox.url}/_sandbox/stores/{sandbox.state.config.store_code}/products"
    first, second, third = EDITED
    before_pt = one(sandbox, headers, first, locale="pt")
    edited = requests.post(f"{base}/{product_id(first)}", json={"name": "Taza Nueva"}, timeout=5)
    assert edited.status_code == 200 and edited.json()["product"]["name"] == "Taza Nueva"
    assert one(sandbox, headers, first)["name"] == "Taza Nueva"
    after_pt = one(sandbox, headers, first, locale="pt")
    assert after_pt["name"] == before_pt["name"]
    assert after_pt["updated_at"] > before_pt["updated_at"]

    before = one(sandbox, headers, second)
    change = {"name": "Caneca Nova", "permalink": "caneca-nova", "price": 1990, "locale": "pt"}
    assert requests.post(f"{base}/{product_id(second)}", json=change, timeout=5).ok
    spanish = one(sandbox, headers, second)
    portuguese = one(sandbox, headers, second, locale="pt")
    assert (portuguese["name"], portuguese["permalink"]) == ("Caneca Nova", "caneca-nova")
    assert (spanish["name"], spanish["permalink"]) == (before["name"], before["permalink"])
    assert spanish["price"] == portuguese["price"] == 1990  # not a translated field

    english_before = one(sandbox, headers, third, locale="en")
    change = {"name": "Taza Otra", "locale": "fr"}  # not the store's: the default language
    assert requests.post(f"{base}/{product_id(third)}", json=change, timeout=5).ok
    assert one(sandbox, headers, third)["name"] == "Taza Otra"
    if "en" in generated(third)[1]:
        assert one(sandbox, headers, third, locale="en")["name"] == english_before["name"]


def test_admin_page_shows_each_product_in_every_language(sandbox) -> None:
    page = requests.get(f"{sandbox.url}/admin/products", timeout=5)
    assert page.status_code == 200
    product, texts = generated(0)
    url = "https://sandboxstore.jumpseller.com"
    assert product["name"] in page.text and texts["pt"]["name"] in page.text
    assert f"{url}/{product['permalink']}<" in page.text
    assert f"{url}/pt/{texts['pt']['permalink']}<" in page.text
    assert re.search(r"<th>es</th><th>pt</th><th>en</th>", page.text)
    later = requests.get(f"{sandbox.url}/admin/products", params={"page": 2}, timeout=5)
    assert texts["pt"]["name"] not in later.text and generated(50)[1]["pt"]["name"] in later.text
    admin = requests.get(f"{sandbox.url}/admin", timeout=5).text
    assert 'href="/admin/products"' in admin


#: What a spoiled product's text shows, by the spoiling kinds that leave it.
SIGNS = {
    "control characters": lambda t: bool(re.search(r"[\x00\x07\x0b\x1b\x7f]", t["name"])),
    "entities": lambda t: "&amp;amp;" in t["name"],
    "long name": lambda t: t["name"].endswith("Ideal para Regalo"),
    "markup": lambda t: t["name"].startswith("<"),
    "no description": lambda t: t["description"] is None and t["page_title"] is None,
    "huge description": lambda t: len(t["description"] or "") > 100_000,
}


def test_messy_and_hostile_products_stay_messy_in_portuguese() -> None:
    seen: set[str] = set()
    for index in range(400):
        made = generate_product(index, 2, hostile_share=0.3, languages=["es", "pt"])
        text, product = made.translations["pt"], made.product
        spanish = {sign: shows(product) for sign, shows in SIGNS.items()}
        assert {sign: shows(text) for sign, shows in SIGNS.items()} == spanish, index
        seen |= {sign for sign, shown in spanish.items() if shown}
        if not made.mess:
            assert not any(spanish.values()) and text["name"] != product["name"]
        assert text["permalink"] != product["permalink"]
    assert seen == set(SIGNS)


def test_portuguese_words_cover_every_drawn_word() -> None:
    assert set(PT_FAMILIES) == {family.code for family in FAMILIES}
    assert set(PT_ADJECTIVES) == {masculine for masculine, _, _ in ADJECTIVES}
    assert set(PT_MATERIALS) == {spanish for spanish, _ in MATERIALS}
    assert set(PT_CARE) == {spanish for spanish, _ in CARE}
    assert set(PT_ORIGINS) == {spanish for spanish, _ in ORIGINS}


@pytest.mark.parametrize("languages", [["pt", "es"], ["es", "es"], ["es", "fr"], []])
def test_config_refuses_languages_the_catalogue_cannot_speak(languages: list[str]) -> None:
    with pytest.raises(ValueError, match="languages"):
        SandboxConfig(languages=languages)


def test_config_api_refuses_unknown_languages(sandbox) -> None:
    reply = requests.post(
        f"{sandbox.url}/_sandbox/config", json={"languages": ["es", "fr"]}, timeout=5
    )
    assert reply.status_code == 400 and "fr" in reply.json()["message"]
    assert sandbox.state.config.languages == LANGUAGES
