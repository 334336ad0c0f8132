"""A feed's shipping: the merchant's settings refused field by field, Google's shipping group per
item, written by the real writer and judged by the independent rules in `google_rules`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google_rules import feed_items, violations
from lxml import etree

from feedapp.feed.mapping import CatalogContext, Item, StoreInfo, map_product
from feedapp.feed.options import FeedOptions
from feedapp.feed.shipping import (
    MAX_DAYS,
    ShippingOptions,
    shipping_cost,
    shipping_fields,
    validate_shipping,
)
from feedapp.feed.xmlfeed import GOOGLE_NS, Channel, FeedWriter

G = f"{{{GOOGLE_NS}}}"
CATALOG = CatalogContext([])
CHILE = StoreInfo("tienda", "Tienda", "https://www.tienda.cl", "CLP", country="CL")
PORTUGAL = StoreInfo("loja", "Loja", "https://www.loja.pt", "EUR", country="PT")
#: The acceptance case: free above 50,000 CLP, else 3,990, for Chile.
CHILE_FORM = {
    "mode": "free_above",
    "flat_price": "3990",
    "free_above": "50000",
    "service": "Envío estándar",
    "min_handling_days": "1",
    "max_handling_days": "2",
    "min_transit_days": "2",
    "max_transit_days": "5",
}


def chile_options() -> ShippingOptions:
    options, errors = validate_shipping(CHILE_FORM, "CLP")
    assert errors == {}
    return options


def product(pid: int, price: float) -> dict:
    """A plain sellable product as Jumpseller's API sends it."""
    return {
        "id": pid,
        "name": f"Polera {pid}",
        "description": "<p>Polera de algodón.</p>",
        "price": price,
        "stock": 3,
        "status": "available",
        "permalink": f"polera-{pid}",
        "brand": "Andes",
        "images": [{"id": 1, "url": f"https://images.jumpseller.com/tienda/{pid}.jpg"}],
        "variants": [],
    }


def shipped_feed(
    folder: Path, store: StoreInfo, prices: dict[int, int], options: ShippingOptions
) -> bytes:
    """Products mapped by the real mapping, each item given its shipping group for the price the
    shopper pays (here the product's price, in minor units), written by the real writer."""
    decimals = {"CLP": 0, "EUR": 2, "BRL": 2}[store.currency]
    with FeedWriter(
        folder, store.code, "b1", channel=Channel.for_store(store.name, store.url)
    ) as w:
        for pid, price in prices.items():
            mapped = map_product(product(pid, price / 10**decimals), store, FeedOptions(), CATALOG)
            assert [p.code for p in mapped.problems if p.severity == "error"] == []
            for item in mapped.items:
                extra = shipping_fields(options, price, store.country, store.currency)
                w.write(Item(item.id, item.fields + extra))
    return w.path.read_bytes()


def shipping_of(feed: bytes) -> dict[str, list[tuple[str, str]]]:
    """Each item's g:shipping children as (name, text), parsed back by plain lxml."""
    root = etree.fromstring(feed)
    return {
        item.findtext(f"{G}id"): [(c.tag.removeprefix(G), c.text) for c in group]
        for item in root.iter("item")
        for group in item.iter(f"{G}shipping")
    }


# --- the acceptance case ---------------------------------------------------------------------


def test_free_above_50000_clp_else_3990_for_chile_on_every_item(tmp_path: Path) -> None:
    feed = shipped_feed(tmp_path, CHILE, {1: 59990, 2: 12990, 3: 50000}, chile_options())
    speed = [("min_handling_time", "1"), ("max_handling_time", "2")]
    speed += [("min_transit_time", "2"), ("max_transit_time", "5")]
    head = [("country", "CL"), ("service", "Envío estándar")]
    assert shipping_of(feed) == {
        "1": [*head, ("price", "0 CLP"), *speed],
        "2": [*head, ("price", "3990 CLP"), *speed],
        "3": [*head, ("price", "0 CLP"), *speed],  # the threshold itself ships free
    }
    assert b"<g:shipping><g:country>CL</g:country><g:service>" in feed
    assert feed.count(b"xmlns") == 1, "the group repeats no namespace declaration"
    assert [item["id"] for item in feed_items(feed)] == [["1"], ["2"], ["3"]]
    assert violations(feed) == []


def test_the_item_price_decides_free_above() -> None:
    options = chile_options()
    assert [shipping_cost(options, p) for p in (59990, 50000, 49999, 12990)] == [0, 0, 3990, 3990]
    assert shipping_cost(ShippingOptions("flat", "CLP", flat_price=2990), 99990) == 2990
    assert shipping_cost(ShippingOptions("free", "CLP"), 1) == 0


def test_portugal_needs_shipping_on_every_item_and_gets_it_in_euros(tmp_path: Path) -> None:
    form = {"mode": "free_above", "flat_price": "4.9", "free_above": "50.00"}
    options, errors = validate_shipping(form, "EUR")
    assert errors == {}
    assert (options.flat_price, options.free_above) == (490, 5000)
    feed = shipped_feed(tmp_path / "on", PORTUGAL, {1: 3990, 2: 5990}, options)
    assert shipping_of(feed) == {
        "1": [("country", "PT"), ("price", "4.90 EUR")],
        "2": [("country", "PT"), ("price", "0.00 EUR")],
    }
    assert violations(feed, target_country="PT") == []
    bare = shipped_feed(tmp_path / "off", PORTUGAL, {1: 3990}, ShippingOptions(currency="EUR"))
    assert b"shipping>" not in bare
    assert violations(bare) == [], "off by default: Merchant Center may hold the shipping"
    assert violations(bare, target_country="PT") == [
        "item 1: shipping: none for PT, where Google requires shipping costs (unless they are "
        "set in Merchant Center)"
    ]


def test_brazilian_reais_keep_two_decimals() -> None:
    options, errors = validate_shipping({"mode": "flat", "flat_price": "19.9"}, "BRL")
    assert errors == {} and options.flat_price == 1990
    assert shipping_fields(options, 4990, "BR", "BRL") == [
        ("shipping", (("country", "BR"), ("price", "19.90 BRL")))
    ]
    free, _ = validate_shipping({"mode": "free"}, "BRL")
    assert shipping_fields(free, 4990, "BR", "BRL")[0][1][1] == ("price", "0.00 BRL")


def test_no_shipping_writes_nothing_and_foreign_settings_are_never_written() -> None:
    assert shipping_fields(ShippingOptions(currency="CLP"), 12990, "CL", "CLP") == []
    with pytest.raises(ValueError, match="saved in CLP but this feed sells in EUR"):
        shipping_fields(chile_options(), 12990, "PT", "EUR")
    with pytest.raises(ValueError, match="not an ISO 3166-1 alpha-2"):
        shipping_fields(chile_options(), 12990, "Chile", "CLP")


def test_settings_survive_a_json_round_trip_and_unknown_keys() -> None:
    options = chile_options()
    stored = json.loads(json.dumps(options.to_dict()))
    assert ShippingOptions.from_dict({**stored, "retired_setting": 1}) == options
    assert ShippingOptions.from_dict(None) == ShippingOptions()


# --- the merchant's form, refused field by field ---------------------------------------------

NO_DECIMALS = "%(currency)s amounts have no decimals, e.g. %(example)s."
FEW_DECIMALS = "Use at most %(decimals)d decimals for %(currency)s, e.g. %(example)s."
AMOUNT = "Enter an amount in %(currency)s, e.g. %(example)s."
DAYS = "Enter a whole number of days from %(min)d to %(max)d."
BOTH = "Enter both the handling and the transit days, or neither."


@pytest.mark.parametrize(
    ("currency", "change", "field", "msgid", "params"),
    [
        (
            "CLP",
            {"mode": "express"},
            "mode",
            "Choose no shipping, a flat price, free shipping or free above an amount.",
            {},
        ),
        ("CLP", {"flat_price": ""}, "flat_price", AMOUNT, {"currency": "CLP", "example": "3990"}),
        ("CLP", {"flat_price": "3.990,5"}, "flat_price", AMOUNT, {"currency": "CLP"}),
        ("CLP", {"flat_price": "-3990"}, "flat_price", "The amount can't be negative.", {}),
        ("CLP", {"free_above": "50.000"}, "free_above", NO_DECIMALS, {"example": "3990"}),
        (
            "CLP",
            {"free_above": "0"},
            "free_above",
            "Enter an amount above zero, or choose free shipping.",
            {},
        ),
        (
            "CLP",
            {"free_above": "1" * 13},
            "free_above",
            "At most %(limit)d characters.",
            {"limit": 12},
        ),
        (
            "EUR",
            {"flat_price": "4.905", "free_above": "50"},
            "flat_price",
            FEW_DECIMALS,
            {"currency": "EUR", "decimals": 2, "example": "4.90"},
        ),
        (
            "BRL",
            {"flat_price": "19,90", "free_above": "199"},
            "flat_price",
            AMOUNT,
            {"currency": "BRL", "example": "4.90"},
        ),
        ("CLP", {"min_handling_days": "uno"}, "min_handling_days", DAYS, {"min": 0, "max": 100}),
        ("CLP", {"max_transit_days": "-1"}, "max_transit_days", DAYS, {}),
        ("CLP", {"max_transit_days": str(MAX_DAYS + 1)}, "max_transit_days", DAYS, {}),
        ("CLP", {"min_transit_days": "1.5"}, "min_transit_days", DAYS, {}),
        (
            "CLP",
            {"min_handling_days": "3"},
            "min_handling_days",
            "The minimum can't be more than the maximum.",
            {},
        ),
        (
            "CLP",
            {"max_transit_days": ""},
            "max_transit_days",
            "Enter the maximum too, or leave both empty.",
            {},
        ),
        ("CLP", {"min_transit_days": "", "max_transit_days": ""}, "max_transit_days", BOTH, {}),
        ("CLP", {"service": "x" * 101}, "service", "At most %(limit)d characters.", {"limit": 100}),
    ],
)
def test_each_bad_field_gets_its_own_message(
    currency: str, change: dict, field: str, msgid: str, params: dict
) -> None:
    _, errors = validate_shipping({**CHILE_FORM, **change}, currency)
    assert list(errors) == [field]
    assert errors[field].msgid == msgid
    assert params.items() <= dict(errors[field].params).items()


def test_fields_the_mode_does_not_use_are_ignored() -> None:
    junk = {"flat_price": "abc", "free_above": "-1"}
    free, errors = validate_shipping({**CHILE_FORM, **junk, "mode": "free"}, "CLP")
    assert errors == {} and (free.flat_price, free.free_above) == (None, None)
    none, errors = validate_shipping({**junk, "max_transit_days": "x"}, "CLP")
    assert errors == {} and none == ShippingOptions(currency="CLP")
    with pytest.raises(ValueError, match="ISO 4217"):
        validate_shipping(CHILE_FORM, "pesos")


# --- the writer's groups ----------------------------------------------------------------------


def test_the_writer_omits_empty_parts_and_empty_groups_and_refuses_deeper_nesting(
    tmp_path: Path,
) -> None:
    channel = Channel.for_store("Tienda", "https://www.tienda.cl")
    with FeedWriter(tmp_path, "tienda", "b1", channel=channel) as writer:
        group = (("country", "CL"), ("service", " "), ("region", None), ("price", "0 CLP"))
        writer.write(Item("1", [("id", "1"), ("shipping", group), ("title", "Polera")]))
        writer.write(Item("2", [("id", "2"), ("shipping", (("service", ""),))]))
    items = etree.parse(str(writer.path)).findall("channel/item")
    assert [[c.tag.removeprefix(G) for c in i.iter() if c is not i] for i in items] == [
        ["id", "shipping", "country", "price", "title"],
        ["id"],
    ]
    with pytest.raises(ValueError, match=r"shipping.price nests a group in a group"):
        with FeedWriter(tmp_path, "tienda", "b2", channel=channel) as writer:
            writer.write(Item("1", [("shipping", (("price", (("value", "1"),)),))]))
    with pytest.raises(ValueError, match="not a Google attribute name"):
        with FeedWriter(tmp_path, "tienda", "b3", channel=channel) as writer:
            writer.write(Item("1", [("shipping", (("Country!", "CL"),))]))


# --- the independent validator refuses malformed groups ---------------------------------------


def one_item_feed(folder: Path, shipping: object) -> bytes:
    """A valid CLP item carrying the given shipping value, through the real writer."""
    fields = [
        ("id", "1"),
        ("title", "Polera"),
        ("description", "Polera de algodón."),
        ("link", "https://www.tienda.cl/polera"),
        ("image_link", "https://images.jumpseller.com/tienda/1.jpg"),
        ("availability", "in_stock"),
        ("price", "12990 CLP"),
        ("shipping", shipping),
    ]
    channel = Channel.for_store("Tienda", "https://www.tienda.cl")
    with FeedWriter(folder, "tienda", "b1", channel=channel) as writer:
        writer.write(Item("1", fields))
    return writer.path.read_bytes()


@pytest.mark.parametrize(
    ("group", "violation"),
    [
        ((("country", "XX"), ("price", "3990 CLP")), "country 'XX' is not an ISO 3166-1"),
        ((("country", "CHL"), ("price", "3990 CLP")), "country 'CHL' is not an ISO 3166-1"),
        ((("price", "3990 CLP"),), "shipping: country missing"),
        ((("country", "CL"), ("service", "Estándar")), "shipping: price missing"),
        ((("country", "CL"), ("price", "3990.00 CLP")), "CLP has 0 decimals"),
        ((("country", "CL"), ("price", "-1 CLP")), "is not '<number> <ISO 4217>'"),
        ((("country", "CL"), ("price", "4.90 EUR")), "not in the item's currency CLP"),
        (
            (
                ("country", "CL"),
                ("price", "0 CLP"),
                ("max_handling_time", "1"),
                ("min_transit_time", "5"),
                ("max_transit_time", "3"),
            ),
            "shipping: min_transit_time 5 > max_transit_time 3",
        ),
        (
            (("country", "CL"), ("price", "0 CLP"), ("max_handling_time", "2")),
            "needs max_handling_time and max_transit_time",
        ),
        (
            (("country", "CL"), ("price", "0 CLP"), ("min_handling_time", "1")),
            "shipping: min_handling_time without max_handling_time",
        ),
        (
            (
                ("country", "CL"),
                ("price", "0 CLP"),
                ("max_handling_time", "1.5"),
                ("max_transit_time", "2"),
            ),
            "max_handling_time '1.5' is not a whole number of days",
        ),
        ((("country", "CL"), ("price", "0 CLP"), ("carrier", "x")), "'carrier' is not a sub-"),
        (
            (("country", "CL"), ("price", "0 CLP"), ("region", "RM"), ("postal_code", "83*")),
            "more than one delivery area",
        ),
        ("CL:::3990 CLP", "shipping: plain text where Google expects sub-elements"),
    ],
)
def test_the_validator_refuses_a_malformed_group(
    tmp_path: Path, group: object, violation: str
) -> None:
    found = violations(one_item_feed(tmp_path, group))
    assert len(found) == 1 and violation in found[0], found


def test_the_validator_refuses_parts_outside_google_s_namespace(tmp_path: Path) -> None:
    feed = one_item_feed(tmp_path, (("country", "CL"), ("price", "0 CLP")))
    feed = feed.replace(b"<g:country>CL</g:country>", b"<country>CL</country>")
    assert violations(feed) == [
        "item 1: shipping: '{}country' is not a sub-attribute",
        "item 1: shipping: country missing",
    ]
