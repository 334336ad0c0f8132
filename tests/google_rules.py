"""An independent check of a feed against Google's product data rules, sharing no code with feedapp.

Golden files and pipeline tests compare with what the code produced; this module asks what Google
asks instead (`shared/docs/google-feed.md`), so a golden regenerated from broken code still fails.
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from lxml import etree

G = "{http://base.google.com/ns/1.0}"
TAXONOMY = Path(__file__).resolve().parent.parent / "feedapp/feed/data/taxonomy-with-ids.en-US.txt"
LENGTHS = {
    "id": 50,
    "title": 150,
    "description": 5000,
    "brand": 70,
    "mpn": 70,
    "product_type": 750,
    "item_group_id": 50,
    "color": 100,
    "size": 100,
    "material": 200,
    "pattern": 100,
    "link": 2000,
    "image_link": 2000,
    "additional_image_link": 2000,
}
REQUIRED = ("id", "title", "description", "link", "image_link", "availability", "price")
ENUMS = {
    "availability": {"in_stock", "out_of_stock", "preorder", "backorder"},
    "condition": {"new", "refurbished", "used"},
    "identifier_exists": {"no", "yes"},
    "gender": {"male", "female", "unisex"},
    "age_group": {"newborn", "infant", "toddler", "kids", "adult"},
}
TEXT_FIELDS = ("title", "description", "brand", "product_type", "color", "size", "material")
DISTINCT_BY = ("color", "size", "material", "pattern", "age_group", "gender")
PLACEHOLDER_BRANDS = {"n/a", "na", "none", "generic", "no brand", "nobrand", "unbranded", "-"}
_PRICE = re.compile(r"^(\d+(?:\.\d+)?) ([A-Z]{3})$")
_WEIGHT = re.compile(r"^\d+(?:\.\d+)? (?:kg|g|lb|oz)$")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_URL = re.compile(
    r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*)?"
    r"(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?(?:#[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?$"
)
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@cache
def taxonomy_ids() -> frozenset[str]:
    """Every id of Google's official product taxonomy file."""
    lines = TAXONOMY.read_text(encoding="utf-8").splitlines()
    return frozenset(line.split(" - ", 1)[0].strip() for line in lines if " - " in line)


def gs1_valid(code: str) -> bool:
    """GS1 mod-10: weights 3,1,3,1... from the right over every digit but the check digit."""
    body, check = code[:-1], int(code[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def gtin_violation(code: str) -> str | None:
    """Why Google would refuse this GTIN, or None."""
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return "not 8, 12, 13 or 14 digits"
    if not gs1_valid(code):
        return "wrong GS1 check digit"
    if not code.strip("0"):
        return "all zeros"
    if len(code) == 14 and code[0] == "9":
        return "GTIN-14 with indicator 9"
    gtin13 = code.zfill(14)[1:]
    if gtin13.startswith(("05", "99", "981", "982", "983", "984")):
        return "coupon prefix"
    if gtin13.startswith(("2", "02", "04")):
        return "restricted prefix"
    return None


def _price(value: str) -> tuple[Decimal, str] | None:
    match = _PRICE.match(value)
    if not match:
        return None
    try:
        return Decimal(match[1]), match[2]
    except InvalidOperation:
        return None


def item_violations(fields: dict[str, list[str]]) -> list[str]:
    """Every rule one item breaks, as 'attribute: reason'."""
    found: list[str] = []
    one = {name: values[0] for name, values in fields.items()}
    for name in REQUIRED:
        if not one.get(name):
            found.append(f"{name}: missing")
    for name, values in fields.items():
        for value in values:
            if not value.strip():
                found.append(f"{name}: sent empty")
            if _BAD_CHARS.search(value):
                found.append(f"{name}: forbidden character")
            if name in LENGTHS and len(value) > LENGTHS[name]:
                found.append(f"{name}: {len(value)} characters > {LENGTHS[name]}")
            if name in ENUMS and value not in ENUMS[name]:
                found.append(f"{name}: {value!r} not allowed")
            if name in TEXT_FIELDS and (_TAG.search(value) or html.unescape(value) != value):
                found.append(f"{name}: markup or an HTML entity in plain text: {value[:80]!r}")
            if name in ("link", "image_link", "additional_image_link") and not _URL.match(value):
                found.append(f"{name}: not an RFC 3986 http(s) URL: {value[:80]!r}")
    if len(fields.get("additional_image_link", [])) > 10:
        found.append("additional_image_link: more than 10")
    price = _price(one.get("price", ""))
    if one.get("price") and (price is None or price[0] <= 0):
        found.append(f"price: {one['price']!r} is not a positive '<number> <ISO 4217>'")
    if "sale_price" in one:
        sale = _price(one["sale_price"])
        if sale is None or price is None or sale[1] != price[1] or not 0 < sale[0] < price[0]:
            found.append(f"sale_price: {one['sale_price']!r} not below price {one.get('price')!r}")
    if "gtin" in one and (reason := gtin_violation(one["gtin"])):
        found.append(f"gtin: {one['gtin']} {reason}")
    if one.get("identifier_exists") == "no" and ("gtin" in one or "mpn" in one):
        found.append("identifier_exists: 'no' beside a gtin or mpn")
    if one.get("brand", "").casefold() in PLACEHOLDER_BRANDS:
        found.append(f"brand: placeholder {one['brand']!r}")
    category = one.get("google_product_category")
    if category and category not in taxonomy_ids():
        found.append(f"google_product_category: {category} not in the taxonomy")
    if "shipping_weight" in one and not _WEIGHT.match(one["shipping_weight"]):
        found.append(f"shipping_weight: {one['shipping_weight']!r}")
    if len(one.get("color", "").split("/")) > 3:
        found.append("color: more than 3 colours")
    return found


def feed_items(feed: bytes) -> list[dict[str, list[str]]]:
    """The items of an RSS 2.0 feed as attribute -> values (g: namespace stripped)."""
    root = etree.fromstring(feed)
    assert root.tag == "rss" and root.get("version") == "2.0", "not an RSS 2.0 feed"
    assert root.nsmap.get("g") == G.strip("{}"), "g namespace not declared on the root"
    items = []
    for item in root.iter("item"):
        fields: dict[str, list[str]] = defaultdict(list)
        for child in item:
            if isinstance(child.tag, str) and child.tag.startswith(G):
                fields[child.tag[len(G) :]].append(child.text or "")
        items.append(dict(fields))
    return items


def violations(feed: bytes) -> list[str]:
    """Every rule the whole feed breaks, one line each naming the item."""
    items = feed_items(feed)
    found = [f"item {i.get('id', ['?'])[0]}: {v}" for i in items for v in item_violations(i)]
    ids = Counter(i["id"][0].casefold() for i in items if i.get("id"))
    found += [f"id {k!r} used {n} times" for k, n in ids.items() if n > 1]
    gtins = Counter(i["gtin"][0].zfill(14) for i in items if i.get("gtin"))  # GS1 pads to 14
    found += [f"gtin {k} sent on {n} items" for k, n in gtins.items() if n > 1]
    groups: dict[str, list[dict[str, list[str]]]] = defaultdict(list)
    for item in items:
        if item.get("item_group_id"):
            groups[item["item_group_id"][0]].append(item)
    for group_id, members in groups.items():
        keys = Counter(tuple(m.get(k, [""])[0] for k in DISTINCT_BY) for m in members)
        clashes = [key for key, n in keys.items() if n > 1]
        if clashes:
            found.append(f"item_group_id {group_id}: variants agree on {DISTINCT_BY}: {clashes}")
    return found
