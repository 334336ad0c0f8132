"""The merchant's feed options: one record shared by the mapping, the store record and the page."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from types import MappingProxyType

from feedapp.feed.textclean import is_placeholder_brand
from feedapp.messages import N_

CONDITIONS = ("new", "refurbished", "used")
GENDERS = ("", "male", "female", "unisex")
AGE_GROUPS = ("", "newborn", "infant", "toddler", "kids", "adult")
FREQUENCIES = (1, 2, 3, 6, 12, 24)

#: Option names that mean each Google attribute, in English, Spanish and Portuguese. Names for
#: which Google has no attribute ("Estilo", "Modelo", "Sabor", "Formato") are left out on purpose:
#: a product whose variants differ only by them is sent as separate products (see mapping).
DEFAULT_OPTION_NAMES: dict[str, list[str]] = {
    "color": ["color", "colour", "colores", "colors", "cor", "cores", "tono", "tonos"],
    "size": [
        "size",
        "talla",
        "tallas",
        "talle",
        "talles",
        "tamaño",
        "tamano",
        "tamanho",
        "medida",
        "medidas",
        "numero",
        "número",
        "numeración",
        "numeracion",
        "numeração",
        "numeracao",
        "capacidad",
        "capacidade",
        "capacity",
        "volumen",
        "volume",
    ],
    "material": [
        "material",
        "materiales",
        "materia",
        "tela",
        "tecido",
        "composición",
        "composicion",
        "composição",
        "composicao",
    ],
    "pattern": [
        "pattern",
        "estampado",
        "estampados",
        "patron",
        "patrón",
        "diseño",
        "diseno",
        "padrão",
        "padrao",
        "estampa",
        "print",
    ],
}

TITLE_PLACEHOLDERS = ("{name}", "{options}", "{brand}")
_UTM_RE = re.compile(r"^[A-Za-z0-9._~-]{0,100}$")


@dataclass(frozen=True, slots=True)
class FieldError:
    """Why a field was rejected: an English message id and its values, translated by the page."""

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)


def _names(kind: str) -> list[str]:
    return list(DEFAULT_OPTION_NAMES[kind])


@dataclass
class FeedOptions:
    """What the merchant chose for their feed; defaults give a correct feed with no setup."""

    include_out_of_stock: bool = True
    include_not_available: bool = False
    default_brand: str = ""
    default_google_category: str = ""
    category_map: dict[str, str] = field(default_factory=dict)
    condition: str = "new"
    gender: str = ""
    age_group: str = ""
    color_options: list[str] = field(default_factory=lambda: _names("color"))
    size_options: list[str] = field(default_factory=lambda: _names("size"))
    material_options: list[str] = field(default_factory=lambda: _names("material"))
    pattern_options: list[str] = field(default_factory=lambda: _names("pattern"))
    sku_is_mpn: bool = False
    title_pattern: str = "{name} - {options}"
    utm_source: str = "google"
    utm_medium: str = "shopping"
    utm_campaign: str = ""
    frequency_hours: int = 24

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready form for the store record."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object] | None) -> FeedOptions:
        """Rebuild from a stored dict, ignoring unknown keys so old records keep loading."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def option_kind(self, option_name: str) -> str | None:
        """Which Google attribute (color/size/material/pattern) a variant option name maps to."""
        return self.option_kinds().get(option_name.strip().casefold())

    def option_kinds(self) -> Mapping[str, str]:
        """Case-folded option name -> Google attribute, the first kind listing a name winning."""
        return _kind_table(
            tuple(self.color_options),
            tuple(self.size_options),
            tuple(self.material_options),
            tuple(self.pattern_options),
        )


@lru_cache(maxsize=32)
def _kind_table(*names: tuple[str, ...]) -> Mapping[str, str]:
    """option_kinds for the four name lists, built once per set of lists, not once per option."""
    table: dict[str, str] = {}
    for kind, kind_names in zip(("color", "size", "material", "pattern"), names, strict=True):
        for name in kind_names:
            table.setdefault(name.casefold(), kind)
    return MappingProxyType(table)


def validate_options(
    form: dict[str, object],
    *,
    known_category: Callable[[str], bool] | None = None,
) -> tuple[FeedOptions, dict[str, FieldError]]:
    """Turn submitted values into options, with an error (a message id) per rejected field.

    ``known_category(id) -> bool`` checks Google taxonomy ids. A feed's language is the feed's
    own (feedapp/storefeeds.py), not one of its options.
    """
    errors: dict[str, FieldError] = {}
    opts = FeedOptions()

    def text(name: str, limit: int) -> str:
        value = str(form.get(name, "") or "").strip()
        if len(value) > limit:
            errors[name] = FieldError(N_("At most %(limit)d characters."), {"limit": limit})
        return value[:limit]

    def flag(name: str) -> bool:
        return str(form.get(name, "")).lower() in ("1", "true", "on", "yes")

    def name_list(name: str) -> list[str]:
        raw = form.get(name, "")
        items = raw if isinstance(raw, list) else str(raw).split(",")
        cleaned = [str(i).strip() for i in items if str(i).strip()]
        if any(len(i) > 50 for i in cleaned):
            errors[name] = FieldError(N_("Each option name must be at most 50 characters."))
        return cleaned[:30]

    opts.include_out_of_stock = flag("include_out_of_stock")
    opts.include_not_available = flag("include_not_available")
    opts.sku_is_mpn = flag("sku_is_mpn")
    opts.default_brand = text("default_brand", 70)
    if opts.default_brand and is_placeholder_brand(opts.default_brand):
        errors["default_brand"] = FieldError(
            N_("Google refuses placeholder brands; leave it empty instead.")
        )
    opts.condition = str(form.get("condition", "new"))
    if opts.condition not in CONDITIONS:
        errors["condition"] = FieldError(N_("Choose new, refurbished or used."))
    opts.gender = str(form.get("gender", "") or "")
    if opts.gender not in GENDERS:
        errors["gender"] = FieldError(N_("Choose male, female, unisex or none."))
    opts.age_group = str(form.get("age_group", "") or "")
    if opts.age_group not in AGE_GROUPS:
        errors["age_group"] = FieldError(N_("Choose an age group from the list, or none."))
    for kind in ("color", "size", "material", "pattern"):
        opts.__setattr__(f"{kind}_options", name_list(f"{kind}_options"))
    opts.title_pattern = text("title_pattern", 200) or "{name} - {options}"
    if "{name}" not in opts.title_pattern:
        errors["title_pattern"] = FieldError(N_("The title pattern must contain {name}."))
    for part in re.findall(r"\{[^}]*\}", opts.title_pattern):
        if part not in TITLE_PLACEHOLDERS:
            errors["title_pattern"] = FieldError(
                N_("Unknown placeholder %(placeholder)s; use %(allowed)s."),
                {"placeholder": part, "allowed": ", ".join(TITLE_PLACEHOLDERS)},
            )
    for name in ("utm_source", "utm_medium", "utm_campaign"):
        value = text(name, 100)
        if not _UTM_RE.match(value):
            errors[name] = FieldError(N_("Use letters, digits, '.', '_', '~' or '-' only."))
        setattr(opts, name, value)
    try:
        opts.frequency_hours = int(str(form.get("frequency_hours", 24)))
    except ValueError:
        opts.frequency_hours = 24
        errors["frequency_hours"] = FieldError(N_("Choose how often to rebuild."))
    if opts.frequency_hours not in FREQUENCIES:
        errors["frequency_hours"] = FieldError(N_("Choose between every hour and once a day."))
    opts.default_google_category = str(form.get("default_google_category", "") or "").strip()
    if (
        opts.default_google_category
        and known_category
        and not known_category(opts.default_google_category)
    ):
        errors["default_google_category"] = FieldError(N_("Pick a category from Google's list."))
    raw_map = form.get("category_map") or {}
    if isinstance(raw_map, dict):
        for cat_id, google_id in raw_map.items():
            google_id = str(google_id).strip()
            if not google_id:
                continue
            if known_category and not known_category(google_id):
                errors[f"category_map.{cat_id}"] = FieldError(
                    N_("Pick a category from Google's list.")
                )
            opts.category_map[str(cat_id)] = google_id
    return opts, errors
