"""The merchant's feed rules: each field and operator, ordering, actions, limits and bad files."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import api_samples
import pytest
from api_samples import variant
from feedapp_dev.sandbox.catalogue import generate_catalogue, generate_categories, generate_product
from lxml import etree

from feedapp.feed.diagnostics import BuildDiagnostics
from feedapp.feed.mapping import CatalogContext, Item, MappedProduct, StoreInfo, map_product
from feedapp.feed.options import FeedOptions, FieldError
from feedapp.feed.problems import MESSAGES, PROBLEM_CODES
from feedapp.feed.rules import (
    FIELD_TYPES,
    MAX_FILE_BYTES,
    MAX_LABEL_VALUES,
    MAX_RULES,
    OPERATORS,
    PLACEHOLDERS,
    LabelLedger,
    Rule,
    RuleContext,
    RuleError,
    RuleSet,
    dump_rules,
    load_rules,
    parse_rules,
    preview,
)
from feedapp.feed.xmlfeed import GOOGLE_NS, Channel, FeedWriter

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "rules-example.json"
G = f"{{{GOOGLE_NS}}}"
NOW = datetime(2024, 6, 1, 12, tzinfo=UTC).timestamp()
DAY = 86_400
STORE = StoreInfo(code="tienda", name="Tienda", url="https://www.tienda.cl", currency="CLP")
CATEGORIES = [
    {"category": {"id": 10, "name": "Ropa", "parent_id": None}},
    {"category": {"id": 11, "name": "Poleras", "parent_id": 10}},
    {"category": {"id": 12, "name": "Poleras de niño", "parent_id": 11}},
    {"category": {"id": 20, "name": "Ofertas", "parent_id": None}},
]
CATALOG = CatalogContext(CATEGORIES)
CONTEXT = RuleContext(CATEGORIES, now=NOW)
HIT = {"kind": "custom_label_0", "value": "hit"}


def stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def product(**overrides: object) -> dict:
    """A plain available product with stock, created ten days ago, as the API sends it."""
    return api_samples.product(
        **{"featured": False, "created_at": stamp(NOW - 10 * DAY), **overrides}
    )


def rule(*conditions: dict, actions: list[dict] | None = None, **extra: object) -> dict:
    data = {"name": extra.pop("name", "R"), "conditions": list(conditions)}
    data["actions"] = actions if actions is not None else [HIT]
    data.update(extra)
    return data


def compiled(*raw_rules: dict) -> RuleSet:
    rules, errors = parse_rules({"version": 1, "rules": list(raw_rules)})
    assert not errors, errors
    return RuleSet(rules)


def mapped(data: dict, options: FeedOptions | None = None) -> MappedProduct:
    return map_product({"product": data}, STORE, options or FeedOptions(), CATALOG)


def run(data: dict, *raw_rules: dict, options: FeedOptions | None = None) -> MappedProduct:
    return compiled(*raw_rules).apply(data, mapped(data, options), CONTEXT)


def values(item: Item) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in item.fields:
        out.setdefault(name, value)
    return out


def hits(data: dict, *conditions: dict, match: str = "all") -> list[str]:
    """Ids of the items a rule with these conditions labels."""
    result = run(data, rule(*conditions, match=match))
    return [i.id for i in result.items if values(i).get("custom_label_0") == "hit"]


def cond(field: str, operator: str, value: object = None) -> dict:
    data = {"field": field, "operator": operator}
    if value is not None:
        data["value"] = value
    return data


def one_error(data: object) -> RuleError:
    rules, errors = parse_rules(data)
    assert rules == [] and len(errors) == 1, errors
    return errors[0]


# --- every field and operator ------------------------------------------------------------------

NOT_AVAILABLE_TOO = FeedOptions(include_not_available=True)
CASES = [
    # text, case-insensitive, on the name as plain text
    ("name", "equals", "POLERA BÁSICA", {}, True),
    ("name", "equals", "polera", {}, False),
    ("name", "not_equals", "polera básica", {}, False),
    ("name", "contains", "básica", {}, True),
    ("name", "contains", "b.sica", {}, False),  # no regular expressions
    ("name", "not_contains", "zapato", {}, True),
    ("name", "starts_with", "polera", {}, True),
    ("name", "starts_with", "básica", {}, False),
    ("name", "in", ["x", "Polera Básica"], {}, True),
    ("name", "not_in", ["x", "y"], {}, True),
    ("name", "equals", "polera básica", {"name": "<b>Polera</b> B&aacute;sica"}, True),
    ("name", "present", None, {}, True),
    ("brand", "equals", "andes", {}, True),
    ("brand", "absent", None, {"brand": ""}, True),
    ("brand", "present", None, {"brand": None}, False),
    ("sku", "starts_with", "pol-", {}, True),
    ("sku", "absent", None, {"sku": " "}, True),
    ("barcode", "present", None, {}, False),
    ("barcode", "present", None, {"barcode": "7501031311309"}, True),
    ("barcode", "absent", None, {}, True),
    ("product_type", "equals", "ropa > poleras", {}, True),
    ("product_type", "contains", "ofertas", {}, False),
    # numbers: what the shopper pays
    ("price", "<", 13000, {}, True),
    ("price", "<", 12990, {}, False),
    ("price", "<=", 12990, {}, True),
    ("price", ">", 12990, {}, False),
    ("price", ">=", "12990", {}, True),
    ("price", "equals", 12990.0, {"price": "12990.00"}, True),
    ("price", "not_equals", 12990, {}, False),
    ("price", "present", None, {}, True),
    ("stock", ">", 5, {}, True),
    ("stock", "<", 5, {}, False),
    ("stock", ">", 1_000_000, {"stock": 0, "stock_unlimited": True}, True),
    ("stock", "<", 1, {"stock": 0, "stock_unlimited": True}, False),
    ("stock", "absent", None, {"stock": None}, True),
    ("stock", "<=", 0, {"stock": 0}, True),
    # yes/no
    ("sale", "is_true", None, {"compare_at_price": 15990}, True),
    ("sale", "is_true", None, {"compare_at_price": 9990}, False),  # not higher: no sale price
    ("sale", "is_false", None, {}, True),
    ("featured", "is_true", None, {"featured": True}, True),
    ("featured", "is_false", None, {"featured": None}, True),
    # choices
    ("availability", "equals", "in_stock", {}, True),
    ("availability", "equals", "out_of_stock", {"stock": 0}, True),
    ("availability", "in", ["out_of_stock"], {}, False),
    ("availability", "not_in", ["out_of_stock"], {}, True),
    ("status", "equals", "Available", {}, True),
    ("status", "not_equals", "available", {}, False),
    ("status", "in", ["not-available"], {"status": "not-available"}, True),
    # categories cover their subcategories, not their parents
    ("category", "in", [10], {}, True),
    ("category", "in", [11], {}, True),
    ("category", "in", ["20", 99], {}, False),
    ("category", "not_in", [10], {}, False),
    ("category", "in", 10, {"categories": [{"id": 12}]}, True),
    ("category", "in", [12], {}, False),
    ("category", "in", [20], {"categories": [{"category": {"id": 20}}, {"id": 12}]}, True),
    # ids
    ("product_id", "equals", 1001, {}, True),
    ("product_id", "in", ["7", "1001"], {}, True),
    ("product_id", "not_equals", "1001", {}, False),
    ("product_id", "not_in", [1001], {"id": "1002"}, True),
    # created in the last N days, by the build's clock
    ("created", "within_days", 30, {}, True),
    ("created", "within_days", 30, {"created_at": stamp(NOW - 40 * DAY)}, False),
    ("created", "within_days", "7", {"created_at": "2024-05-30T08:00:00"}, True),
    ("created", "not_within_days", 30, {"created_at": stamp(NOW - 40 * DAY)}, True),
    ("created", "within_days", 30, {"created_at": "yesterday"}, False),
    ("created", "not_within_days", 30, {"created_at": None}, True),
    ("created", "absent", None, {"created_at": None}, True),
    ("created", "present", None, {}, True),
]


@pytest.mark.parametrize(("field", "operator", "value", "overrides", "expected"), CASES)
def test_each_field_and_operator(
    field: str, operator: str, value: object, overrides: dict, expected: bool
) -> None:
    data = product(**overrides)
    result = run(data, rule(cond(field, operator, value)), options=NOT_AVAILABLE_TOO)
    assert len(result.items) == 1, result.problems
    assert (values(result.items[0]).get("custom_label_0") == "hit") is expected


def test_every_field_type_and_operator_is_covered() -> None:
    covered = {(FIELD_TYPES[f], o) for f, o, *_ in CASES}
    assert covered == {(kind, o) for kind in set(FIELD_TYPES.values()) for o in OPERATORS[kind]}
    assert {f for f, *_ in CASES} == set(FIELD_TYPES) - {"option"}  # option: with variants below


def test_variant_fields_come_from_the_variant() -> None:
    data = product(
        variants=[
            variant(1, ("Color", "Rojo"), ("Talla", "S"), price=9990),
            variant(2, ("Color", "Azul"), ("Talla", "M"), sku="", stock=0),
        ]
    )
    assert hits(data, cond("option:talla", "equals", "m")) == ["1001-2"]
    assert hits(data, cond("option:Color", "in", ["rojo", "verde"])) == ["1001-1"]
    assert hits(data, cond("option", "equals", "azul")) == ["1001-2"]
    assert hits(data, cond("option", "contains", "o")) == ["1001-1"]
    assert hits(data, cond("option", "not_contains", "ZU")) == ["1001-1"]
    assert hits(data, cond("option:Talla", "not_equals", "s")) == ["1001-2"]
    assert hits(data, cond("option:Material", "absent")) == ["1001-1", "1001-2"]
    assert hits(data, cond("option:Material", "present")) == []
    assert hits(data, cond("price", "<", 10000)) == ["1001-1"]  # its own price
    assert hits(data, cond("sku", "equals", "POL-1")) == ["1001-2"]  # the product's, as mapping
    assert hits(data, cond("stock", "equals", 0)) == ["1001-2"]
    assert hits(data, cond("availability", "equals", "out_of_stock")) == ["1001-2"]
    assert hits(product(), cond("option", "absent")) == ["1001"]


def test_all_needs_every_condition_and_any_needs_one() -> None:
    yes, no = cond("brand", "equals", "andes"), cond("price", ">", 50000)
    assert hits(product(), yes, no, match="all") == []
    assert hits(product(), yes, no, match="any") == ["1001"]
    assert hits(product(), no, yes, match="any") == ["1001"]
    assert hits(product(), no, no, match="any") == []
    assert hits(product(), yes, yes, match="all") == ["1001"]


def test_a_rule_without_conditions_matches_every_item() -> None:
    data = product(variants=[variant(1, ("Talla", "S")), variant(2, ("Talla", "M"))])
    assert hits(data) == ["1001-1", "1001-2"]
    assert hits(data, match="any") == ["1001-1", "1001-2"]


# --- order and override ------------------------------------------------------------------------


def label(name: str, value: str, *conditions: dict, kind: str = "custom_label_0") -> dict:
    return rule(*conditions, name=name, actions=[{"kind": kind, "value": value}])


def exclude(name: str, *conditions: dict) -> dict:
    return rule(*conditions, name=name, actions=[{"kind": "exclude"}])


def test_later_rules_override_what_earlier_ones_set() -> None:
    result = run(
        product(), label("A", "first"), label("B", "second"), label("C", "x", kind="brand")
    )
    assert values(result.items[0])["custom_label_0"] == "second"
    assert values(result.items[0])["brand"] == "x"
    unmatched = run(product(), label("A", "first"), label("B", "2nd", cond("price", ">", 10**6)))
    assert values(unmatched.items[0])["custom_label_0"] == "first"


def test_the_first_excluding_rule_wins_and_ends_the_item() -> None:
    result = run(product(), label("Label", "x"), exclude("Hide"), exclude("Hide too"))
    assert result.items == []
    assert [(p.code, p.detail) for p in result.problems if p.code == "excluded_by_rule"] == [
        ("excluded_by_rule", "Hide")
    ]


def test_disabled_rules_do_nothing() -> None:
    hide = exclude("Hide") | {"enabled": False}
    result = run(product(), hide, label("Label", "x"))
    assert [values(i)["custom_label_0"] for i in result.items] == ["x"]


def test_conditions_read_jumpseller_not_what_earlier_rules_set() -> None:
    result = run(
        product(brand="Andes"),
        label("Rename", "Sur", kind="brand"),
        label("Only Sur", "sur", cond("brand", "equals", "sur")),
    )
    assert values(result.items[0])["brand"] == "Sur"
    assert "custom_label_0" not in values(result.items[0])


def test_promotion_ids_add_up_without_repeats() -> None:
    promo = {"kind": "promotion_id"}
    result = run(
        product(),
        rule(name="A", actions=[promo | {"value": "verano_24"}]),
        rule(name="B", actions=[promo | {"value": "envio-gratis"}]),
        rule(name="C", actions=[promo | {"value": "verano_24"}]),
    )
    ids = [v for n, v in result.items[0].fields if n == "promotion_id"]
    assert ids == ["verano_24", "envio-gratis"]


def test_patterns_see_the_values_rules_set() -> None:
    result = run(
        product(brand=""),
        rule(name="Title", actions=[{"kind": "title", "value": "{brand} {name}"}]),
        label("Brand", "Andes", kind="brand"),
    )
    assert values(result.items[0])["title"] == "Andes Polera Básica"


# --- each action -------------------------------------------------------------------------------


def test_exclude_leaves_the_item_out_with_a_problem_naming_the_rule() -> None:
    data = product(variants=[variant(1, ("Talla", "S")), variant(2, ("Talla", "M"))])
    result = run(data, exclude("Sin talla M", cond("option:Talla", "equals", "M")))
    assert [i.id for i in result.items] == ["1001-1"]
    problem = next(p for p in result.problems if p.code == "excluded_by_rule")
    assert (problem.severity, problem.detail) == ("excluded", "Sin talla M")
    assert (problem.product_id, problem.variant_id, problem.item_id) == ("1001", "2", "1001-2")
    assert problem.product_name == "Polera Básica"
    assert "%(detail)s" in MESSAGES["excluded_by_rule"][1]


def test_an_exclusion_is_not_an_error_of_the_feed() -> None:
    data = product(variants=[variant(1, ("Talla", "S")), variant(2, ("Talla", "M"))])
    diagnostics = BuildDiagnostics()
    diagnostics.add(run(data, exclude("Hide M", cond("option", "equals", "m"))))
    assert diagnostics.errors == 0
    assert (diagnostics.items_written, diagnostics.items_left_out) == (1, 1)
    assert PROBLEM_CODES["excluded_by_rule"] not in ("error", "warning")


@pytest.mark.parametrize("n", range(5))
def test_each_custom_label(n: int) -> None:
    result = run(product(), label("L", "Verano {brand}", kind=f"custom_label_{n}"))
    assert values(result.items[0])[f"custom_label_{n}"] == "Verano Andes"


@pytest.mark.parametrize(
    ("kind", "value", "written"),
    [
        ("brand", "<b>Marca</b> Sur", "Marca Sur"),
        ("condition", "refurbished", "refurbished"),
        ("google_product_category", "Apparel & Accessories > Shoes", "187"),
        ("google_product_category", "212", "212"),
        ("product_type", "Ropa > Verano", "Ropa > Verano"),
        ("custom_label_2", "<script>x()</script><b>Oferta</b> &amp; más", "Oferta & más"),
        ("promotion_id", "verano_24", "verano_24"),
    ],
)
def test_each_set_action(kind: str, value: str, written: str) -> None:
    result = run(product(), label("Set", value, kind=kind))
    assert values(result.items[0])[kind] == written
    assert [v for n, v in result.items[0].fields if n == kind] == [written]


def test_a_brand_from_a_rule_clears_the_missing_brand_warning() -> None:
    assert "brand_missing" in [p.code for p in mapped(product(brand="")).problems]
    result = run(product(brand=""), label("Brand", "Andes", kind="brand"))
    assert "brand_missing" not in [p.code for p in result.problems]
    partly = run(
        product(brand="", variants=[variant(1, ("Talla", "S")), variant(2, ("Talla", "M"))]),
        label("Brand", "Andes", cond("option", "equals", "s"), kind="brand"),
    )
    assert "brand_missing" in [p.code for p in partly.problems]


def title_of(data: dict, pattern: str) -> str:
    result = run(data, rule(name="T", actions=[{"kind": "title", "value": pattern}]))
    return values(result.items[0])["title"]


def test_title_rewrite_with_name_brand_options_and_any_field() -> None:
    data = product(variants=[variant(7, ("Color", "Rojo"), ("Talla", "M"), sku="POL-7")])
    assert title_of(data, "{brand} {name} - {options}") == "Andes Polera Básica - Rojo / M"
    assert title_of(data, "{name} ({sku}, {id}-{variant_id})") == "Polera Básica (POL-7, 1001-7)"
    assert title_of(data, "{title} | {color} | {size}") == "Polera Básica - Rojo / M | Rojo | M"
    assert title_of(product(brand=""), "{brand} - {name} [{options}]") == "Polera Básica"
    assert title_of(product(name="<i>Polera</i> &amp; Co"), "{name}!") == "Polera & Co!"


def test_a_long_title_is_cut_at_a_word_and_reported() -> None:
    name = " ".join(["Polera"] * 30)
    data = product(name=name, variants=[variant(1, ("Talla", "XL"))])
    result = run(data, rule(name="T", actions=[{"kind": "title", "value": "{name} {options}"}]))
    title = values(result.items[0])["title"]
    assert len(title) <= 150 and title.endswith("Polera XL")  # the name is shortened first
    assert [p.code for p in result.problems].count("title_truncated") == 1


def test_a_long_label_is_cut_at_a_word() -> None:
    data = product(name=" ".join(["Algodón"] * 30))
    result = run(data, label("L", "{name}"))
    assert len(values(result.items[0])["custom_label_0"]) <= 100
    assert values(result.items[0])["custom_label_0"].endswith("Algodón")


def test_an_empty_label_pattern_sends_no_label() -> None:
    result = run(product(brand=""), label("L", "{brand}"))
    assert "custom_label_0" not in values(result.items[0])


def test_no_rules_leave_the_mapping_as_it_is() -> None:
    before = mapped(product())
    assert RuleSet([]).apply(product(), before, CONTEXT) is before
    unmatched = compiled(exclude("Never", cond("price", ">", 10**9)))
    assert unmatched.apply(product(), before, CONTEXT).items == before.items


# --- feed-wide label limit ---------------------------------------------------------------------


def labelled(n: int, value: str) -> MappedProduct:
    item = Item(id=str(n), fields=[("id", str(n)), ("custom_label_3", value)])
    return MappedProduct(items=[item], product_id=str(n), product_name=f"P{n}")


def test_a_label_keeps_at_most_1000_distinct_values_per_feed() -> None:
    ledger = LabelLedger()
    for n in range(MAX_LABEL_VALUES):
        product_ = labelled(n, f"v{n}")
        ledger.settle(product_)
        assert product_.items[0].fields[-1] == ("custom_label_3", f"v{n}")
    over = labelled(5000, "one too many")
    again = labelled(5001, "V7")  # already counted, whatever the case
    ledger.settle(over)
    ledger.settle(again)
    assert over.items[0].fields == [("id", "5000")]
    assert [(p.code, p.severity, p.detail) for p in over.problems] == [
        ("custom_label_overflow", "warning", "custom_label_3: one too many")
    ]
    assert again.items[0].fields[-1] == ("custom_label_3", "V7") and not again.problems


# --- the file format ---------------------------------------------------------------------------


def test_rules_round_trip_through_the_file_format() -> None:
    rules, errors = load_rules(EXAMPLE.read_text(encoding="utf-8"))
    assert not errors and len(rules) == 6
    assert parse_rules(json.loads(json.dumps(dump_rules(rules))))[0] == rules
    for one in rules:
        assert Rule.from_dict(one.to_dict()) == one
    with pytest.raises(ValueError, match="rules\\[0\\].name"):
        Rule.from_dict({"name": "", "actions": [{"kind": "exclude"}]})


def test_a_file_with_three_mistakes_gives_three_messages_and_no_rules() -> None:
    data = {
        "version": 1,
        "rules": [
            rule(cond("colour", "equals", "rojo"), name="Rojos"),
            label("Largo", "x" * 101, kind="custom_label_1"),
            rule(cond("name", ">", 3), name="Nombre"),
            label("Bien", "ok"),
        ],
    }
    rules, errors = load_rules(json.dumps(data))
    assert rules == []
    assert [e.place for e in errors] == [
        "rules[0].conditions[0].field",
        "rules[1].actions[0].value",
        "rules[2].conditions[0].operator",
    ]
    assert errors[1].error == FieldError("At most %(limit)d characters.", {"limit": 100})
    assert errors[2].error.msgid == "This field takes the operators %(allowed)s."
    assert "equals" in str(errors[2].error.params["allowed"])


@pytest.mark.parametrize(
    ("raw", "place", "msgid"),
    [
        (rule(name="A") | {"condtions": []}, "rules[0].condtions", "Unknown key; use %(allowed)s."),
        ({"actions": [HIT]}, "rules[0].name", "Enter text."),
        (rule(name=" "), "rules[0].name", "Enter a value."),
        (rule(match="most"), "rules[0].match", "Choose all or any."),
        (rule(enabled="yes"), "rules[0].enabled", "Choose true or false."),
        (rule(actions=[]), "rules[0].actions", "Each rule needs at least one action."),
        (rule(actions=None) | {"actions": None}, "rules[0].actions", "This must be a list."),
        ("rule", "rules[0]", "Each rule must be an object with a name, conditions and actions."),
        (
            rule(cond("created", "within_days", 0)),
            "rules[0].conditions[0].value",
            "Enter a whole number of days from 1 to %(limit)d.",
        ),
        (rule(cond("price", "<", "cheap")), "rules[0].conditions[0].value", "Enter a number."),
        (rule(cond("price", "<", True)), "rules[0].conditions[0].value", "Enter a number."),
        (
            rule(cond("availability", "equals", "instock")),
            "rules[0].conditions[0].value",
            "Choose one of %(allowed)s.",
        ),
        (
            rule(cond("category", "in", [10, "a b"])),
            "rules[0].conditions[0].value[1]",
            "Enter a category id.",
        ),
        (
            rule(cond("category", "in", [99])),
            "rules[0].conditions[0].value[0]",
            "The store has no category with the id %(id)s.",
        ),
        (
            rule(cond("name", "in", ["x"] * 101)),
            "rules[0].conditions[0].value",
            "Enter a list of 1 to %(limit)d values.",
        ),
        (
            rule(cond("name", "contains", "x" * 201)),
            "rules[0].conditions[0].value",
            "At most %(limit)d characters.",
        ),
        (rule(cond("name", "equals", "")), "rules[0].conditions[0].value", "Enter a value."),
        (
            rule(cond("sale", "is_true", "yes")),
            "rules[0].conditions[0].value",
            "This operator takes no value.",
        ),
        (
            rule(cond("option:", "equals", "M")),
            "rules[0].conditions[0].field",
            "Name an option after option:, in at most %(limit)d characters.",
        ),
        (
            rule(*[cond("name", "present")] * 21),
            "rules[0].conditions",
            "At most %(limit)d conditions per rule.",
        ),
        (
            rule(actions=[{"kind": "exclude", "value": "x"}]),
            "rules[0].actions[0].value",
            "This action takes no value.",
        ),
        (
            rule(actions=[{"kind": "exclude"}, HIT]),
            "rules[0].actions",
            "A rule that excludes items cannot also set values.",
        ),
        (
            rule(actions=[HIT, HIT]),
            "rules[0].actions[1].kind",
            "This rule already sets this attribute.",
        ),
        (
            rule(actions=[{"kind": "custom_label_5", "value": "x"}]),
            "rules[0].actions[0].kind",
            "Unknown action; use %(allowed)s.",
        ),
        (
            label("T", "{name} {colour}", kind="title"),
            "rules[0].actions[0].value",
            "Unknown placeholder %(placeholder)s; use %(allowed)s.",
        ),
        (
            label("T", "{brand} oferta", kind="title"),
            "rules[0].actions[0].value",
            "The title pattern must contain {name} or {title}.",
        ),
        (
            label("P", "verano 24", kind="promotion_id"),
            "rules[0].actions[0].value",
            "Use 1 to 50 letters, digits, '_' or '-'.",
        ),
        (
            label("B", "Genérico", kind="brand"),
            "rules[0].actions[0].value",
            "Google refuses placeholder brands; leave it empty instead.",
        ),
        (
            label("C", "broken", kind="condition"),
            "rules[0].actions[0].value",
            "Choose new, refurbished or used.",
        ),
        (
            label("G", "Shoes > Magic", kind="google_product_category"),
            "rules[0].actions[0].value",
            "Pick a category from Google's list.",
        ),
        (label("L", 42), "rules[0].actions[0].value", "Enter text."),
    ],
)
def test_each_mistake_gives_one_message_with_its_place(raw: object, place: str, msgid: str) -> None:
    known = CONTEXT.knows
    rules, errors = parse_rules({"version": 1, "rules": [raw]}, known_category=known)
    assert rules == [] and [(e.place, e.error.msgid) for e in errors] == [(place, msgid)]


def test_file_level_mistakes() -> None:
    assert one_error([]).place == ""
    assert one_error({"version": 2, "rules": []}).place == "version"
    assert one_error({"version": True, "rules": []}).place == "version"
    assert one_error({"version": 1}).place == "rules"
    twice = one_error({"version": 1, "rules": [label("Same", "a"), label("SAME", "b")]})
    assert (twice.place, twice.error.msgid) == (
        "rules[1].name",
        "Another rule already has this name.",
    )
    assert parse_rules({"version": 1, "rules": []}) == ([], [])


def test_oversized_input_is_refused_early_with_one_message() -> None:
    big = json.dumps({"version": 1, "rules": [label("x", "y" * 1000)] * 5000})
    assert len(big) > 5_000_000
    rules, errors = load_rules(big)
    assert rules == [] and [(e.place, e.error.params) for e in errors] == [
        ("", {"limit": MAX_FILE_BYTES // 1024})
    ]
    many = {"version": 1, "rules": ["not even a rule"] * 10_000}
    rules, errors = parse_rules(many)
    assert rules == [] and [(e.place, e.error.msgid) for e in errors] == [
        ("rules", "At most %(limit)d rules per feed.")
    ]
    assert errors[0].error.params == {"limit": MAX_RULES}


def test_broken_json_is_one_message() -> None:
    rules, errors = load_rules('{"version": 1, "rules": [\n  {"name": "x",}\n]}')
    assert rules == [] and errors == [
        RuleError(
            "",
            FieldError(
                "The file is not valid JSON (line %(line)d, column %(column)d).",
                {"line": 2, "column": 16},
            ),
        )
    ]
    nested = load_rules("[" * 200_000)
    assert nested[0] == [] and len(nested[1]) == 1
    assert load_rules(b"\xff\xfe\x00")[1][0].place == ""


def test_many_mistakes_are_capped() -> None:
    twice_wrong = [rule(cond("x", "equals", 1), name=str(n), match="both") for n in range(100)]
    rules, errors = parse_rules({"version": 1, "rules": twice_wrong})
    assert rules == [] and len(errors) == 100
    assert [e.place for e in errors[:2]] == ["rules[0].match", "rules[0].conditions[0].field"]


def test_a_byte_order_mark_is_not_a_mistake() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert load_rules("\ufeff" + text) == load_rules(text.encode("utf-8-sig")) == load_rules(text)


# --- the README's example on the sandbox store -------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> tuple[list[dict], list[dict]]:
    return generate_catalogue(300)


def build(tmp_path: Path, name: str, products: list[dict], rules: list[Rule], categories: list):
    """Map, apply the rules, write the feed: as a build does, for one feed of the store."""
    catalog, context, ruleset = CatalogContext(categories), RuleContext(categories), RuleSet(rules)
    diagnostics, ledger = BuildDiagnostics(), LabelLedger()
    problems = []
    with FeedWriter(tmp_path, "sandbox", name, channel=Channel("S", "https://s.cl", "S")) as out:
        for data in products:
            result = ruleset.apply(data, map_product(data, STORE, FeedOptions(), catalog), context)
            ledger.settle(result)
            for item in result.items:
                out.write(item)
            diagnostics.add(result)
            problems += result.problems
    items = {
        el.findtext(f"{G}id"): {child.tag.removeprefix(G): child.text for child in el}
        for el in etree.parse(str(out.path)).iter("item")
    }
    return items, problems, diagnostics


def test_the_readme_example_on_the_sandbox_catalogue(tmp_path: Path, sandbox: tuple) -> None:
    products, categories = sandbox
    rules, errors = load_rules(EXAMPLE.read_bytes(), known_category=RuleContext(categories).knows)
    assert not errors
    plain, _, plain_diagnostics = build(tmp_path, "plain", products, [], categories)
    ruled, problems, diagnostics = build(tmp_path, "ruled", products, rules, categories)

    excluded = {p.item_id: p.detail for p in problems if p.code == "excluded_by_rule"}
    assert excluded and set(excluded.values()) == {"Leave out cheap office supplies"}
    assert not set(excluded) & set(ruled)  # absent from this feed ...
    assert set(excluded) <= set(plain)  # ... and only from this one
    assert set(ruled) | set(excluded) == set(plain)
    assert diagnostics.errors == plain_diagnostics.errors
    for item_id in excluded:
        assert int(plain[item_id]["price"].split()[0]) < 10000

    labels = Counter((k, v) for item in ruled.values() for k, v in item.items() if "label" in k)
    assert set(labels) == {
        ("custom_label_0", "ropa"),
        ("custom_label_1", "oferta"),
        ("custom_label_2", "premium"),
        ("custom_label_3", "pocas unidades"),
        ("custom_label_4", "destacado"),
    }
    on_sale = [i for i in ruled.values() if "sale_price" in i]
    assert on_sale and all(i["custom_label_1"] == "oferta" for i in on_sale)
    assert all(i["promotion_id"] == "ofertas_2024" for i in on_sale)

    clothes = [k for k, i in ruled.items() if i.get("custom_label_0") == "ropa" and "brand" in i]
    assert clothes
    for item_id in clothes:
        brand, old = ruled[item_id]["brand"], plain[item_id]["title"]
        assert ruled[item_id]["title"].startswith(f"{brand} "), (brand, old)
        assert not old.startswith(brand)
    untouched = [k for k, i in ruled.items() if "custom_label_0" not in i]
    assert all(ruled[k]["title"] == plain[k]["title"] for k in untouched)


def test_the_readme_example_says_what_it_does() -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert data["description"] and all(r["description"] for r in data["rules"])
    kinds = {a["kind"] for r in data["rules"] for a in r["actions"]}
    assert {"exclude", "title", "custom_label_0", "promotion_id"} <= kinds


def test_rules_survive_a_hostile_catalogue() -> None:
    """Every field read and every placeholder filled on imported junk: no crash, no markup."""
    categories = generate_categories()
    everything = [
        cond(f, "present")
        for f in ("name", "brand", "sku", "barcode", "product_type", "option", "option:Color")
    ]
    everything += [cond("price", ">", 0), cond("stock", "<", 5), cond("created", "within_days", 9)]
    everything += [cond("category", "in", [30000]), cond("sale", "is_true")]
    pattern = " ".join(f"{{{key}}}" for key in PLACEHOLDERS)
    ruleset = compiled(
        rule(*everything, match="any", actions=[{"kind": "title", "value": pattern}]),
        label("Label", "{sku} {barcode} {options}", kind="custom_label_4"),
    )
    catalog, context = CatalogContext(categories), RuleContext(categories)
    for index in range(300):
        data = generate_product(index, seed=3, categories=categories, hostile_share=1.0).product
        result = ruleset.apply(data, map_product(data, STORE, FeedOptions(), catalog), context)
        for item in result.items:
            fields = values(item)
            assert 0 < len(fields["title"]) <= 150 and "<" not in fields["title"]
            assert len(fields.get("custom_label_4", "")) <= 100


# --- preview -----------------------------------------------------------------------------------


def test_preview_counts_matches_and_shows_five_examples(sandbox: tuple) -> None:
    products, categories = sandbox
    catalog, context = CatalogContext(categories), RuleContext(categories)
    rules, _ = load_rules(EXAMPLE.read_bytes())
    off = Rule("Everything, off", actions=rules[3].actions, enabled=False)
    report = preview(
        [*rules, off],
        products[:120],
        context,
        lambda p: map_product(p, STORE, FeedOptions(), catalog),
    )
    build_counts = Counter()
    ruleset = RuleSet(rules)
    for data in products[:120]:
        result = ruleset.apply(data, map_product(data, STORE, FeedOptions(), catalog), context)
        build_counts["items"] += len(result.items)
        build_counts["excluded"] += sum(p.code == "excluded_by_rule" for p in result.problems)
    assert report.items == build_counts["items"] + build_counts["excluded"]
    assert report.excluded == build_counts["excluded"] > 0
    by_name = {r.name: r for r in report.rules}
    assert by_name["Leave out cheap office supplies"].matched == report.excluded
    assert by_name["Everything, off"].matched == report.items - report.excluded
    assert not by_name["Everything, off"].enabled
    for one in report.rules:
        assert len(one.examples) == min(5, one.matched)
    clothing = by_name["Clothing: brand first"].examples[0]
    assert clothing.values["custom_label_0"] == "ropa"
    assert clothing.title == clothing.values["title"]
    assert by_name["Premium"].examples[0].values == {"custom_label_2": "premium"}


# --- cost --------------------------------------------------------------------------------------


def test_rules_cost_one_check_per_rule_and_item(sandbox: tuple) -> None:
    """Linear by construction: every item tries each enabled rule once; prints the time per item."""
    products, categories = sandbox
    catalog, context = CatalogContext(categories), RuleContext(categories)
    rules, _ = load_rules(EXAMPLE.read_bytes())
    rules = rules[1:]  # nothing excluded: every item reaches every rule
    pairs = [(p, map_product(p, STORE, FeedOptions(), catalog)) for p in products]
    per_round = sum(len(m.items) for _, m in pairs)
    for rounds in (10, 100):
        ruleset = RuleSet(rules)
        started = time.perf_counter()
        for _ in range(rounds):
            for data, result in pairs:
                ruleset.apply(data, result, context)
        took = time.perf_counter() - started
        items = rounds * per_round
        assert ruleset.checks == items * len(rules)
        print(f"{items} items x {len(rules)} rules: {took:.2f}s, {took / items * 1e6:.1f} µs/item")
