"""Deterministic fake Jumpseller catalogues, shaped exactly as the products API returns them."""

from __future__ import annotations

import copy
import gc
import random
import time
import unicodedata
from collections.abc import Sequence
from functools import lru_cache, partial
from typing import NamedTuple

from feedapp_dev.sandbox.barcodes import draw_barcode
from feedapp_dev.sandbox.draws import below, pick
from feedapp_dev.sandbox.mess import apply_hostile, apply_mess
from feedapp_dev.sandbox.variants import build_variants, money
from feedapp_dev.sandbox.vocabulary import (
    ADJECTIVES,
    BRAND_PLACEHOLDERS,
    BRANDS,
    CARE,
    CATEGORIES,
    FAMILIES,
    MATERIALS,
    ORIGINS,
    PT_ADJECTIVES,
    PT_CARE,
    PT_FAMILIES,
    PT_MATERIALS,
    PT_ORIGINS,
    Family,
)

BASE_PRODUCT_ID = 100_000
BASE_IMAGE_ID = 20_000_000
BASE_CATEGORY_ID = 30_000
_EPOCH = 1_672_531_200  # 2023-01-01 00:00 UTC
_VARIANT_SHARE = 0.54  # of families that have options, so ~40% of all products
_MESSY_SHARE = 0.05
_TRANSLATED_SHARE = 0.35
#: What a translation holds; everything else about a product is the same in every language.
TRANSLATED_FIELDS = ("name", "description", "page_title", "meta_description", "permalink")


class GeneratedProduct(NamedTuple):
    """One product as the API shows it, its own text in other languages, and the mess applied.

    ``translations`` maps a language code to the translated fields. English covers about a
    third of the products and keeps its text clean, as it always has; Portuguese covers every
    product and carries the product's mess and spoils, so a messy product is messy in it too.
    """

    product: dict
    translations: dict[str, dict]
    mess: tuple[str, ...]

    @property
    def translation(self) -> dict | None:
        """The English translation, or None when the product has none."""
        return self.translations.get("en")


def product_id(index: int) -> int:
    """The id of the index-th generated product: increasing, with irregular gaps like real ids."""
    return BASE_PRODUCT_ID + index * 3 + index % 3


def product_index(pid: int, count: int) -> int | None:
    """Inverse of product_id within a catalogue of `count` products, or None."""
    offset = pid - BASE_PRODUCT_ID
    index = offset // 3
    if offset < 0 or index >= count or product_id(index) != pid:
        return None
    return index


def generate_categories() -> list[dict]:
    """The category tree every sandbox store shares (parents first), as categories.json shows it."""
    ids = {slug: BASE_CATEGORY_ID + pos * 7 for pos, (slug, _, _) in enumerate(CATEGORIES)}
    return [
        {
            "id": ids[slug],
            "name": name,
            "parent_id": ids[parent] if parent else None,
            "permalink": slug,
        }
        for slug, name, parent in CATEGORIES
    ]


def generate_catalogue(
    count: int, seed: int = 1, store_code: str = "sandboxstore", currency: str = "CLP"
) -> tuple[list[dict], list[dict]]:
    """A whole store: `count` products (without the {"product": ...} wrapper) and the categories."""
    categories = generate_categories()
    collecting = gc.isenabled()
    gc.disable()  # the cyclic GC rescans the growing list again and again: twice as slow with it
    try:
        products = [
            generate_product(i, seed, store_code, currency, categories).product
            for i in range(count)
        ]
    finally:
        if collecting:
            gc.enable()
    return products, categories


def generate_product(
    index: int,
    seed: int = 1,
    store_code: str = "sandboxstore",
    currency: str = "CLP",
    categories: list[dict] | None = None,
    hostile_share: float = 0.0,
    languages: Sequence[str] = ("es", "en"),
) -> GeneratedProduct:
    """The index-th product of a seeded store; the same arguments always give the same product.

    ``hostile_share`` of the products also get an imported catalogue's spoils, drawn from their
    own generator so the rest of the catalogue stays as the seed makes it. ``languages`` are the
    store's (Spanish, the catalogue's own, first); only their translations are made, and making
    them draws nothing from the seeded generator, so the Spanish product never changes.
    """
    rng = random.Random(seed * 1_000_003 + index)
    by_slug = {c["permalink"]: c for c in categories or generate_categories()}
    family = FAMILIES[below(rng, len(FAMILIES))]
    adjective = ADJECTIVES[below(rng, len(ADJECTIVES))]
    material = MATERIALS[rng.choice(family.materials)] if family.materials else None
    name_es, name_en = _names(family, adjective, material)
    permalink = f"{slug(name_es)}-{index + 1}"
    pid = product_id(index)

    base = family.low + 1000 * below(rng, (family.high - family.low) // 1000 + 1)
    sale_ratio = rng.uniform(1.1, 1.5) if rng.random() < 0.15 else None
    kind = pick(rng, (("physical", 0.95), ("digital", 0.04), ("gift_card", 0.01)))
    unlimited = rng.random() < 0.2
    stock = 0 if unlimited or rng.random() < 0.1 else 1 + below(rng, 199)
    sku = f"{family.code}-{index + 1:05d}" if rng.random() < 0.92 else ""
    created = _EPOCH + index * 600 + below(rng, 600)
    updated = created + below(rng, 180 * 86400)
    images = _images(rng, index, store_code, permalink, updated)

    care = CARE[below(rng, len(CARE))]
    origin = ORIGINS[below(rng, len(ORIGINS))]
    description_es, description_en, meta_es, meta_en = _descriptions(
        family, name_es, name_en, care, origin
    )
    google = family.google if rng.random() < 0.6 else ""
    product = {
        "id": pid,
        "name": name_es,
        "page_title": name_es if rng.random() < 0.7 else "",
        "description": description_es,
        "meta_description": meta_es,
        "type": kind,
        "days_to_expire": 365 if kind == "gift_card" else None,
        "price": money(base, currency),
        "discount": "0.0",
        "compare_at_price": money(round(base * sale_ratio), currency) if sale_ratio else None,
        "cost_per_item": None,
        "weight": round(rng.uniform(0.1, 5.0), 2) if kind == "physical" else 0.0,
        "stock": stock,
        "stock_unlimited": unlimited,
        "stock_threshold": 0,
        "stock_notification": False,
        "back_in_stock_enabled": False,
        "sku": sku,
        "brand": _brand(rng),
        "barcode": draw_barcode(rng),
        "google_product_category": google,
        "google_product_category_text": google,
        "featured": rng.random() < 0.05,
        "reviews_enabled": True,
        "quotable": False,
        "status": pick(rng, (("available", 0.8), ("not-available", 0.12), ("disabled", 0.08))),
        "package_format": "box",
        "length": float(5 + below(rng, 55)),
        "width": float(5 + below(rng, 35)),
        "height": float(2 + below(rng, 28)),
        "diameter": 0.0,
        "permalink": permalink,
        "created_at": timestamp(created),
        "updated_at": timestamp(updated),
        "categories": _categories(rng, family, by_slug, sale_ratio is not None),
        "images": images,
        "variants": [],
        "digital_products": [],
    }
    if family.options and kind == "physical" and rng.random() < _VARIANT_SHARE:
        variants = build_variants(
            rng, index, family, base, sale_ratio, images, sku, currency, unlimited
        )
        product["variants"] = variants
        product["stock"] = 0 if unlimited else sum(v["stock"] for v in variants)
    if rng.random() < 0.2:
        images.reverse()  # the API does not promise position order
    translations: dict[str, dict] = {}
    if rng.random() < _TRANSLATED_SHARE and "en" in languages:
        translations["en"] = {
            "name": name_en,
            "description": description_en,
            "page_title": name_en if product["page_title"] else "",
            "meta_description": meta_en,
            "permalink": f"{slug(name_en)}-{index + 1}",
        }
    messy = rng.getstate() if rng.random() < _MESSY_SHARE else None
    spoil = partial(
        _spoil, mess_state=messy, hostile_seed=f"hostile-{seed}-{index}", share=hostile_share
    )
    if "pt" in languages:
        words = (family, adjective, material, care, origin)
        portuguese = _portuguese(*words, index=index, titled=bool(product["page_title"]))
        spoiled = messy is not None or hostile_share
        translations["pt"] = _spoiled(product, portuguese, spoil) if spoiled else portuguese
    return GeneratedProduct(product, translations, spoil(product))


def _names(
    family: Family, adjective: tuple[str, str, str], material: tuple[str, str] | None
) -> tuple[str, str]:
    es_adjective = adjective[1] if family.feminine else adjective[0]
    if material is None:
        return f"{family.es} {es_adjective}", f"{adjective[2]} {family.en}"
    es_name = f"{family.es} {es_adjective} de {material[0]}"
    return es_name, f"{adjective[2]} {material[1]} {family.en}"


def _descriptions(
    family: Family,
    name_es: str,
    name_en: str,
    care: tuple[str, str],
    origin: tuple[str, str],
) -> tuple[str, str, str, str]:
    made = "pensada" if family.feminine else "pensado"
    meta_es = f"{name_es}, {made} para el día a día."
    meta_en = f"{name_en}, made for every day."
    html_es = (
        f"<p><strong>{name_es}</strong>, {made} para el día a día.</p>"
        f"<ul><li>Cuidado: {care[0]}</li><li>Origen: {origin[0]}</li></ul>"
    )
    html_en = (
        f"<p><strong>{name_en}</strong>, made for every day.</p>"
        f"<ul><li>Care: {care[1]}</li><li>Made in {origin[1]}</li></ul>"
    )
    return html_es, html_en, meta_es, meta_en


def _portuguese(
    family: Family,
    adjective: tuple[str, str, str],
    material: tuple[str, str] | None,
    care: tuple[str, str],
    origin: tuple[str, str],
    *,
    index: int,
    titled: bool,
) -> dict:
    """The product's Portuguese text, from the same draws as its Spanish one."""
    noun, feminine = PT_FAMILIES[family.code]
    masculine_form, feminine_form = PT_ADJECTIVES[adjective[0]]
    name = f"{noun} {feminine_form if feminine else masculine_form}"
    if material is not None:
        name = f"{name} de {PT_MATERIALS[material[0]]}"
    made = "feita" if feminine else "feito"
    return {
        "name": name,
        "description": (
            f"<p><strong>{name}</strong>, {made} para o dia a dia.</p>"
            f"<ul><li>Cuidados: {PT_CARE[care[0]]}</li>"
            f"<li>Origem: {PT_ORIGINS[origin[0]]}</li></ul>"
        ),
        "page_title": name if titled else "",
        "meta_description": f"{name}, {made} para o dia a dia.",
        "permalink": f"{slug(name)}-{index + 1}",
    }


def _spoil(
    product: dict, *, mess_state: tuple | None, hostile_seed: str, share: float
) -> tuple[str, ...]:
    """Apply the product's mess and an import's spoils in place; return the kinds applied.

    Both generators are rebuilt here (the catalogue's as it stood at the mess draw, the hostile
    one from its seed), so each language's copy of a product is spoiled exactly alike.
    """
    kinds: tuple[str, ...] = ()
    if mess_state is not None:
        rng = random.Random(0)
        rng.setstate(mess_state)
        kinds = apply_mess(product, rng)
    if share:
        hostile = random.Random(hostile_seed)
        if hostile.random() < share:
            kinds += apply_hostile(product, hostile)
    return kinds


def _spoiled(product: dict, text: dict, spoil: partial[tuple[str, ...]]) -> dict:
    """The translated text as it reads once its product has been spoiled."""
    view = {**copy.deepcopy(product), **text}
    spoil(view)
    return {field: view[field] for field in text}


def _brand(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.75:
        return BRANDS[below(rng, len(BRANDS))]
    if roll < 0.87:
        return ""
    if roll < 0.92:
        return None
    return BRAND_PLACEHOLDERS[below(rng, len(BRAND_PLACEHOLDERS))]


def _images(
    rng: random.Random, index: int, store_code: str, permalink: str, stamp: int
) -> list[dict]:
    images = []
    for pos in range(1, rng.randint(1, 6) + 1):
        image_id = BASE_IMAGE_ID + index * 8 + pos
        url = (
            f"https://images.jumpseller.com/store/{store_code}/{image_id}/"
            f"{permalink}-{pos}.jpg?{stamp}"
        )
        images.append({"id": image_id, "position": pos, "url": url})
    return images


def _categories(
    rng: random.Random, family: Family, by_slug: dict[str, dict], on_sale: bool
) -> list[dict]:
    own = by_slug[family.category]
    chosen = [dict(own)]
    if own["parent_id"] is not None and rng.random() < 0.3:
        parent = next(c for c in by_slug.values() if c["id"] == own["parent_id"])
        chosen.append(dict(parent))
    if on_sale and rng.random() < 0.5:
        chosen.append(dict(by_slug["ofertas"]))
    return chosen


def timestamp(epoch: float) -> str:
    """Jumpseller-style UTC timestamp text for created_at/updated_at."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


@lru_cache(maxsize=4096)
def slug(text: str) -> str:
    """URL-safe lower-case ASCII words joined by dashes, as permalinks are."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = "".join(ch.lower() if ch.isalnum() else " " for ch in ascii_text).split()
    return "-".join(words)
