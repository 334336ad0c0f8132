"""The mapping's fast paths and caches give what the plain definitions give.

Each fast path (printable text, whole-number prices, a title pattern prepared once, per-feed
caches) is checked against the slow definition it replaces, written out here, on seeded random
input; the caches are checked to follow options that change between calls.
"""

from __future__ import annotations

import random
import re
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote

import pytest

from feedapp.feed.currency import (
    PriceProblem,
    format_weight,
    minor_units,
    offer_prices,
    parse_decimal,
)
from feedapp.feed.gtin import check_digit
from feedapp.feed.mapping import StoreInfo, map_product
from feedapp.feed.options import FeedOptions
from feedapp.feed.taxonomy import CatalogContext
from feedapp.feed.textclean import (
    _drop_empty_slots,
    cut_at_word,
    encode_path,
    html_to_text,
    plain_text,
    render_title,
    strip_unsafe,
)

SEED = 20_240
ROUNDS = 3_000

# -- the definitions ----------------------------------------------------------------------
_NONCHARACTERS = "".join(
    f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17)
)
UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef" + _NONCHARACTERS + "]"
)
SPACES = re.compile(r"\s+")
EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
PLACEHOLDER = re.compile(r"\{(name|options|brand)\}")
BLOCK_TAGS = (
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul".split()
)


def reference_render(pattern: str, name: str, options: str, brand: str) -> str:
    """The title as one regex substitution fills it (empty slots dropped as textclean does)."""
    values = {"name": name, "options": options, "brand": brand}
    rendered = PLACEHOLDER.sub(lambda m: values[m.group(1)] or "\x00", plain_text(pattern)[0])
    if "\x00" in rendered:
        rendered = _drop_empty_slots(rendered)
    return SPACES.sub(" ", EMPTY_BRACKETS.sub("", rendered)).strip()


def reference_title(pattern: str, name: str, options: str, brand: str, limit: int) -> str:
    """render_title over reference_render, as textclean cuts a title."""
    title = reference_render(pattern, name, options, brand) or name
    if len(title) <= limit:
        return title
    budget = len(name) - (len(title) - limit)
    if budget >= 30:
        title = reference_render(pattern, cut_at_word(name, budget), options, brand) or name
    return cut_at_word(title, limit)


def reference_price(value: object, code: str) -> str:
    """Google's price text by Decimal arithmetic alone."""
    quantum = Decimal(1).scaleb(-minor_units(code))
    return f"{Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP):f} {code}"


def reference_weight(weight: object, unit: str) -> str | None:
    """format_weight as first written: parse_decimal, then Decimal rounding."""
    symbol = {"kg": "kg", "kgs": "kg", "g": "g", "gr": "g", "lb": "lb", "lbs": "lb", "oz": "oz"}
    amount = parse_decimal(weight)
    if amount is None or unit.strip().casefold() not in symbol:
        return None
    text = f"{amount.quantize(Decimal('0.001'), rounding=ROUND_HALF_UP):f}".rstrip("0").rstrip(".")
    return f"{text} {symbol[unit.strip().casefold()]}" if amount > 0 and text != "0" else None


def reference_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit, weight by weight."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


# -- text -----------------------------------------------------------------------------------
ALPHABET = (
    "a", "Z", "é", "ñ", " ", "  ", "\t", "\n", "\r", "\x00", "\x07", "\x1f", "\x7f", "\x85",
    "\x9f", "\xa0", "\ud800", "\udfff", "\ufdd0", "\ufdef", "\ufffd", "\ufffe", "\uffff",
    "\U0001fffe", "\U0001ffff", "\U0010fffe", "\U0010ffff", "\U0001f600", "\U00020000", "\u2028",
    "<", ">", "&amp;", "&#1;", "{", "}",
)  # fmt: skip


def random_text(rng: random.Random, alphabet: tuple[str, ...] = ALPHABET) -> str:
    """A short text of pieces that each take a different path through the cleaning."""
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))


def test_strip_unsafe_matches_the_one_set_definition() -> None:
    rng = random.Random(SEED)
    for _ in range(ROUNDS):
        text = random_text(rng)
        assert strip_unsafe(text) == UNSAFE.sub("", text), ascii(text)


@pytest.mark.parametrize("tag", BLOCK_TAGS)
def test_every_block_tag_keeps_its_neighbours_apart_in_any_case(tag: str) -> None:
    for name in (tag, tag.upper(), tag.capitalize()):
        assert html_to_text(f"<div>uno<{name}>dos</{name}>tres</div>") == "uno dos tres", name


@pytest.mark.parametrize("tag", ["b", "span", "abbr", "header2", "pre2", "tdx", "lis", "a"])
def test_inline_and_lookalike_tags_join_their_neighbours(tag: str) -> None:
    assert html_to_text(f"<div>uno<{tag}>dos</{tag}>tres</div>") == "unodostres"


PATTERN_PIECES = (
    "{name}", "{options}", "{brand}", "{other}", "{", "}", "{{name}}", " ", "  ", " - ", "|",
    "(", ")", "[ ]", "()", "x", "<b>", "</b>", "&amp;", "\t", "—",
)  # fmt: skip
VALUES = ("", "Polera", "Rojo / M", "Marca (X)", "a  b", "{name}", "[ ]", "x" * 160)


def test_titles_fill_placeholders_as_a_substitution_does() -> None:
    rng = random.Random(SEED)
    for _ in range(ROUNDS):
        pattern = "".join(rng.choice(PATTERN_PIECES) for _ in range(rng.randint(0, 8)))
        name = rng.choice(VALUES[1:])
        options, brand = rng.choice(VALUES), rng.choice(VALUES)
        limit = rng.choice((20, 150))
        expected = reference_title(pattern, name, options, brand, limit)
        assert render_title(pattern, name, options, brand, limit)[0] == expected, pattern


# -- numbers --------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["CLP", "USD", "KWD", "JPY"])
def test_whole_number_prices_read_as_their_decimal_text_does(code: str) -> None:
    rng = random.Random(SEED)
    for _ in range(ROUNDS):
        price = rng.choice((0, -1, 10**12, 10**12 - 1, -(10**12))) or rng.randint(-99, 10**7)
        compare = rng.choice((None, price, price + 1, price - 1, 10**13))
        try:
            fast = offer_prices(price, compare, code)
        except PriceProblem as problem:
            fast = (problem.code, problem.detail)
        try:
            text = offer_prices(str(price), None if compare is None else str(compare), code)
        except PriceProblem as problem:
            text = (problem.code, problem.detail)
        assert fast == text, (price, compare)
        if fast[0].endswith(code):
            amounts = (price,) if compare is None else (price, compare)
            assert fast[0] in [reference_price(amount, code) for amount in amounts]


WEIGHTS = (None, True, 0, 1, 1.0, -2, 0.0004, 0.0005, 2.25, "1.0005", " 3 ", "x", 10**12, 1e12)
UNITS = ("kg", " KGS ", "g", "gr", "lb", "lbs", "oz", "stone", "")


def test_weights_read_as_the_decimal_definition_reads_them() -> None:
    rng = random.Random(SEED)
    for _ in range(ROUNDS):
        weight = rng.choice((*WEIGHTS, round(rng.uniform(0, 5), rng.randint(0, 4))))
        unit = rng.choice(UNITS)
        assert format_weight(weight, unit) == reference_weight(weight, unit), (weight, unit)


def test_a_path_is_encoded_as_quote_encodes_it() -> None:
    """The slug fast path agrees with urllib's quote() on any path, plain or not."""
    rng = random.Random(SEED)
    alphabet = "aZ09-._~/!$&'()*+,;=:@% ñ?#[]\"<>{}|^`\u00e9\U0001f600"
    for _ in range(ROUNDS):
        path = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        expected = quote(re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", path), safe="/!$&'()*+,;=:@%")
        assert encode_path(path) == expected, path


def test_check_digit_matches_the_gs1_definition() -> None:
    rng = random.Random(SEED)
    for _ in range(ROUNDS):
        body = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 17)))
        assert check_digit(body) == reference_check_digit(body), body


# -- caches follow the options -----------------------------------------------------------
STORE = StoreInfo(code="t", name="T", url="https://t.example.com", currency="CLP")


def product() -> dict:
    """A product with one variant whose option name no default list holds."""
    return {
        "id": 7,
        "name": "Polera",
        "price": 1000,
        "status": "available",
        "permalink": "polera",
        "images": [{"url": "https://t.example.com/i.jpg"}],
        "variants": [{"id": 8, "options": [{"name": "Acabado", "value": "Rojo"}]}],
    }


def fields(options: FeedOptions, data: dict | None = None) -> dict[str, object]:
    """The first item's fields as a dict, mapped with these options."""
    mapped = map_product(data or product(), STORE, options, CatalogContext())
    return dict(mapped.items[0].fields)


def test_option_names_follow_options_changed_between_products() -> None:
    options = FeedOptions()
    assert "color" not in fields(options)
    options.color_options.append("Acabado")
    assert fields(options)["color"] == "Rojo"
    options.size_options.insert(0, "acabado")  # listed under color first: color still wins
    assert fields(options)["color"] == "Rojo"
    options.color_options.remove("Acabado")
    assert fields(options)["size"] == "Rojo"


def test_links_follow_utm_options_changed_between_products() -> None:
    options = FeedOptions()
    assert fields(options)["link"] == (
        "https://t.example.com/polera?utm_source=google&utm_medium=shopping"
    )
    options.utm_campaign = "verano"
    options.utm_medium = ""
    assert fields(options)["link"] == (
        "https://t.example.com/polera?utm_source=google&utm_campaign=verano"
    )


def test_product_types_named_by_the_product_are_its_own() -> None:
    catalog = CatalogContext([{"id": 1, "name": "Ropa", "parent_id": None}])
    unknown = [{"id": 9, "name": name} for name in ("Poleras", "Gorros")]
    types = [
        dict(
            map_product({**product(), "categories": [c]}, STORE, FeedOptions(), catalog)
            .items[0]
            .fields
        ).get("product_type")
        for c in (*unknown, {"id": 1, "name": "Otro nombre"})
    ]
    assert types == ["Poleras", "Gorros", "Ropa"]
