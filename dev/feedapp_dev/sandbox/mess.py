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


#: What imports from spreadsheets and other platforms bring, for the hostile catalogue knob.
HOSTILE_KINDS: tuple[str, ...] = (
    "markup_name",
    "double_entities",
    "markup_brand",
    "markup_options",
    "unmapped_options",
    "shared_barcode",
    "huge_description",
)
#: Option names Google has no attribute for, and names in Portuguese and English it has.
_UNMAPPED = ("Estilo", "Modelo", "Sabor", "Formato", "Edición", "Acabamento", "Style")
_OTHER_LANGUAGES = {"Color": ("Cor", "Colour"), "Talla": ("Tamanho", "Size"), "Size": ("Tamanho",)}
#: A few valid GTINs that many products share, as a catalogue copied from one supplier sheet has.
_SHARED_BARCODES = ("7801234567892", "7809876543217", "89743256")


def apply_hostile(product: dict, rng: random.Random) -> tuple[str, ...]:
    """Spoil the product the way imported catalogues are spoiled, in place; return the kinds."""
    kinds = tuple(sorted(rng.sample(HOSTILE_KINDS, rng.randint(2, 3))))
    for kind in kinds:
        _HOSTILE[kind](product, rng)
    return kinds


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


def _markup_name(product: dict, rng: random.Random) -> None:
    product["name"] = rng.choice(
        (
            f"<b>{product['name']}</b> <br>Nuevo",
            f"<p><span style='color:red'>{product['name']}</span>",
        )
    )


def _double_entities(product: dict, rng: random.Random) -> None:
    product["name"] = product["name"] + " &amp;quot;Premium&amp;quot; &amp;amp; Co."
    if product.get("description"):
        product["description"] = "&lt;p&gt;" + product["description"] + " &amp;amp;nbsp;"


def _markup_brand(product: dict, rng: random.Random) -> None:
    product["brand"] = "<strong>Marca &amp;amp; Hijos</strong>"


def _markup_options(product: dict, rng: random.Random) -> None:
    for variant in product["variants"]:
        variant["options"] = [
            {**option, "value": f"<i>{option['value']}</i>"} for option in variant["options"]
        ]


def _unmapped_options(product: dict, rng: random.Random) -> None:
    """Rename each option axis: to one Google has no attribute for, or to another language."""
    renamed: dict[str, str] = {}
    for variant in product["variants"]:
        options = []
        for option in variant["options"]:
            name = option["name"]
            if name not in renamed:
                other = _OTHER_LANGUAGES.get(name, ())
                renamed[name] = rng.choice((*other, *_UNMAPPED)) if rng.random() < 0.8 else name
            options.append({**option, "name": renamed[name], "option_type": "option"})
        variant["options"] = options


def _shared_barcode(product: dict, rng: random.Random) -> None:
    barcode = rng.choice(_SHARED_BARCODES)
    product["barcode"] = barcode
    for variant in product["variants"]:
        variant["barcode"] = barcode if rng.random() < 0.7 else None


def _huge_description(product: dict, rng: random.Random) -> None:
    product["description"] = "<div>" + "<p>Texto &amp; <b>más</b> texto.</p>" * 6000 + "</div>"


_HOSTILE = {
    "markup_name": _markup_name,
    "double_entities": _double_entities,
    "markup_brand": _markup_brand,
    "markup_options": _markup_options,
    "unmapped_options": _unmapped_options,
    "shared_barcode": _shared_barcode,
    "huge_description": _huge_description,
}

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
