"""Feed options: server-side validation with a message per field; unknown stored keys ignored."""

from __future__ import annotations

from feedapp.feed.options import FeedOptions, FieldError, validate_options
from feedapp.feed.taxonomy import lookup


def known(value: str) -> bool:
    return lookup(value) is not None


def test_defaults_validate_clean() -> None:
    form = {**FeedOptions().to_dict(), "include_out_of_stock": "on"}
    form = {k: ",".join(v) if isinstance(v, list) else v for k, v in form.items()}
    options, errors = validate_options(form, known_category=known)
    assert errors == {}
    assert options.include_out_of_stock and options.color_options[0] == "color"


def test_each_bad_field_gets_its_message() -> None:
    form = {
        "default_brand": "N/A",
        "condition": "broken",
        "gender": "robot",
        "age_group": "old",
        "title_pattern": "{options} {price}",
        "utm_source": "a b",
        "frequency_hours": "5",
        "default_google_category": "Not > A Category",
        "category_map": {"12": "999999"},
        "color_options": "x" * 60,
    }
    _, errors = validate_options(form, known_category=known)
    assert set(errors) == {
        "default_brand",
        "condition",
        "gender",
        "age_group",
        "title_pattern",
        "utm_source",
        "frequency_hours",
        "default_google_category",
        "category_map.12",
        "color_options",
    }
    # Message ids with their values, translated by the page (never English text here).
    assert errors["title_pattern"] == FieldError(
        "Unknown placeholder %(placeholder)s; use %(allowed)s.",
        {"placeholder": "{price}", "allowed": "{name}, {options}, {brand}"},
    )
    _, long = validate_options({"default_brand": "x" * 71, "utm_campaign": "y" * 101})
    assert long["default_brand"] == FieldError("At most %(limit)d characters.", {"limit": 70})
    assert long["utm_campaign"].params == {"limit": 100}


def test_taxonomy_ids_and_paths_are_accepted() -> None:
    form = {"default_google_category": "1604", "category_map": {"3": "Apparel & Accessories"}}
    options, errors = validate_options(form, known_category=known)
    assert errors == {} and options.category_map == {"3": "Apparel & Accessories"}


def test_stored_options_with_unknown_keys_still_load() -> None:
    options = FeedOptions.from_dict({"condition": "used", "retired_setting": 1})
    assert options.condition == "used"
    assert options.option_kind("Talla") == "size" and options.option_kind("Peso") is None
