"""The dirty data real stores hold, applied to a few sandbox products so the feed code meets it."""

from __future__ import annotations

import random

#: Every kind of mess; TYPE_MESS are the ones that break the spec's types (numbers as strings).
MESS_KINDS: tuple[str, ...] = (
    "control_chars",
    "entities",
    "long_name",
    "no_images",
    "price_null",
    "price_zero",
    "price_negative",
    "price_string",
    "numbers_as_strings",
    "nulls",
)
TYPE_MESS: frozenset[str] = frozenset({"price_string", "numbers_as_strings"})

_CONTROL = ("\x00", "\x07", "\x0b", "\x1b", "\x7f")
_LONG_TAIL = (
    " - Edición Especial Temporada Otoño Invierno con Despacho Gratis a Todo Chile y Garantía"
    " Extendida de Doce Meses, Ideal para Regalo"
)


def apply_mess(product: dict, rng: random.Random) -> tuple[str, ...]:
    """Spoil one or two things in the product, in place; return which kinds were applied."""
    count = 1 if rng.random() < 0.7 else 2
    # Type-spoiling kinds go last, so a later price_zero cannot undo a price_string.
    kinds = tuple(sorted(rng.sample(MESS_KINDS, count), key=lambda k: (k in TYPE_MESS, k)))
    for kind in kinds:
        _SPOILERS[kind](product, rng)
    return kinds


def _control_chars(product: dict, rng: random.Random) -> None:
    name = product["name"]
    cut = rng.randrange(1, len(name))
    product["name"] = name[:cut] + rng.choice(_CONTROL) + name[cut:]
    if product.get("description"):
        product["description"] = product["description"] + rng.choice(_CONTROL)


def _entities(product: dict, rng: random.Random) -> None:
    product["name"] = product["name"] + " &amp;amp; Co."
    if product.get("description"):
        product["description"] = product["description"].replace("<p>", "<p>&amp;nbsp;&quot;", 1)


def _long_name(product: dict, rng: random.Random) -> None:
    product["name"] = product["name"] + _LONG_TAIL


def _no_images(product: dict, rng: random.Random) -> None:
    product["images"] = []
    for variant in product["variants"]:
        variant["image"] = None


def _price_null(product: dict, rng: random.Random) -> None:
    product["price"] = None


def _price_zero(product: dict, rng: random.Random) -> None:
    product["price"] = 0


def _price_negative(product: dict, rng: random.Random) -> None:
    price = product["price"]
    if isinstance(price, int | float):
        product["price"] = -abs(price) or -1


def _price_string(product: dict, rng: random.Random) -> None:
    price = product["price"]
    product["price"] = "" if price is None else str(price)


def _numbers_as_strings(product: dict, rng: random.Random) -> None:
    product["stock"] = str(product["stock"])
    product["weight"] = str(product["weight"])
    for variant in product["variants"]:
        variant["price"] = str(variant["price"])
        variant["stock"] = str(variant["stock"])


def _nulls(product: dict, rng: random.Random) -> None:
    for field in ("brand", "sku", "barcode", "description", "page_title", "meta_description"):
        product[field] = None
    product["google_product_category"] = None
    product["google_product_category_text"] = None


_SPOILERS = {
    "control_chars": _control_chars,
    "entities": _entities,
    "long_name": _long_name,
    "no_images": _no_images,
    "price_null": _price_null,
    "price_zero": _price_zero,
    "price_negative": _price_negative,
    "price_string": _price_string,
    "numbers_as_strings": _numbers_as_strings,
    "nulls": _nulls,
}
