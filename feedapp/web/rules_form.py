"""The rules editor's form: the page's fields for a feed's ordered rules, and the preview.

The editor posts a feed's rules as plain fields (``rules[2].name``,
``rules[2].conditions[0].value``...) so it works without JavaScript; this module turns them into
the rules file format of feedapp/feed/rules.py and back, applies the editor's buttons (add, move,
delete) to the unsaved list, places each validation message beside its field, and runs a preview
over the first products of the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from feedapp.builds.builder import map_safely, store_info
from feedapp.feed import rules as feed_rules
from feedapp.feed.mapping import CatalogContext
from feedapp.jumpseller.client import PAGE_SIZE, make_client
from feedapp.messages import N_
from feedapp.services import Services
from feedapp.storefeeds import StoreFeed
from feedapp.stores import Store
from feedapp.web import i18n

#: Products a preview reads: two API pages, enough to see what a rule catches.
PREVIEW_PRODUCTS = 2 * PAGE_SIZE

#: How the rules editor names each condition field (feedapp.feed.rules.FIELD_TYPES), and
#: "option:", which stands for ``option:<the name typed beside it>``.
FIELD_LABELS: dict[str, str] = {
    "name": N_("Product name"),
    "brand": N_("Brand"),
    "sku": N_("SKU"),
    "barcode": N_("Barcode"),
    "product_type": N_("Product type"),
    "option": N_("Any option value"),
    "option:": N_("The option named…"),
    "price": N_("Price"),
    "stock": N_("Stock"),
    "sale": N_("On sale"),
    "featured": N_("Featured"),
    "availability": N_("Availability (in_stock, out_of_stock)"),
    "status": N_("Status (available, not-available, disabled)"),
    "category": N_("Category ids"),
    "product_id": N_("Product id"),
    "created": N_("Created"),
}
#: How the editor words each operator (feedapp.feed.rules.OPERATORS).
OPERATOR_LABELS: dict[str, str] = {
    "equals": N_("is"),
    "not_equals": N_("is not"),
    "contains": N_("contains"),
    "not_contains": N_("does not contain"),
    "starts_with": N_("starts with"),
    "in": N_("is one of (separate with commas)"),
    "not_in": N_("is none of (separate with commas)"),
    "present": N_("has a value"),
    "absent": N_("has no value"),
    "<": N_("is less than"),
    "<=": N_("is at most"),
    ">": N_("is more than"),
    ">=": N_("is at least"),
    "is_true": N_("yes"),
    "is_false": N_("no"),
    "within_days": N_("within the last N days"),
    "not_within_days": N_("not within the last N days"),
}
#: Operators whose conditions have no value: the page hides the value box for them.
NO_VALUE_OPERATORS = ("present", "absent", "is_true", "is_false")
#: How the editor words each action (feedapp.feed.rules.ACTION_KINDS); labels take a number.
ACTION_LABELS: dict[str, str] = {
    "exclude": N_("Leave the item out of this feed"),
    "brand": N_("Set the brand to"),
    "condition": N_("Set the condition to (new, refurbished or used)"),
    "google_product_category": N_("Set the Google category to"),
    "product_type": N_("Set the product type to"),
    "title": N_("Set the title to (a pattern with {name})"),
    "promotion_id": N_("Add the promotion id"),
}
LABEL_ACTION = N_("Set custom label %(number)d to")
#: A rules form field: ``rules[2].name`` or ``rules[2].conditions[0].value``.
_RULE_FIELD = re.compile(r"rules\[(\d{1,3})\]\.(?:(conditions|actions)\[(\d{1,2})\]\.)?([a-z]+)")
EDIT_OP = re.compile(
    r"(add-rule)|(up|down|delete|add-condition|add-action)-(\d{1,3})"
    r"|(remove-condition|remove-action)-(\d{1,3})-(\d{1,2})"
)


def rules_draft(document: Mapping[str, object]) -> list[dict[str, Any]]:
    """A saved rules document as the editor shows it: every value as the text in its box."""
    draft = []
    raw_rules = document.get("rules")
    for raw in raw_rules if isinstance(raw_rules, list) else []:
        if not isinstance(raw, dict):
            continue
        conditions = []
        for condition in raw.get("conditions") or []:
            name = str(condition.get("field") or "")
            value = condition.get("value")
            text = ", ".join(map(str, value)) if isinstance(value, list) else value
            conditions.append(
                {
                    "field": "option:" if name.startswith("option:") else name,
                    "option": name.removeprefix("option:") if name.startswith("option:") else "",
                    "operator": str(condition.get("operator") or ""),
                    "value": "" if text is None else str(text),
                }
            )
        actions = [
            {"kind": str(a.get("kind") or ""), "value": str(a.get("value") or "")}
            for a in raw.get("actions") or []
        ]
        draft.append(
            {
                "name": str(raw.get("name") or ""),
                "description": str(raw.get("description") or ""),
                "enabled": raw.get("enabled", True) is not False,
                "match": "any" if raw.get("match") == "any" else "all",
                "conditions": conditions,
                "actions": actions,
            }
        )
    return draft


def posted_rules(form: Mapping[str, str]) -> list[dict[str, Any]]:
    """The editor's fields (``rules[0].conditions[1].value``...) as a list of rules, in order.

    Indexes past the rules module's limits are ignored, so a forged form costs no more work
    than the largest list the module accepts (each field's size is bounded by web.limits).
    """
    rules: dict[int, dict[str, Any]] = {}
    for name, value in form.items():
        found = _RULE_FIELD.fullmatch(name)
        if found is None:
            continue
        index, group, position, key = found.groups()
        if int(index) >= feed_rules.MAX_RULES:
            continue
        rule = rules.setdefault(int(index), {"conditions": {}, "actions": {}})
        text = str(value)
        if group is None:
            rule[key] = text
            continue
        limit = feed_rules.MAX_CONDITIONS if group == "conditions" else feed_rules.MAX_ACTIONS
        if int(position) < limit:
            rule[group].setdefault(int(position), {})[key] = text
    draft = []
    for index in sorted(rules):
        rule = rules[index]
        conditions = [rule["conditions"][n] for n in sorted(rule["conditions"])]
        actions = [rule["actions"][n] for n in sorted(rule["actions"])]
        draft.append(
            {
                "name": str(rule.get("name", "")),
                "description": str(rule.get("description", "")),
                "enabled": "enabled" in rule,
                "match": "any" if rule.get("match") == "any" else "all",
                "conditions": [
                    {key: str(c.get(key, "")) for key in ("field", "option", "operator", "value")}
                    for c in conditions
                ],
                "actions": [
                    {key: str(a.get(key, "")) for key in ("kind", "value")} for a in actions
                ],
            }
        )
    return draft


def edited(draft: list[dict[str, Any]], button: re.Match[str]) -> list[dict[str, Any]]:
    """The list after one of the editor's buttons: add, move or delete a rule or one of its rows."""
    add_rule, verb, index, row_verb, row_index, row = button.groups()
    if add_rule:
        if len(draft) < feed_rules.MAX_RULES:
            draft.append(_blank_rule())
        return draft
    position = int(index or row_index)
    if position >= len(draft):
        return draft
    rule = draft[position]
    conditions, actions = rule["conditions"], rule["actions"]
    if verb == "up" and position > 0:
        draft[position - 1], draft[position] = rule, draft[position - 1]
    elif verb == "down" and position + 1 < len(draft):
        draft[position + 1], draft[position] = rule, draft[position + 1]
    elif verb == "delete":
        del draft[position]
    elif verb == "add-condition" and len(conditions) < feed_rules.MAX_CONDITIONS:
        conditions.append({"field": "name", "option": "", "operator": "contains", "value": ""})
    elif verb == "add-action" and len(actions) < feed_rules.MAX_ACTIONS:
        actions.append({"kind": _free_label(actions), "value": ""})
    elif row_verb == "remove-condition" and int(row) < len(conditions):
        del conditions[int(row)]
    elif row_verb == "remove-action" and int(row) < len(actions):
        del actions[int(row)]
    return draft


def _blank_rule() -> dict[str, Any]:
    """A new rule as the editor first shows it: matching every item, setting a custom label."""
    return {
        "name": "",
        "description": "",
        "enabled": True,
        "match": "all",
        "conditions": [],
        "actions": [{"kind": "custom_label_0", "value": ""}],
    }


def _free_label(actions: list[dict[str, str]]) -> str:
    """The first custom label the rule does not set yet, for a new action row."""
    taken = {a.get("kind") for a in actions}
    return next((label for label in feed_rules.LABELS if label not in taken), "promotion_id")


def rules_document(draft: list[dict[str, Any]]) -> dict[str, object]:
    """The editor's list as the rules file format, for parse_rules to check every part of it."""
    rules = []
    for rule in draft:
        conditions = []
        for row in rule["conditions"]:
            name = row["field"]
            if name == "option:":
                name += row["option"].strip()
            condition: dict[str, object] = {"field": name, "operator": row["operator"]}
            text = row["value"].strip()
            if row["operator"] in ("in", "not_in"):
                condition["value"] = [part.strip() for part in text.split(",") if part.strip()]
            elif text:
                condition["value"] = text
            conditions.append(condition)
        actions = []
        for row in rule["actions"]:
            action = {"kind": row["kind"]}
            if row["kind"] != "exclude" or row["value"].strip():
                action["value"] = row["value"]
            actions.append(action)
        data: dict[str, object] = {"name": rule["name"]}
        if str(rule["description"]).strip():
            data["description"] = rule["description"]
        data.update(
            enabled=rule["enabled"], match=rule["match"], conditions=conditions, actions=actions
        )
        rules.append(data)
    return {"version": feed_rules.VERSION, "rules": rules}


def rule_errors(errors: list[feed_rules.RuleError], draft: list[dict[str, Any]]) -> dict[str, str]:
    """Each mistake beside the editor field it is about (a list's item beside the list's box)."""
    shown = _editor_places(draft)
    placed: dict[str, list[str]] = {}
    for error in errors:
        place = re.sub(r"(\.value)\[\d+\]$", r"\1", error.place)
        while place not in shown and "." in place:
            place = place.rsplit(".", 1)[0]
        if place not in shown:
            place = "rules"
        placed.setdefault(place, []).append(i18n.gettext(error.error.msgid, **error.error.params))
    return {place: " ".join(messages) for place, messages in placed.items()}


def _editor_places(draft: list[dict[str, Any]]) -> set[str]:
    """Every place the editor shows a message: fields, each rule's lists, and the whole list."""
    places = {"rules"}
    for index, rule in enumerate(draft):
        prefix = f"rules[{index}]"
        places |= {prefix, *(f"{prefix}.{key}" for key in ("name", "description", "match"))}
        places |= {f"{prefix}.conditions", f"{prefix}.actions"}
        for row in range(len(rule["conditions"])):
            places |= {f"{prefix}.conditions[{row}].{k}" for k in ("field", "operator", "value")}
        for row in range(len(rule["actions"])):
            places |= {f"{prefix}.actions[{row}].{k}" for k in ("kind", "value")}
    return places


def rules_editor() -> dict[str, object]:
    """The editor's choices in the page's language: fields, operators and actions."""
    fields = [
        {"value": name, "label": i18n.gettext(FIELD_LABELS[name]), "kind": kind}
        for name, kind in {**feed_rules.FIELD_TYPES, "option:": "text"}.items()
    ]
    kinds: dict[str, list[str]] = {}
    for kind, operators in feed_rules.OPERATORS.items():
        for operator in operators:
            kinds.setdefault(operator, []).append(kind)
    operators = [
        {
            "value": op,
            "label": i18n.gettext(OPERATOR_LABELS[op]),
            "kinds": " ".join(kinds[op]),
            "no_value": op in NO_VALUE_OPERATORS,
        }
        for op in kinds
    ]
    actions = [
        {
            "value": kind,
            "label": i18n.gettext(LABEL_ACTION, number=int(kind[-1]))
            if kind in feed_rules.LABELS
            else i18n.gettext(ACTION_LABELS[kind]),
        }
        for kind in feed_rules.ACTION_KINDS
    ]
    return {
        "fields": fields,
        "operators": operators,
        "actions": actions,
        "max_rules": feed_rules.MAX_RULES,
        "max_conditions": feed_rules.MAX_CONDITIONS,
        "max_actions": feed_rules.MAX_ACTIONS,
        "placeholders": ", ".join(f"{{{p}}}" for p in feed_rules.PLACEHOLDERS),
    }


def category_check(svc: Services, store: Store) -> Callable[[str], bool] | None:
    """Check category conditions against the store's categories, once they are known."""
    cached = svc.registry.get_json(store.code, "categories")
    if cached is None:
        return None
    return feed_rules.RuleContext(cached.get("categories") or []).knows


def preview_rules(
    svc: Services, store: Store, feed: StoreFeed, rules: list[feed_rules.Rule]
) -> dict[str, object]:
    """What ``rules`` would do to the first products of the catalogue, in the feed's language.

    Reads at most PREVIEW_PRODUCTS products (two API pages) and the cached categories; saves
    nothing (a token refresh aside, as any API call may need).
    """
    info = store_info(store, feed)
    categories = (svc.registry.get_json(store.code, "categories") or {}).get("categories") or []
    params: dict[str, object] = {"limit": PAGE_SIZE}
    if info.language:
        params["locale"] = info.language
    products: list[dict[str, Any]] = []
    client = make_client(svc, store.code)
    client.max_attempts = 2
    try:
        for number in range(1, PREVIEW_PRODUCTS // PAGE_SIZE + 1):
            batch = client.get("products.json", page=number, **params)
            rows = [row.get("product", row) for row in batch or [] if isinstance(row, dict)]
            products += [row for row in rows if isinstance(row, dict)]
            if len(rows) < PAGE_SIZE:
                break
    finally:
        client.close()
    catalog = CatalogContext(categories)
    result = feed_rules.preview(
        rules,
        products,
        feed_rules.RuleContext(categories),
        lambda product: map_safely(product, info, feed.options, catalog),
    )
    return {
        "products": len(products),
        "capped": len(products) >= PREVIEW_PRODUCTS,
        "item_count": result.items,
        "excluded": result.excluded,
        "rules": [
            {
                "name": rule.name,
                "enabled": rule.enabled,
                "excludes": rule.excludes,
                "matched": rule.matched,
                "examples": [
                    {"item_id": e.item_id, "title": e.title, "changes": sorted(e.values.items())}
                    for e in rule.examples
                ],
            }
            for rule in result.rules
        ],
    }
