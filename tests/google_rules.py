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
_DAYS = re.compile(r"^\d+$")
#: ISO 3166-1 alpha-2: every officially assigned code (249), typed here, not taken from a library.
COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA
    ZM ZW""".split()
)
#: ISO 4217 minor units where they are not 2.
MINOR_UNITS = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
#: Countries where Google disapproves items without shipping costs, unless the merchant set
#: shipping in Merchant Center (the shipping attribute's page; the EEA list grew in June 2023).
SHIPPING_REQUIRED = frozenset(
    """AT AU BE BR CA CH CZ DE DK ES FI FR GB GR HU IE IL IN IT JP KR NL NO NZ PL PT RO SE SK
    US""".split()
)
#: The sub-attributes Google defines for shipping; only one delivery area may be given.
SHIPPING_PARTS = (
    "country",
    "region",
    "postal_code",
    "location_id",
    "location_group_name",
    "service",
    "price",
    "min_handling_time",
    "max_handling_time",
    "min_transit_time",
    "max_transit_time",
)
DELIVERY_AREAS = ("region", "postal_code", "location_id", "location_group_name")
#: Attributes sent as a group of sub-elements, and their allowed parts.
GROUPS = {"shipping": SHIPPING_PARTS}

Group = dict[str, list[str]]
Fields = dict[str, list[str | Group]]


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


def item_violations(fields: Fields) -> list[str]:
    """Every rule one item breaks, as 'attribute: reason'."""
    found: list[str] = []
    groups = {name: [v for v in values if isinstance(v, dict)] for name, values in fields.items()}
    fields = {name: [v for v in values if isinstance(v, str)] for name, values in fields.items()}
    for name, members in groups.items():
        if members and name not in GROUPS:
            found.append(f"{name}: has sub-elements, but it is not a group attribute")
        if fields[name] and name in GROUPS:
            found.append(f"{name}: plain text where Google expects sub-elements")
    fields = {name: values for name, values in fields.items() if values}
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
    found += _day_ranges("", one, ("handling",))
    price_currency = price[1] if price else None
    for group in groups.get("shipping", []):
        found += shipping_violations(group, price_currency)
        if "min_handling_time" in one or "max_handling_time" in one:
            if "min_handling_time" in group or "max_handling_time" in group:
                found.append("shipping: handling time sent both inside and beside the group")
    return found


def shipping_violations(group: Group, price_currency: str | None) -> list[str]:
    """Every rule one shipping group breaks, as 'shipping: reason'."""
    found = [
        f"shipping: {name!r} is not a sub-attribute" for name in group if name not in SHIPPING_PARTS
    ]
    found += [f"shipping: {name} given {len(v)} times" for name, v in group.items() if len(v) > 1]
    one = {name: values[0] for name, values in group.items()}
    found += [f"shipping: {name} sent empty" for name, value in one.items() if not value.strip()]
    found += [
        f"shipping: {name}: forbidden character" for name, v in one.items() if _BAD_CHARS.search(v)
    ]
    country = one.get("country")
    if country is None:
        found.append("shipping: country missing")
    elif country not in COUNTRIES:
        found.append(f"shipping: country {country!r} is not an ISO 3166-1 alpha-2 code")
    areas = [name for name in DELIVERY_AREAS if name in one]
    if len(areas) > 1:
        found.append(f"shipping: more than one delivery area: {', '.join(areas)}")
    if "price" not in one:
        found.append("shipping: price missing")
    else:
        found += _shipping_price(one["price"], price_currency)
    found += _day_ranges("shipping: ", one, ("handling", "transit"))
    if ("max_handling_time" in one) != ("max_transit_time" in one):
        found.append("shipping: a delivery estimate needs max_handling_time and max_transit_time")
    return found


def _shipping_price(text: str, price_currency: str | None) -> list[str]:
    """A shipping cost: '<number> <ISO 4217>', zero or more, in the currency's decimals and the
    item price's currency."""
    price = _price(text)
    if price is None:
        return [f"shipping: price {text!r} is not '<number> <ISO 4217>'"]
    amount, currency = price
    decimals = MINOR_UNITS.get(currency, 2)
    found = []
    if -amount.as_tuple().exponent > decimals:
        found.append(f"shipping: price {text!r}: {currency} has {decimals} decimals")
    if price_currency is not None and currency != price_currency:
        found.append(f"shipping: price {text!r} not in the item's currency {price_currency}")
    return found


def _day_ranges(prefix: str, one: dict[str, str], kinds: tuple[str, ...]) -> list[str]:
    """min_/max_<kind>_time: whole numbers of days, a minimum only beside a maximum it does not
    pass."""
    found = []
    for kind in kinds:
        low, high = one.get(f"min_{kind}_time"), one.get(f"max_{kind}_time")
        for name, value in ((f"min_{kind}_time", low), (f"max_{kind}_time", high)):
            if value is not None and not _DAYS.match(value):
                found.append(f"{prefix}{name} {value!r} is not a whole number of days")
        if low is not None and high is None:
            found.append(f"{prefix}min_{kind}_time without max_{kind}_time")
        elif low and high and _DAYS.match(low) and _DAYS.match(high) and int(low) > int(high):
            found.append(f"{prefix}min_{kind}_time {low} > max_{kind}_time {high}")
    return found


def feed_items(feed: bytes) -> list[Fields]:
    """The items of an RSS 2.0 feed as attribute -> values (g: namespace stripped); an element
    with sub-elements is a group: a dict of sub-attribute -> values (a part outside the g:
    namespace keeps its full '{namespace}name')."""
    root = etree.fromstring(feed)
    assert root.tag == "rss" and root.get("version") == "2.0", "not an RSS 2.0 feed"
    assert root.nsmap.get("g") == G.strip("{}"), "g namespace not declared on the root"
    items = []
    for item in root.iter("item"):
        fields: Fields = defaultdict(list)
        for child in item:
            if isinstance(child.tag, str) and child.tag.startswith(G):
                fields[child.tag[len(G) :]].append(
                    _group(child) if len(child) else child.text or ""
                )
        items.append(dict(fields))
    return items


def _group(element: etree._Element) -> Group:
    """A grouped attribute's parts, as part name -> texts."""
    parts: Group = defaultdict(list)
    for child in element:
        if isinstance(child.tag, str):
            tag = child.tag if child.tag.startswith("{") else f"{{}}{child.tag}"
            parts[tag.removeprefix(G)].append(child.text or "")
    return dict(parts)


def violations(feed: bytes, *, target_country: str | None = None) -> list[str]:
    """Every rule the whole feed breaks, one line each naming the item.

    ``target_country`` switches on the check Google runs for the country a feed targets when the
    merchant set no shipping in Merchant Center: where shipping costs are required
    (SHIPPING_REQUIRED), every item needs a shipping group for that country.
    """
    items = feed_items(feed)
    texts = [{k: [v for v in vs if isinstance(v, str)] for k, vs in i.items()} for i in items]
    labels = [(t.get("id") or ["?"])[0] for t in texts]
    found = [
        f"item {n}: {v}" for n, i in zip(labels, items, strict=True) for v in item_violations(i)
    ]
    if target_country in SHIPPING_REQUIRED:
        found += [
            f"item {n}: shipping: none for {target_country}, where Google requires shipping "
            "costs (unless they are set in Merchant Center)"
            for n, i in zip(labels, items, strict=True)
            if not any(
                isinstance(g, dict) and g.get("country") == [target_country]
                for g in i.get("shipping", [])
            )
        ]
    ids = Counter(i["id"][0].casefold() for i in texts if i.get("id"))
    found += [f"id {k!r} used {n} times" for k, n in ids.items() if n > 1]
    gtins = Counter(i["gtin"][0].zfill(14) for i in texts if i.get("gtin"))  # GS1 pads to 14
    found += [f"gtin {k} sent on {n} items" for k, n in gtins.items() if n > 1]
    groups: dict[str, list[dict[str, list[str]]]] = defaultdict(list)
    for item in texts:
        if item.get("item_group_id"):
            groups[item["item_group_id"][0]].append(item)
    for group_id, members in groups.items():
        keys = Counter(tuple((m.get(k) or [""])[0] for k in DISTINCT_BY) for m in members)
        clashes = [key for key, n in keys.items() if n > 1]
        if clashes:
            found.append(f"item_group_id {group_id}: variants agree on {DISTINCT_BY}: {clashes}")
    return found
