"""Property tests: whatever the API sends, every item meets Google's rules and is valid XML."""

from __future__ import annotations

import re
from decimal import Decimal

from google_rules import LENGTHS as LIMITS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedapp.feed.gtin import normalize_gtin
from feedapp.feed.mapping import CatalogContext, StoreInfo, map_product
from feedapp.feed.options import CONDITIONS, FeedOptions
from feedapp.feed.problems import PROBLEM_CODES
from feedapp.feed.taxonomy import lookup
from feedapp.feed.textclean import is_placeholder_brand

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOOGLE_NS = "http://base.google.com/ns/1.0"
RFC3986 = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$")
PRICE = re.compile(r"^(\d+(?:\.\d+)?) ([A-Z]{3})$")
WEIGHT = re.compile(r"^\d+(?:\.\d+)? (?:kg|g|lb|oz)$")
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
ATTRIBUTES = set(LIMITS) | {
    "availability",
    "price",
    "sale_price",
    "gtin",
    "identifier_exists",
    "condition",
    "google_product_category",
    "shipping_weight",
}
URL_FIELDS = ("link", "image_link", "additional_image_link")

TRICKY = [
    "\x00",
    "\x01",
    "\x08",
    "\x0b",
    "\x0c",
    "\x1f",
    "\x7f",
    "\x85",
    "\x9f",
    "\ud800",
    "\udfff",
    "\ufffe",
    "\uffff",
    "\ufdd0",
    "\U0010ffff",
    "\u2028",
    "&amp;",
    "&lt;",
    "&gt;",
    "&#0;",
    "&#1;",
    "&#xD800;",
    "&#xFFFE;",
    "&nbsp;",
    "&bogus;",
    "&",
    "<",
    ">",
    "<p>",
    "</p>",
    "<br>",
    "<b>",
    "<script>alert(1)</script>",
    "<style>p{}</style>",
    "<![CDATA[x]]>",
    "<!--",
    "-->",
    "<![if x]>",
    '<?xml version="1.0" encoding="latin1"?>',
    "%",
    "%20",
    "%zz",
    "%%",
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "é",
    "ñ",
    "😀",
    "/",
    "?",
    "#",
    "\\",
    '"',
    "'",
    "{name}",
    "{options}",
    "N/A",
    "-",
    "0",
]

any_char = st.characters(exclude_categories=())
text = st.lists(
    st.one_of(st.text(any_char, max_size=12), st.sampled_from(TRICKY)), max_size=12
).map("".join)
long_text = st.one_of(text, st.builds(lambda t, n: (t + " ") * n, text, st.integers(1, 400)))


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """Plausible values nine times in ten, so items get through and are checked, else garbage."""
    return st.sampled_from((True,) * 9 + (False,)).flatmap(lambda ok: good if ok else bad)


def plus_noise(good: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(lambda a, b: a + b, good, text)


garbage = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "0.0", "1e5", "12,990", "NaN", "Infinity", "-0", "0"]),
    text,
    st.lists(st.integers(), max_size=2),
)
amount = mostly(
    st.one_of(
        st.integers(1, 10**7),
        st.floats(0.001, 1e7),
        st.from_regex(r"\A\d{1,7}(\.\d{1,4})?\Z"),
    ),
    garbage,
)
optional_amount = st.one_of(st.none(), amount)
identifier = mostly(
    st.integers(1, 10**9), st.one_of(st.from_regex(r"\A[A-Za-z0-9_.-]{1,30}\Z"), garbage)
)
name = mostly(plus_noise(st.from_regex(r"\A\w[\w ]{0,60}\Z")), st.one_of(long_text, garbage))
url = mostly(
    st.builds(
        lambda scheme, host, path: f"{scheme}{host}/{path}",
        st.sampled_from(["https://", "http://", "HTTPS://", "//"]),
        st.sampled_from(["images.jumpseller.com", "bücher.de", "cdn.example.com:8443", "[::1]"]),
        text,
    ),
    st.one_of(
        text,
        garbage,
        st.builds(lambda s, h: s + h, st.sampled_from(["ftp://", "", "https:/"]), text),
        st.sampled_from(["https://a..b/x", "https://x.com:99999/", "https://u:p@x.com/"]),
    ),
)
barcode = st.one_of(
    text,
    garbage,
    st.from_regex(r"\A[0-9 -]{6,16}\Z"),
    st.sampled_from(
        ["4006381333931", "96385074", "036000291452", "10012345678902", "2001234567893"]
    ),
)
google_category = st.one_of(
    st.none(),
    text,
    st.sampled_from([1604, "1604", "212", 166, "Apparel & Accessories > Shoes", "222", "0", 10**9]),
)


def mapping_of(required: dict, optional: dict | None = None) -> st.SearchStrategy:
    return st.fixed_dictionaries(required, optional=optional or {})


image = mostly(mapping_of({"url": url}, {"id": identifier, "position": garbage}), garbage)
option = mostly(
    mapping_of(
        {
            "name": mostly(
                st.sampled_from(["Color", "Talla", "Material", "Estampado", "Sabor", " SIZE "]),
                text,
            ),
            "value": mostly(plus_noise(st.sampled_from(["Rojo", "M", "Lino", "Rayas"])), garbage),
        },
        {"option_type": st.sampled_from(["option", "color", None, 3])},
    ),
    garbage,
)
variant = mostly(
    mapping_of(
        {"id": identifier, "options": st.lists(option, max_size=4)},
        {
            "price": optional_amount,
            "compare_at_price": optional_amount,
            "barcode": barcode,
            "sku": st.one_of(text, garbage),
            "stock": optional_amount,
            "weight": optional_amount,
            "stock_unlimited": garbage,
            "image": st.one_of(image, garbage),
        },
    ),
    garbage,
)
category = mapping_of(
    {"id": identifier, "name": name}, {"parent_id": identifier, "permalink": text}
)
product = mapping_of(
    {
        "id": identifier,
        "name": name,
        "price": amount,
        "permalink": mostly(plus_noise(st.just("p")), garbage),
        "images": st.lists(image, min_size=1, max_size=14),
    },
    {
        "description": st.one_of(long_text, garbage),
        "compare_at_price": optional_amount,
        "stock": optional_amount,
        "stock_unlimited": garbage,
        "status": mostly(
            st.just("available"), st.one_of(st.sampled_from(["not-available", "disabled"]), text)
        ),
        "brand": st.one_of(text, garbage),
        "barcode": barcode,
        "sku": st.one_of(text, garbage),
        "weight": optional_amount,
        "google_product_category": google_category,
        "google_product_category_text": google_category,
        "discount": garbage,
        "categories": st.lists(category, max_size=3),
        "variants": st.lists(variant, max_size=5),
    },
)
store = st.builds(
    StoreInfo,
    code=st.just("tienda"),
    name=text,
    url=mostly(st.sampled_from(["https://www.tienda.cl", "tienda.cl/", "http://x.com/?a=b"]), url),
    currency=mostly(
        st.sampled_from(["CLP", "USD", "KWD", "BRL", "JPY", "clp"]),
        st.sampled_from(["", "$$", "ZZZ"]),
    ),
    weight_unit=st.one_of(st.sampled_from(["kg", "g", "lb", "oz", "LBS"]), text),
)
options = st.builds(
    FeedOptions,
    include_out_of_stock=st.booleans(),
    include_not_available=st.booleans(),
    default_brand=text,
    default_google_category=google_category.map(lambda v: "" if v is None else str(v)),
    category_map=st.dictionaries(st.from_regex(r"\A\d{1,3}\Z"), st.sampled_from(["212", "1", "x"])),
    condition=st.sampled_from([*CONDITIONS, "bogus"]),
    sku_is_mpn=st.booleans(),
    title_pattern=st.one_of(
        st.sampled_from(["{name} - {options}", "{brand} {name} ({options})", "{options}", ""]), text
    ),
    utm_source=st.one_of(st.just("google"), text),
    utm_medium=st.one_of(st.just(""), text),
    utm_campaign=text,
)
catalog = st.lists(category, max_size=6).map(CatalogContext)


def check_item_fields(fields: list[tuple[str, str]]) -> dict[str, str]:
    """Assert each attribute meets google-feed.md; returns first values by name."""
    values: dict[str, str] = {}
    for name, value in fields:
        assert name in ATTRIBUTES, name
        assert isinstance(value, str) and value, name
        assert value == value.strip(), name
        assert not XML_FORBIDDEN.search(value), name
        assert len(value) <= LIMITS.get(name, 5000), name
        if name in URL_FIELDS:
            assert value.startswith(("http://", "https://")), value
            assert RFC3986.match(value), value
        values.setdefault(name, value)
    extra = [v for k, v in fields if k == "additional_image_link"]
    assert len(extra) <= 10 and values["image_link"] not in extra
    assert values["availability"] in ("in_stock", "out_of_stock")
    assert values["condition"] in CONDITIONS
    price = PRICE.match(values["price"])
    assert price and Decimal(price.group(1)) > 0
    if "sale_price" in values:
        sale = PRICE.match(values["sale_price"])
        assert sale and sale.group(2) == price.group(2)
        assert 0 < Decimal(sale.group(1)) < Decimal(price.group(1))
    if "brand" in values:
        assert not is_placeholder_brand(values["brand"])
    if "gtin" in values:
        assert normalize_gtin(values["gtin"]) == values["gtin"]
    has_identifier = "gtin" in values or "mpn" in values
    assert ("identifier_exists" in values) is not has_identifier
    assert values.get("identifier_exists", "no") == "no"
    if "google_product_category" in values:
        assert lookup(int(values["google_product_category"])) is not None
    if "shipping_weight" in values:
        assert WEIGHT.match(values["shipping_weight"])
    return values


def round_trip(fields_per_item: list[list[tuple[str, str]]]) -> None:
    """Every value goes into an lxml element and the document parses back unchanged."""
    rss = etree.Element("rss", nsmap={"g": GOOGLE_NS}, version="2.0")
    channel = etree.SubElement(rss, "channel")
    for fields in fields_per_item:
        item = etree.SubElement(channel, "item")
        for name, value in fields:
            etree.SubElement(item, f"{{{GOOGLE_NS}}}{name}").text = value
    parsed = etree.fromstring(etree.tostring(rss, xml_declaration=True, encoding="UTF-8"))
    back = [[(etree.QName(el).localname, el.text) for el in item] for item in parsed[0]]
    assert back == fields_per_item


@SETTINGS
@given(product, store, options, catalog, st.booleans())
def test_every_item_meets_the_feed_rules(
    data: dict, info: StoreInfo, opts: FeedOptions, cats: CatalogContext, wrapped: bool
) -> None:
    mapped = map_product({"product": data} if wrapped else data, info, opts, cats)
    ids = [item.id for item in mapped.items]
    assert len({i.casefold() for i in ids}) == len(ids)
    groups = set()
    for item in mapped.items:
        values = check_item_fields(item.fields)
        assert values["id"] == item.id and item.fields[0] == ("id", item.id)
        groups.add(values.get("item_group_id"))
    assert len(groups) <= 1
    round_trip([item.fields for item in mapped.items])
    for problem in mapped.problems:
        assert PROBLEM_CODES[problem.code] == problem.severity
        assert not XML_FORBIDDEN.search(problem.detail + problem.product_name)
        assert len(problem.detail) <= 100


@SETTINGS
@given(product, store, options)
def test_no_item_is_dropped_without_a_reason(
    data: dict, info: StoreInfo, opts: FeedOptions
) -> None:
    mapped = map_product(data, info, opts, CatalogContext())
    variants = [v for v in data.get("variants") or [] if isinstance(v, dict)]
    expected = max(len(variants), 1)
    errors = [p for p in mapped.problems if p.severity == "error"]
    if len(mapped.items) < expected:
        assert errors
    sent = {item.id for item in mapped.items}
    wrongly_blamed = [p for p in errors if p.item_id in sent and p.code != "id_duplicate"]
    assert not [p for p in wrongly_blamed if p.variant_id is not None]


@SETTINGS
@given(st.lists(st.one_of(st.text(any_char), st.sampled_from(TRICKY)), max_size=30).map("".join))
def test_descriptions_from_any_text_are_clean(description: str) -> None:
    data = {
        "id": 1,
        "name": "P",
        "price": 1,
        "permalink": "p",
        "description": description,
        "images": [{"url": "https://i.com/a.jpg"}],
    }
    mapped = map_product(
        data, StoreInfo("t", "T", "https://t.cl", "USD"), FeedOptions(), CatalogContext()
    )
    (item,) = mapped.items
    values = check_item_fields(item.fields)
    assert 1 <= len(values["description"]) <= 5000
    round_trip([item.fields])
