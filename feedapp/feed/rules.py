"""The merchant's feed rules: which items to leave out and which attributes to set, in order.

A feed has an ordered list of rules. Each rule has a name, ``match`` (``all`` or ``any`` of its
conditions must hold) and actions. The JSON form (a file, or the store record) is::

    {"version": 1, "description": "optional, for people",
     "rules": [{"name": "Hide cheap accessories",    1-100 characters, unique whatever the case
                "description": "optional",           at most 500 characters
                "enabled": true,                     optional, true by default
                "match": "all",                      optional, "all" by default, or "any"
                "conditions": [{"field": "price", "operator": "<", "value": 5000}],
                "actions": [{"kind": "exclude"}]}]}

Fields and their operators (text compares ignore case; ``contains`` is a plain substring search):

- text ``name brand sku barcode product_type``, and ``option`` (any of the variant's option
  values) or ``option:Talla`` (the values of the option named Talla): ``equals not_equals contains
  not_contains starts_with in not_in present absent``.
- number ``price`` (what the shopper pays, the variant's own when it has one), ``stock`` (unlimited
  stock is above any number): ``equals not_equals < <= > >= present absent``.
- yes/no ``sale`` (the item goes out with a sale price: its compare-at price is higher),
  ``featured``: ``is_true is_false``.
- ``availability`` (``in_stock``, ``out_of_stock``), ``status`` (``available``,
  ``not-available``, ``disabled``): ``equals not_equals in not_in``.
- ``category`` (store category ids; a category covers its subcategories): ``in not_in``.
- ``product_id``: ``equals not_equals in not_in``.
- ``created``: ``within_days not_within_days`` (a whole number of days), ``present absent``.

Every ``not_…`` operator (and ``absent``, ``is_false``) is exactly the opposite of its pair, also
for a missing value. A rule without conditions matches every item.

Actions: ``exclude`` (alone in its rule), or set ``custom_label_0`` … ``custom_label_4``,
``brand``, ``condition``, ``google_product_category``, ``product_type``, ``title`` or
``promotion_id``.
``title`` and the custom labels are patterns: ``{name}``, ``{brand}``, ``{options}`` and the other
PLACEHOLDERS; an empty placeholder vanishes with the separator before it.

How a feed applies them, item by item (one item per variant):

1. Conditions read the product and variant as Jumpseller sent them and the item as the mapping
   made it (its availability, product_type, sale price), never values set by other rules, so each
   rule's match does not depend on the others.
2. Enabled rules are tried in order. The first matching rule that excludes leaves the item out
   (an ``excluded_by_rule`` problem names it) and ends the item's evaluation.
3. Otherwise each attribute takes its value from the last matching rule that sets it; every
   matching rule's ``promotion_id`` is added (Google takes up to 10 per item).
4. Patterns are filled in after the plain values are set: ``{brand}`` in a title is the brand the
   item ends up with. Titles are cut at a word to 150 characters, labels to 100.
5. Across a feed a label keeps at most 1000 distinct values (``LabelLedger``).

Matching costs a few closure calls per rule and item: rules are compiled once into a RuleSet, and
no merchant text is ever used as a regular expression.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from feedapp.feed import taxonomy
from feedapp.feed.currency import parse_decimal
from feedapp.feed.mapping import LIMITS, Item, MappedProduct
from feedapp.feed.options import CONDITIONS, FieldError
from feedapp.feed.problems import PROBLEM_CODES, Problem
from feedapp.feed.textclean import (
    clean_id,
    clean_text,
    cut_at_word,
    is_placeholder_brand,
    plain_text,
)
from feedapp.messages import N_

VERSION = 1
MAX_FILE_BYTES = 512 * 1024
MAX_RULES = 100
MAX_CONDITIONS = 20
MAX_ACTIONS = 12
MAX_LIST = 100
MAX_ERRORS = 100
MAX_NAME = 100
MAX_DESCRIPTION = 500
MAX_VALUE = 200
MAX_OPTION_NAME = 50
MAX_DAYS = 36_500
MAX_PATTERN = 200
MAX_LABEL = 100
MAX_LABEL_VALUES = 1000
MAX_PROMOTIONS = 10
PREVIEW_EXAMPLES = 5

LABELS = tuple(f"custom_label_{n}" for n in range(5))
#: Action kinds in the order their attributes are written.
ACTION_KINDS = (
    "exclude",
    "brand",
    "condition",
    "google_product_category",
    "product_type",
    "title",
    *LABELS,
    "promotion_id",
)
#: What title and label patterns may name, as ``{name}``.
PLACEHOLDERS = tuple(
    "name title brand options sku barcode id variant_id item_id product_type condition color "
    "size material pattern".split()
)
AVAILABILITIES = ("in_stock", "out_of_stock")
STATUSES = ("available", "not-available", "disabled")

_TEXT_OPS = tuple(
    "equals not_equals contains not_contains starts_with in not_in present absent".split()
)
_NUMBER_OPS = ("equals", "not_equals", "<", "<=", ">", ">=", "present", "absent")
#: The operators each field type takes.
OPERATORS: dict[str, tuple[str, ...]] = {
    "text": _TEXT_OPS,
    "number": _NUMBER_OPS,
    "flag": ("is_true", "is_false"),
    "choice": ("equals", "not_equals", "in", "not_in"),
    "category": ("in", "not_in"),
    "id": ("equals", "not_equals", "in", "not_in"),
    "date": ("within_days", "not_within_days", "present", "absent"),
}
_OPPOSITES = {
    "not_equals": "equals",
    "not_contains": "contains",
    "not_in": "in",
    "absent": "present",
    "is_false": "is_true",
    "not_within_days": "within_days",
}
_NO_VALUE = ("present", "absent", "is_true", "is_false")
_PROMOTION_ID = re.compile(r"[A-Za-z0-9_-]{1,50}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SEPARATORS = " \t\n\r\f\v-–—|:,;/·"
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_DAY = 86_400
_INFINITE = Decimal("Infinity")


# --- the rules as data -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on an item: a field, an operator and (for most operators) a value."""

    field: str
    operator: str
    value: object = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form; lists come back as lists."""
        data: dict[str, object] = {"field": self.field, "operator": self.operator}
        if self.value is not None:
            data["value"] = list(self.value) if isinstance(self.value, tuple) else self.value
        return data


@dataclass(frozen=True, slots=True)
class Action:
    """What a matching rule does: leave the item out, or set one attribute to a value."""

    kind: str
    value: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"kind": self.kind, "value": self.value} if self.value else {"kind": self.kind}


@dataclass(frozen=True, slots=True)
class Rule:
    """One named rule of a feed: when its conditions hold, its actions apply."""

    name: str
    conditions: tuple[Condition, ...] = ()
    actions: tuple[Action, ...] = ()
    match: str = "all"
    enabled: bool = True
    description: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, as the file format writes a rule."""
        data: dict[str, object] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        data["enabled"] = self.enabled
        data["match"] = self.match
        data["conditions"] = [c.to_dict() for c in self.conditions]
        data["actions"] = [a.to_dict() for a in self.actions]
        return data

    @classmethod
    def from_dict(cls, data: object) -> Rule:
        """A stored rule, checked as a file's would be; ValueError names what is wrong."""
        rules, errors = parse_rules({"version": VERSION, "rules": [data]})
        if errors:
            raise ValueError("; ".join(f"{e.place}: {e.error.msgid}" for e in errors))
        return rules[0]


@dataclass(frozen=True, slots=True)
class RuleError:
    """Why a rules file was refused: where (``rules[2].conditions[0].value``) and a message id."""

    place: str
    error: FieldError


def dump_rules(rules: Sequence[Rule], description: str = "") -> dict[str, object]:
    """The file form of a feed's rules; parse_rules reads it back unchanged."""
    data: dict[str, object] = {"version": VERSION}
    if description:
        data["description"] = description
    data["rules"] = [rule.to_dict() for rule in rules]
    return data


def load_rules(
    raw: str | bytes, *, known_category: Callable[[str], bool] | None = None
) -> tuple[list[Rule], list[RuleError]]:
    """A rules file's text as rules, or the reasons it was refused (then no rules at all)."""
    if len(raw) > MAX_FILE_BYTES:
        limit = {"limit": MAX_FILE_BYTES // 1024}
        return [], [RuleError("", FieldError(N_("The file is larger than %(limit)d KB."), limit))]
    try:  # a byte-order mark, as some editors write one, is not a mistake
        data = json.loads(
            raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.lstrip("\ufeff")
        )
    except json.JSONDecodeError as exc:
        where = {"line": exc.lineno, "column": exc.colno}
        message = N_("The file is not valid JSON (line %(line)d, column %(column)d).")
        return [], [RuleError("", FieldError(message, where))]
    except (RecursionError, UnicodeDecodeError):
        return [], [RuleError("", FieldError(N_("The file is not valid JSON.")))]
    return parse_rules(data, known_category=known_category)


def parse_rules(
    data: object, *, known_category: Callable[[str], bool] | None = None
) -> tuple[list[Rule], list[RuleError]]:
    """Checked rules from a parsed file, or every mistake with its place and no rules at all.

    ``known_category(id) -> bool`` checks store category ids when the store's tree is known.
    """
    return _Parser(known_category).run(data)


class _Parser:
    """One pass over a rules file, collecting every mistake (one message per mistake)."""

    def __init__(self, known_category: Callable[[str], bool] | None) -> None:
        self.known_category = known_category
        self.errors: list[RuleError] = []

    def fail(self, place: str, msgid: str, **params: object) -> None:
        """Record a mistake; past MAX_ERRORS the file is refused anyway, so stop listing."""
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RuleError(place, FieldError(msgid, params)))

    def run(self, data: object) -> tuple[list[Rule], list[RuleError]]:
        """The whole file: all its rules, or none when anything is wrong."""
        if not isinstance(data, dict):
            self.fail("", N_("The file must be a JSON object with a version and a list of rules."))
            return [], self.errors
        self.unknown_keys(data, "", ("version", "description", "rules"))
        version = data.get("version")
        if version != VERSION or isinstance(version, bool):
            self.fail("version", N_("Use version %(version)d."), version=VERSION)
        self.text(data, "description", "description", MAX_DESCRIPTION, required=False)
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list):
            self.fail("rules", N_("This must be a list."))
            return [], self.errors
        if len(raw_rules) > MAX_RULES:  # refused before looking inside: one message, early
            self.fail("rules", N_("At most %(limit)d rules per feed."), limit=MAX_RULES)
            return [], self.errors
        rules: list[Rule] = []
        names: set[str] = set()
        for index, raw in enumerate(raw_rules):
            rule = self.rule(raw, f"rules[{index}]", names)
            if rule is not None:
                rules.append(rule)
        return ([], self.errors) if self.errors else (rules, [])

    def unknown_keys(self, data: dict, place: str, allowed: tuple[str, ...]) -> None:
        """A misspelt key ("condtions") would silently widen a rule: refuse it."""
        for key in data:
            if key not in allowed:
                where = f"{place}.{key}" if place else str(key)
                self.fail(
                    where[:MAX_VALUE],
                    N_("Unknown key; use %(allowed)s."),
                    allowed=", ".join(allowed),
                )

    def text(self, data: dict, key: str, place: str, limit: int, required: bool = True) -> str:
        """A plain-text value (markup and entities removed), within ``limit`` characters."""
        raw = data.get(key)
        if raw is None and not required:
            return ""
        if not isinstance(raw, str):
            self.fail(place, N_("Enter text."))
            return ""
        value = plain_text(raw)[0]
        if len(value) > limit:
            self.fail(place, N_("At most %(limit)d characters."), limit=limit)
        elif not value and required:
            self.fail(place, N_("Enter a value."))
        return value

    def rule(self, raw: object, place: str, names: set[str]) -> Rule | None:
        """One rule, every part checked so each mistake in it gets its own message."""
        if not isinstance(raw, dict):
            self.fail(place, N_("Each rule must be an object with a name, conditions and actions."))
            return None
        before = len(self.errors)
        keys = ("name", "description", "enabled", "match", "conditions", "actions")
        self.unknown_keys(raw, place, keys)
        name = self.text(raw, "name", f"{place}.name", MAX_NAME)
        if name and name.casefold() in names:
            self.fail(f"{place}.name", N_("Another rule already has this name."))
        names.add(name.casefold())
        description = self.text(raw, "description", f"{place}.description", MAX_DESCRIPTION, False)
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            self.fail(f"{place}.enabled", N_("Choose true or false."))
        match = raw.get("match", "all")
        if match not in ("all", "any"):
            self.fail(f"{place}.match", N_("Choose all or any."))
        conditions = self.items(raw, "conditions", place, MAX_CONDITIONS, self.condition)
        actions = self.items(raw, "actions", place, MAX_ACTIONS, self.action)
        if "actions" in raw and isinstance(raw["actions"], list) and not raw["actions"]:
            self.fail(f"{place}.actions", N_("Each rule needs at least one action."))
        kinds = [a.kind for a in actions]
        if "exclude" in kinds and len(kinds) > 1:
            self.fail(f"{place}.actions", N_("A rule that excludes items cannot also set values."))
        if len(self.errors) > before:
            return None
        return Rule(name, tuple(conditions), tuple(actions), match, enabled, description)

    def items(self, raw: dict, key: str, place: str, limit: int, parse: Callable) -> list:
        """A rule's conditions or actions, refused whole (one message) past ``limit``."""
        values = raw.get(key, [] if key == "conditions" else None)
        if not isinstance(values, list):
            self.fail(f"{place}.{key}", N_("This must be a list."))
            return []
        if len(values) > limit:
            message = (
                N_("At most %(limit)d conditions per rule.")
                if key == "conditions"
                else N_("At most %(limit)d actions per rule.")
            )
            self.fail(f"{place}.{key}", message, limit=limit)
            return []
        seen: set[str] = set()
        parsed = [
            parse(value, f"{place}.{key}[{index}]", seen) for index, value in enumerate(values)
        ]
        return [p for p in parsed if p is not None]

    def condition(self, raw: object, place: str, _seen: set[str]) -> Condition | None:
        """Field, then operator, then value: the first wrong one is the mistake, not the rest."""
        if not isinstance(raw, dict):
            self.fail(place, N_("Each condition must be an object with a field and an operator."))
            return None
        self.unknown_keys(raw, place, ("field", "operator", "value"))
        name, operator = raw.get("field"), raw.get("operator")
        kind = _field_type(name) if isinstance(name, str) else None
        if kind is None:
            if isinstance(name, str) and name.startswith("option:"):
                self.fail(
                    f"{place}.field",
                    N_("Name an option after option:, in at most %(limit)d characters."),
                    limit=MAX_OPTION_NAME,
                )
            else:
                allowed = ", ".join([*_FIELDS, "option:<name>"])
                self.fail(f"{place}.field", N_("Unknown field; use %(allowed)s."), allowed=allowed)
            return None
        if operator not in OPERATORS[kind]:
            self.fail(
                f"{place}.operator",
                N_("This field takes the operators %(allowed)s."),
                allowed=", ".join(OPERATORS[kind]),
            )
            return None
        value = self.condition_value(raw.get("value"), kind, name, operator, f"{place}.value")
        return Condition(name, operator, value) if value is not _INVALID else None

    def condition_value(
        self, raw: object, kind: str, name: str, operator: str, place: str
    ) -> object:
        """The value an operator takes: none, a list (for in/not_in) or one of the field's type."""
        if operator in _NO_VALUE:
            if raw is not None:
                self.fail(place, N_("This operator takes no value."))
                return _INVALID
            return None
        if operator in ("in", "not_in"):
            values = raw if isinstance(raw, list) else [raw]
            if not values or len(values) > MAX_LIST:
                self.fail(place, N_("Enter a list of 1 to %(limit)d values."), limit=MAX_LIST)
                return _INVALID
            checked = []
            for index, one in enumerate(values):
                where = f"{place}[{index}]" if isinstance(raw, list) else place
                value = self.scalar(one, kind, name, where)
                if value is _INVALID:
                    return _INVALID
                checked.append(value)
            return tuple(checked)
        return self.scalar(raw, kind, name, place, days=operator.endswith("within_days"))

    def scalar(self, raw: object, kind: str, name: str, place: str, days: bool = False) -> object:
        """One value checked for its field's type, normalised so a round trip keeps it."""
        if days:
            number = _whole(raw)
            if number is None or not 1 <= number <= MAX_DAYS:
                self.fail(
                    place, N_("Enter a whole number of days from 1 to %(limit)d."), limit=MAX_DAYS
                )
                return _INVALID
            return number
        if kind == "number":
            amount = parse_decimal(raw) if not isinstance(raw, bool) else None
            if amount is None:
                self.fail(place, N_("Enter a number."))
                return _INVALID
            return int(amount) if amount == amount.to_integral_value() else float(amount)
        if kind == "choice":
            allowed = AVAILABILITIES if name == "availability" else STATUSES
            value = raw.strip().casefold() if isinstance(raw, str) else None
            if value not in allowed:
                self.fail(place, N_("Choose one of %(allowed)s."), allowed=", ".join(allowed))
                return _INVALID
            return value
        if kind in ("category", "id"):
            cid = clean_id(raw)
            if cid is None:
                message = N_("Enter a category id.") if kind == "category" else N_("Enter an id.")
                self.fail(place, message)
                return _INVALID
            if kind == "category" and self.known_category and not self.known_category(cid):
                self.fail(place, N_("The store has no category with the id %(id)s."), id=cid)
                return _INVALID
            return int(cid) if cid.isdigit() and len(cid) < 16 else cid
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            self.fail(place, N_("Enter text."))
            return _INVALID
        value = clean_text(raw)
        if not value:
            self.fail(place, N_("Enter a value."))
            return _INVALID
        if len(value) > MAX_VALUE:
            self.fail(place, N_("At most %(limit)d characters."), limit=MAX_VALUE)
            return _INVALID
        return value

    def action(self, raw: object, place: str, seen: set[str]) -> Action | None:
        """One action; each attribute may be set once per rule."""
        if not isinstance(raw, dict):
            self.fail(place, N_("Each action must be an object with a kind and a value."))
            return None
        self.unknown_keys(raw, place, ("kind", "value"))
        kind = raw.get("kind")
        if kind not in ACTION_KINDS:
            self.fail(
                f"{place}.kind",
                N_("Unknown action; use %(allowed)s."),
                allowed=", ".join(ACTION_KINDS),
            )
            return None
        if kind in seen:
            self.fail(f"{place}.kind", N_("This rule already sets this attribute."))
            return None
        seen.add(kind)
        where = f"{place}.value"
        if kind == "exclude":
            if raw.get("value") is not None:
                self.fail(where, N_("This action takes no value."))
                return None
            return Action(kind)
        limit = _ACTION_LIMITS.get(kind, MAX_PATTERN)
        value = self.text(raw, "value", where, limit)
        if not value or len(value) > limit:
            return None
        problem = _action_problem(kind, value)
        if problem is not None:
            self.fail(where, problem.msgid, **problem.params)
            return None
        return Action(kind, value)


_INVALID = object()
_ACTION_LIMITS = {
    "brand": LIMITS["brand"],
    "product_type": LIMITS["product_type"],
    **dict.fromkeys(LABELS, MAX_LABEL),
}


def _action_problem(kind: str, value: str) -> FieldError | None:
    """What is wrong with an action's (already plain, non-empty) value, if anything."""
    if kind == "brand" and is_placeholder_brand(value):
        return FieldError(N_("Google refuses placeholder brands; leave it empty instead."))
    if kind == "condition" and value not in CONDITIONS:
        return FieldError(N_("Choose new, refurbished or used."))
    if kind == "google_product_category" and taxonomy.lookup(value) is None:
        return FieldError(N_("Pick a category from Google's list."))
    if kind == "promotion_id" and not _PROMOTION_ID.fullmatch(value):
        return FieldError(N_("Use 1 to 50 letters, digits, '_' or '-'."))
    if kind == "title" or kind in LABELS:
        for key in _PLACEHOLDER.findall(value):
            if key not in PLACEHOLDERS:
                allowed = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                return FieldError(
                    N_("Unknown placeholder %(placeholder)s; use %(allowed)s."),
                    {"placeholder": f"{{{key}}}", "allowed": allowed},
                )
        if kind == "title" and "{name}" not in value and "{title}" not in value:
            return FieldError(N_("The title pattern must contain {name} or {title}."))
    return None


def _whole(raw: object) -> int | None:
    """A whole number from JSON or a form's text; None for anything else (True included)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        return int(raw.strip()) if len(raw.strip()) <= 9 else None
    return None


# --- what a rule reads from an item ------------------------------------------------------------


class RuleContext:
    """What rules need beyond one product: the store's category tree and the build's clock."""

    def __init__(
        self, categories: Iterable[Mapping[str, object]] = (), now: float | None = None
    ) -> None:
        self.now = time.time() if now is None else now
        self._parents: dict[str, str | None] = {}
        self._lineages: dict[str, frozenset[str]] = {}
        for raw in categories:  # the shape CatalogContext reads: {"category": {...}} or bare
            inner = raw.get("category") if isinstance(raw, Mapping) else None
            category = inner if isinstance(inner, Mapping) else raw
            key = clean_id(category.get("id")) if isinstance(category, Mapping) else None
            if key is not None:
                self._parents[key] = clean_id(category.get("parent_id"))

    def knows(self, category_id: str) -> bool:
        """Whether the store has this category, for checking a rule before it is saved."""
        return category_id in self._parents

    def lineage(self, category_id: str) -> frozenset[str]:
        """The category and every parent above it, so a rule on a parent covers its children."""
        found = self._lineages.get(category_id)
        if found is None:
            chain = [category_id]
            parent = self._parents.get(category_id)
            while parent is not None and parent not in chain and len(chain) < 50:
                chain.append(parent)
                parent = self._parents.get(parent)
            found = self._lineages[category_id] = frozenset(chain)
        return found


class _Product:
    """One product's facts, read once and shared by its items."""

    __slots__ = ("cache", "context", "data", "pid", "variants")

    def __init__(self, data: Mapping[str, object], context: RuleContext) -> None:
        self.data, self.context = data, context
        self.pid = clean_id(data.get("id")) or ""
        self.cache: dict[str, object] = {}
        raw = data.get("variants")
        self.variants = (
            {clean_id(v.get("id")): v for v in raw if isinstance(v, Mapping)}
            if isinstance(raw, list)
            else {}
        )


class _Subject:
    """One item as the rules see it: its product, its variant and the mapped attributes."""

    __slots__ = ("_fields", "cache", "item", "product", "variant")

    def __init__(self, product: _Product, item: Item) -> None:
        self.product, self.item = product, item
        vid = item.id.removeprefix(f"{product.pid}-") if item.id != product.pid else None
        self.variant = product.variants.get(vid) if vid else None
        self._fields: dict[str, str] | None = None
        self.cache: dict[str, object] = {}

    @property
    def fields(self) -> dict[str, str]:
        """The mapped item's attributes by name (the first value of each)."""
        if self._fields is None:
            self._fields = {}
            for name, value in self.item.fields:
                self._fields.setdefault(name, value)
        return self._fields

    def get(self, name: str, read: Callable[[_Subject], object], shared: bool) -> object:
        """The field's value, read at most once per item (per product when ``shared``)."""
        cache = self.product.cache if shared else self.cache
        try:
            return cache[name]
        except KeyError:
            value = cache[name] = read(self)
            return value

    def own(self, key: str) -> object:
        """The variant's value for ``key`` when it has one, else the product's (as mapping does)."""
        value = self.variant.get(key) if self.variant is not None else None
        if value is None or (isinstance(value, str) and not value.strip()):
            return self.product.data.get(key)
        return value

    def option_values(self, option: str | None) -> tuple[str, ...]:
        """The variant's option values (plain text), of every option or of the one named."""
        raw = self.variant.get("options") if self.variant is not None else None
        values = []
        for entry in raw if isinstance(raw, list) else []:
            if not isinstance(entry, Mapping):
                continue
            if option is not None and plain_text(entry.get("name"))[0].casefold() != option:
                continue
            value = plain_text(entry.get("value"))[0]
            if value:
                values.append(value)
        return tuple(values)


def _folded(value: object) -> str:
    """Merchant text as rules compare it: plain, without markup, in no particular case."""
    return plain_text(value)[0].casefold()


def _price(s: _Subject) -> Decimal | None:
    """What the shopper pays: the variant's own price when it has one, as the mapping reads it."""
    own = s.variant.get("price") if s.variant is not None else None
    if own is not None and not (isinstance(own, str) and not own.strip()):
        return parse_decimal(own)
    return parse_decimal(s.product.data.get("price"))


def _stock(s: _Subject) -> Decimal | None:
    """The stock, unlimited being above any number a rule can name."""
    unlimited = s.own("stock_unlimited")
    if unlimited is True or clean_text(unlimited).casefold() in ("true", "1"):
        return _INFINITE
    return parse_decimal(s.own("stock"))


def _categories(s: _Subject) -> frozenset[str]:
    """The product's categories and all their parents, so ``in [parent]`` finds it."""
    raw = s.product.data.get("categories")
    found: set[str] = set()
    for entry in raw if isinstance(raw, list) else []:
        inner = entry.get("category") if isinstance(entry, Mapping) else None
        category = inner if isinstance(inner, Mapping) else entry
        cid = clean_id(category.get("id")) if isinstance(category, Mapping) else None
        if cid is not None:
            found |= s.product.context.lineage(cid)
    return frozenset(found)


def _age(s: _Subject) -> float | None:
    """Seconds since the product was created, by the build's clock; None when unknown."""
    text = clean_text(s.product.data.get("created_at"))
    if not text or len(text) > 40:
        return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    created = (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
    return s.product.context.now - created


def _flag(value: object) -> bool:
    """A yes/no the API may send as a boolean or as text."""
    return value is True or clean_text(value).casefold() in ("true", "1")


#: field -> (type, reader, shared by every item of the product)
_FIELDS: dict[str, tuple[str, Callable[[_Subject], object], bool]] = {
    "name": ("text", lambda s: _folded(s.product.data.get("name")), True),
    "brand": ("text", lambda s: _folded(s.product.data.get("brand")), True),
    "sku": ("text", lambda s: clean_text(s.own("sku")).casefold(), False),
    "barcode": ("text", lambda s: clean_text(s.own("barcode")).casefold(), False),
    "product_type": ("text", lambda s: str(s.fields.get("product_type") or "").casefold(), False),
    "option": ("text", lambda s: tuple(v.casefold() for v in s.option_values(None)), False),
    "price": ("number", _price, False),
    "stock": ("number", _stock, False),
    "sale": ("flag", lambda s: bool(s.fields.get("sale_price")), False),
    "featured": ("flag", lambda s: _flag(s.product.data.get("featured")), True),
    "availability": ("choice", lambda s: str(s.fields.get("availability") or ""), False),
    "status": ("choice", lambda s: clean_text(s.product.data.get("status")).casefold(), True),
    "category": ("category", _categories, True),
    "product_id": ("id", lambda s: s.product.pid, True),
    "created": ("date", _age, True),
}


#: Each condition field and its type (see OPERATORS), for forms and documentation.
FIELD_TYPES: dict[str, str] = {name: kind for name, (kind, _, _) in _FIELDS.items()}


def _field_type(name: str) -> str | None:
    """The type of a condition field, ``option:<name>`` included; None when there is no such."""
    if name in _FIELDS:
        return _FIELDS[name][0]
    option = name.removeprefix("option:").strip()
    if name.startswith("option:") and option and len(option) <= MAX_OPTION_NAME:
        return "text"
    return None


def _reader(name: str) -> tuple[Callable[[_Subject], object], bool]:
    """How to read a field from an item, and whether the value is the same for the product."""
    if name in _FIELDS:
        return _FIELDS[name][1], _FIELDS[name][2]
    option = plain_text(name.removeprefix("option:"))[0].casefold()
    return (lambda s: tuple(v.casefold() for v in s.option_values(option))), False


# --- compiling conditions into closures --------------------------------------------------------


def _test(kind: str, operator: str, value: object) -> Callable:
    """The positive test ``operator`` makes on one value of a field of type ``kind``."""
    if operator == "present":
        return lambda v: v is not None and v != ""
    if operator == "is_true":
        return bool
    if operator == "within_days":
        seconds = int(value) * _DAY  # type: ignore[call-overload]
        return lambda v: v is not None and v <= seconds
    if kind == "number":
        target = Decimal(str(value))
        compare = {
            "equals": lambda v: v == target,
            "<": lambda v: v < target,
            "<=": lambda v: v <= target,
            ">": lambda v: v > target,
            ">=": lambda v: v >= target,
        }[operator]
        return lambda v: v is not None and compare(v)
    if kind == "category":
        wanted = frozenset(str(c) for c in value)  # type: ignore[union-attr]
        return lambda v: not wanted.isdisjoint(v)
    if operator == "in":
        options = frozenset(str(v).casefold() for v in value)  # type: ignore[union-attr]
        return lambda v: v in options
    needle = str(value).casefold()
    if operator == "contains":
        return lambda v: needle in v
    if operator == "starts_with":
        return lambda v: v.startswith(needle)
    return lambda v: v == needle


def _compile_condition(condition: Condition) -> Callable[[_Subject], bool]:
    """One closure per condition: read the field (cached per item), test, maybe negate."""
    name = condition.field
    kind = _field_type(name) or "text"
    read, shared = _reader(name)
    positive = _OPPOSITES.get(condition.operator, condition.operator)
    test = _test(kind, positive, condition.value)
    if name == "option" or name.startswith("option:"):
        single = test
        test = (lambda vs: bool(vs)) if positive == "present" else (lambda vs: any(map(single, vs)))
    if positive != condition.operator:
        return lambda s: not test(s.get(name, read, shared))
    return lambda s: test(s.get(name, read, shared))


def _combine(tests: list[Callable[[_Subject], bool]], match: str) -> Callable[[_Subject], bool]:
    """One closure for a rule's match; ``all``/``any`` stop at the first deciding condition."""
    if not tests:
        return lambda s: True
    if len(tests) == 1:
        return tests[0]
    if match == "any":
        return lambda s: any(t(s) for t in tests)
    return lambda s: all(t(s) for t in tests)


class _Template:
    """A title or label pattern split once into literal text and placeholders."""

    def __init__(self, pattern: str) -> None:
        """Split once: the pattern is already plain text (checked when the rule was read)."""
        pieces = _PLACEHOLDER.split(pattern)
        # odd positions are placeholder names; even ones literal text
        self.parts = [(i % 2 == 1, piece) for i, piece in enumerate(pieces) if piece or i % 2]
        self.keys = tuple(dict.fromkeys(p for is_key, p in self.parts if is_key))

    def render(self, values: Mapping[str, str]) -> str:
        """Fill in; an empty placeholder takes the separators before it (or after, at the start).

        One pass over the parts, like textclean's title rendering, so it stays linear.
        """
        out: list[str] = []
        leading = False
        for is_key, piece in self.parts:
            text = values.get(piece, "") if is_key else piece
            if is_key and not text:
                while out and not out[-1].rstrip(_SEPARATORS):
                    out.pop()
                if out:
                    out[-1] = out[-1].rstrip(_SEPARATORS)
                leading = not out
                continue
            if leading:
                text = text.lstrip(_SEPARATORS)
                leading = not text
            out.append(text)
        return " ".join(_EMPTY_BRACKETS.sub("", "".join(out)).split())


@dataclass(slots=True)
class _Compiled:
    """One rule ready to run: a match closure and the values it sets."""

    rule: Rule
    matches: Callable[[_Subject], bool]
    excludes: bool
    sets: dict[str, str]
    templates: dict[str, _Template]
    promotion: str | None


def _compile(rule: Rule) -> _Compiled:
    """Turn a rule into closures and ready values once, not once per item."""
    tests = [_compile_condition(c) for c in rule.conditions]
    sets: dict[str, str] = {}
    templates: dict[str, _Template] = {}
    promotion = None
    for action in rule.actions:
        if action.kind == "promotion_id":
            promotion = action.value
        elif action.kind == "title" or action.kind in LABELS:
            templates[action.kind] = _Template(action.value)
        elif action.kind == "google_product_category":
            found = taxonomy.lookup(action.value)
            if found is not None:
                sets[action.kind] = str(found[0])
        elif action.kind != "exclude":
            sets[action.kind] = action.value
    excludes = any(a.kind == "exclude" for a in rule.actions)
    return _Compiled(rule, _combine(tests, rule.match), excludes, sets, templates, promotion)


# --- applying rules to mapped products ---------------------------------------------------------

_SUBJECT_VALUES: dict[str, Callable[[_Subject], str]] = {
    "name": lambda s: plain_text(s.product.data.get("name"))[0],
    "options": lambda s: " / ".join(s.option_values(None)),
    "sku": lambda s: clean_text(s.own("sku")),
    "barcode": lambda s: clean_text(s.own("barcode")),
    "id": lambda s: s.product.pid,
    "variant_id": lambda s: (clean_id(s.variant.get("id")) or "") if s.variant else "",
    "item_id": lambda s: s.item.id,
}


@dataclass(slots=True)
class _Outcome:
    """What the rules make of one item: the rule that left it out, or its new fields."""

    excluded_by: str | None
    item: Item
    title_cut: bool = False
    branded: bool = False


def _rewrite(
    subject: _Subject,
    sets: Mapping[str, str],
    templates: Mapping[str, _Template],
    promotions: Sequence[str],
) -> tuple[Item, bool]:
    """The item with plain values set first, then patterns filled in from the result.

    An attribute the mapping wrote keeps its place; new ones (labels, promotions) come last.
    """
    changes = {kind: sets[kind] for kind in ACTION_KINDS if kind in sets}
    cut = False
    if templates:
        current = {**subject.fields, **changes}
        for kind in ACTION_KINDS:
            template = templates.get(kind)
            if template is None:
                continue
            values = {
                key: (_SUBJECT_VALUES[key](subject) if key in _SUBJECT_VALUES else current.get(key))
                or ""
                for key in template.keys
            }
            if kind == "title":
                changes["title"], cut = _title(template, values, current.get("title") or "")
            elif label := cut_at_word(template.render(values), MAX_LABEL):
                changes[kind] = label
    fields = [
        (name, changes.pop(name) if name in changes else value)
        for name, value in subject.item.fields
    ]
    fields += changes.items()
    fields += [("promotion_id", p) for p in list(dict.fromkeys(promotions))[:MAX_PROMOTIONS]]
    return Item(id=subject.item.id, fields=fields), cut


def _title(template: _Template, values: dict[str, str], mapped: str) -> tuple[str, bool]:
    """The rewritten title within Google's limit, shortening the name first as mapping does."""
    limit = LIMITS["title"]
    title = template.render(values) or mapped
    if len(title) <= limit:
        return title, False
    name = values.get("name", "")
    budget = len(name) - (len(title) - limit)
    if "name" in values and budget >= 30:
        title = template.render({**values, "name": cut_at_word(name, budget)}) or mapped
    return cut_at_word(title, limit), True


class RuleSet:
    """A feed's rules compiled once, then applied to every product of every build."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.compiled = [_compile(rule) for rule in rules]
        self._enabled = [c for c in self.compiled if c.rule.enabled]
        #: Rules tried, item by item: the work done, for checking that it grows linearly.
        self.checks = 0

    def __bool__(self) -> bool:
        """Whether any rule is on, so a build can skip the work entirely."""
        return bool(self._enabled)

    def decide(self, subject: _Subject) -> _Outcome:
        """Run the enabled rules on one item, in order (see the module's docstring)."""
        sets: dict[str, str] = {}
        templates: dict[str, _Template] = {}
        promotions: list[str] = []
        for compiled in self._enabled:
            self.checks += 1
            if not compiled.matches(subject):
                continue
            if compiled.excludes:
                return _Outcome(compiled.rule.name, subject.item)
            sets.update(compiled.sets)
            templates.update(compiled.templates)
            if compiled.promotion:
                promotions.append(compiled.promotion)
        if not (sets or templates or promotions):
            return _Outcome(None, subject.item)
        item, cut = _rewrite(subject, sets, templates, promotions)
        return _Outcome(None, item, cut, "brand" in sets)

    def apply(
        self, product: Mapping[str, object], mapped: MappedProduct, context: RuleContext
    ) -> MappedProduct:
        """The mapped product as this feed sends it: items left out or changed by the rules."""
        if not self._enabled or not mapped.items:
            return mapped
        facts = _Product(_unwrap(product), context)
        items: list[Item] = []
        problems = list(mapped.problems)
        branded = True
        for item in mapped.items:
            subject = _Subject(facts, item)
            outcome = self.decide(subject)
            variant = _variant_id(mapped, item)
            if outcome.excluded_by is not None:
                problems.append(_problem("excluded_by_rule", mapped, item, outcome.excluded_by))
                continue
            items.append(outcome.item)
            branded = branded and outcome.branded
            if outcome.title_cut and not any(
                p.code == "title_truncated" and p.item_id == item.id for p in problems
            ):
                problems.append(_problem("title_truncated", mapped, item, "", variant))
        if branded and items:  # every item got its brand from a rule: no brand warning is left
            problems = [
                p
                for p in problems
                if not (p.code in ("brand_missing", "brand_placeholder") and p.variant_id is None)
            ]
        return MappedProduct(items, problems, mapped.product_id, mapped.product_name, mapped.offers)


def _variant_id(mapped: MappedProduct, item: Item) -> str | None:
    """The variant part of an item id ("1001-7" -> "7"), as problems carry it."""
    variant = item.id.removeprefix(f"{mapped.product_id}-") if mapped.product_id else ""
    return variant if variant and variant != item.id else None


def _problem(
    code: str, mapped: MappedProduct, item: Item, detail: str, variant: str | None = None
) -> Problem:
    """A problem about one item, shaped as the mapping's own."""
    return Problem(
        code=code,
        severity=PROBLEM_CODES[code],
        product_id=mapped.product_id or item.id,
        variant_id=variant if variant is not None else _variant_id(mapped, item),
        item_id=item.id,
        product_name=mapped.product_name[:150],
        detail=detail[:MAX_NAME],
    )


def _unwrap(product: Mapping[str, object]) -> Mapping[str, object]:
    """The product inside the API's optional ``{"product": {...}}`` wrapper."""
    inner = product.get("product") if isinstance(product, Mapping) else None
    return inner if isinstance(inner, Mapping) else product


class LabelLedger:
    """Distinct values of each custom label across one feed: Google takes at most 1000 per label."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self.limit = limit
        self._seen: dict[str, set[str]] = {label: set() for label in LABELS}

    def settle(self, mapped: MappedProduct) -> None:
        """Drop, in place, each label value past the limit of distinct ones, and say so."""
        for index, item in enumerate(mapped.items):
            dropped = []
            for name, value in item.fields:
                seen = self._seen.get(name)
                if seen is None:
                    continue
                key = value.casefold()
                if key in seen:
                    continue
                if len(seen) < self.limit:
                    seen.add(key)
                else:
                    dropped.append((name, value))
            if dropped:
                fields = [pair for pair in item.fields if pair not in dropped]
                mapped.items[index] = Item(id=item.id, fields=fields)
                for name, value in dropped:
                    mapped.problems.append(
                        _problem("custom_label_overflow", mapped, item, f"{name}: {value}")
                    )

    def fits(self, labels: list[tuple[str, str]]) -> bool:
        """Whether these label values can all go out, within the limit of distinct values."""
        new: dict[str, set[str]] = {}
        for name, value in labels:
            seen = self._seen[name]
            key = value.casefold()
            if key not in seen:
                new.setdefault(name, set()).add(key)
        return all(len(self._seen[name]) + len(keys) <= self.limit for name, keys in new.items())

    def admit(self, labels: list[tuple[str, str]]) -> None:
        """Record label values that fit() let through."""
        for name, value in labels:
            self._seen[name].add(value.casefold())


# --- preview before saving ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreviewExample:
    """One item a rule matched: its id, its title in the feed and what the rule sets on it."""

    item_id: str
    title: str
    values: dict[str, str]


@dataclass(slots=True)
class RulePreview:
    """How many items one rule matches, with a few of them."""

    name: str
    enabled: bool
    excludes: bool
    matched: int = 0
    examples: list[PreviewExample] = field(default_factory=list)


@dataclass(slots=True)
class Preview:
    """What a list of rules would do to a sample of products, before the merchant saves it."""

    items: int = 0
    excluded: int = 0
    rules: list[RulePreview] = field(default_factory=list)


def preview(
    rules: Sequence[Rule],
    products: Iterable[Mapping[str, object]],
    context: RuleContext,
    map_one: Callable[[Mapping[str, object]], MappedProduct],
    examples: int = PREVIEW_EXAMPLES,
) -> Preview:
    """Per rule, the items it matches among ``products`` (mapped by ``map_one``), and examples.

    An item excluded by an earlier enabled rule reaches no later rule, as in a build; a disabled
    rule is shown as if it were on, without changing what the others see.
    """
    ruleset = RuleSet(rules)
    result = Preview(
        rules=[RulePreview(c.rule.name, c.rule.enabled, c.excludes) for c in ruleset.compiled]
    )
    for product in products:
        mapped = map_one(product)
        facts = _Product(_unwrap(product), context)
        for item in mapped.items:
            subject = _Subject(facts, item)
            result.items += 1
            outcome = ruleset.decide(subject)
            result.excluded += outcome.excluded_by is not None
            title = dict(outcome.item.fields).get("title", "")
            for compiled, report in zip(ruleset.compiled, result.rules, strict=True):
                if not compiled.matches(subject):
                    continue
                report.matched += 1
                if len(report.examples) < examples:
                    values = _own_values(compiled, subject)
                    report.examples.append(PreviewExample(item.id, title, values))
                if compiled.excludes and compiled.rule.enabled:
                    break  # the item reaches no later rule
    return result


def _own_values(compiled: _Compiled, subject: _Subject) -> dict[str, str]:
    """The attributes one rule alone would set on an item, as it would write them."""
    if compiled.excludes:
        return {}
    promotions = [compiled.promotion] if compiled.promotion else []
    item, _ = _rewrite(subject, compiled.sets, compiled.templates, promotions)
    before = set(subject.item.fields)
    return {name: value for name, value in item.fields if (name, value) not in before}
