"""Jumpseller product -> Google items, with the reason for every item left out or weakened."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from typing import TypeVar

from feedapp.feed import taxonomy
from feedapp.feed.currency import (
    PriceProblem,
    format_weight,
    is_currency_code,
    offer_prices,
    parse_decimal,
)
from feedapp.feed.gtin import read_gtin
from feedapp.feed.options import CONDITIONS, FeedOptions
from feedapp.feed.problems import ERROR, PROBLEM_CODES, Problem
from feedapp.feed.taxonomy import CatalogContext
from feedapp.feed.textclean import (
    MAX_SHORT_TEXT,
    MAX_URL,
    clean_id,
    clean_text,
    clean_url,
    cut_at_word,
    encode_path,
    html_to_text,
    image_urls,
    is_placeholder_brand,
    page_url,
    plain_text,
    render_title,
    site_root,
)
from feedapp.feed.xmlfeed import Group

KINDS = ("color", "size", "material", "pattern")
LIMITS = {"title": 150, "description": 5000, "brand": 70, "mpn": 70, "product_type": 750}
KIND_LIMITS = {"color": 100, "size": 100, "material": 200, "pattern": 100}
MAX_ADDITIONAL_IMAGES = 10
_UTM = ("utm_source", "utm_medium", "utm_campaign")
#: Option names and values, brands and option types repeat across a catalogue; longer texts are
#: rare and cleaned each time, so the caches stay small.
_MAX_CACHED_TEXT = 200
_TRUE_TEXTS = ("true", "1")
_NO_KINDS: tuple[None, ...] = (None,) * len(KINDS)
#: parse_decimal's bound: a stock this large or larger is unreadable, read as in stock.
_TOO_MUCH_STOCK = 10**12

_T = TypeVar("_T")
Record = Mapping[str, object]  # one object of the API's JSON
Variant = Record | None


@dataclass(frozen=True)
class StoreInfo:
    """The store facts every item needs: where its pages live, its currency and its units."""

    code: str
    name: str
    url: str
    currency: str
    weight_unit: str = "kg"
    country: str = ""
    #: The language the feed is written in, "" for the store's default (pages at the store's root).
    language: str = ""


@dataclass(frozen=True, slots=True)
class Item:
    """One offer: the g: attributes to write, in order (a name may repeat; a tuple is a group)."""

    id: str
    fields: list[tuple[str, str | Group]]


@dataclass(slots=True)
class MappedProduct:
    """What one product gave: the items to write and what the merchant should know."""

    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    product_id: str = ""
    product_name: str = ""
    #: The offers the product stands for (its variants, or itself): each is written or left out.
    offers: int = 1


def map_product(
    product: Mapping[str, object], store: StoreInfo, options: FeedOptions, catalog: CatalogContext
) -> MappedProduct:
    """Google items for one product (one per variant) and the problems found on the way."""
    return _ProductMapping(_unwrap(product, "product"), store, options, catalog).run()


class _ProductMapping:
    """One product's mapping: what its items share is worked out once, then each item."""

    def __init__(
        self, data: Record, store: StoreInfo, options: FeedOptions, catalog: CatalogContext
    ) -> None:
        self.data, self.store, self.options, self.catalog = data, store, options, catalog
        self.pid = clean_id(data.get("id")) or ""
        self.name, self.name_marked = plain_text(data.get("name"), MAX_SHORT_TEXT)
        self.urls: dict[str, str | None] = {}  # raw image URL -> clean_url, for its variants
        self.problems: list[Problem] = []
        self.found: list[tuple[str, str]] = []  # the current item's (code, detail)
        self.item_ids: set[str] = set()  # case-folded, as Google compares them
        self.attributes: list[tuple[tuple[str | None, ...], str]] = []  # per item: key, label
        self.titles: list[tuple[str, str]] = []  # per item: its title and its options' text
        self.variants = [v for v in _as_list(data.get("variants")) if isinstance(v, Mapping)]
        self.offers = len(self.variants) or 1

    def report(
        self, code: str, detail: object = "", variant_id: str | None = None, item_id: str = ""
    ) -> None:
        """Record a problem; without ids it is about the whole product."""
        pid = self.pid or cut_at_word(clean_text(self.data.get("id")), 50)
        name, text = cut_at_word(self.name, 150), cut_at_word(clean_text(detail), 100)
        severity = PROBLEM_CODES[code]
        self.problems.append(Problem(code, severity, pid, variant_id, item_id or pid, name, text))

    def run(self) -> MappedProduct:
        if not self.pid:
            self.report("id_invalid", self.data.get("id"))
        elif self._prepare():
            items = self._items()
            return MappedProduct(items, self.problems, self.pid, self.name, self.offers)
        return MappedProduct([], self.problems, self.pid, self.name, self.offers)

    def _prepare(self) -> bool:
        """Work out what every item shares; False (with the reasons recorded) to drop them all."""
        data, options = self.data, self.options
        self.status = clean_text(data.get("status")).casefold()
        if self.status == "disabled":
            self.report("product_disabled")
            return False
        if self.status == "not-available" and not options.include_not_available:
            self.report("product_not_available")
            return False
        self.currency, known_currency = _currency(clean_text(self.store.currency))
        if not self.name:
            self.report("title_missing")
        elif self.name_marked:
            self.report("name_markup", data.get("name"))
        if not known_currency:
            self.report("currency_invalid", self.store.currency)
        self.link = self._link()
        if not (self.name and self.link and known_currency):
            return False
        self.description = html_to_text(data.get("description"))
        if len(self.description) > LIMITS["description"]:
            self.description = cut_at_word(self.description, LIMITS["description"])
            self.report("description_truncated")
        elif not self.description:
            self.report("description_missing")
        self.images, bad_images = image_urls(data.get("images"))
        for url in bad_images:
            self.report("image_url_invalid", url)
        self.bad_image = bad_images[0] if bad_images else ""
        self.brand = self._brand()
        categories = [_unwrap(c, "category") for c in _as_list(data.get("categories"))]
        categories = [c for c in categories if c]
        own = (data.get("google_product_category"), data.get("google_product_category_text"))
        self.category_id, unknown = self.catalog.google_category(own, categories, options)
        if unknown:
            self.report("google_category_unknown", unknown)
        self.product_type = self.catalog.product_type(categories, LIMITS["product_type"])
        self.condition = options.condition if options.condition in CONDITIONS else "new"
        self.apparel = taxonomy.is_apparel(self.category_id)
        self.sized = self.apparel and taxonomy.needs_size(self.category_id)
        self.kinds = options.option_kinds() if self.variants else {}  # only variants have options
        return True

    def _items(self) -> list[Item]:
        variants = self.variants
        items = [item for item in map(self._item, variants or [None]) if item is not None]
        groups: dict[tuple[str | None, ...], list[str]] = {}
        for key, label in self.attributes:
            groups.setdefault(key, []).append(label)
        clashing = [label for group in groups.values() if len(group) > 1 for label in group]
        if variants and clashing:
            self.report("variants_indistinct", ", ".join(dict.fromkeys(clashing)))
            return [
                self._standalone(item, *titles)
                for item, titles in zip(items, self.titles, strict=True)
            ]
        return items

    def _standalone(self, item: Item, title: str, options_text: str) -> Item:
        """A variant Google could not tell from its siblings, sent as a product of its own.

        Merchant Center refuses a group whose members agree on color, size, material, pattern,
        age group and gender; apart from the group, each title names the variant's options.
        """
        if options_text and options_text.casefold() not in title.casefold():
            title = render_title(
                "{name} - {options}", self.name, options_text, "", LIMITS["title"]
            )[0]
        fields = [
            (name, title if name == "title" else value)
            for name, value in item.fields
            if name != "item_group_id"
        ]
        return Item(id=item.id, fields=fields)

    def _item(self, variant: Variant) -> Item | None:
        """The item for one variant (or the product itself), or None with the reasons recorded."""
        vid, item_id = None, self.pid
        if variant is not None:
            vid = clean_id(variant.get("id"))
            if vid is None:
                self.report("id_invalid", variant.get("id"))
                return None
            item_id = f"{self.pid}-{vid}"
        if item_id.casefold() in self.item_ids:
            self.report("id_duplicate", item_id, vid, item_id)
            return None
        self.item_ids.add(item_id.casefold())
        self.found = []
        attrs, values = self._option_attributes(variant)
        options_text = " / ".join(values)
        title, cut = render_title(
            self.options.title_pattern, self.name, options_text, self.brand or "", LIMITS["title"]
        )
        if cut:
            self.found.append(("title_truncated", ""))
        availability = self._availability(variant)
        price, sale_price = self._prices(variant)
        image, extra = self._item_images(variant)
        gtin, mpn = self._identifiers(variant)
        if self.apparel:
            self._check_apparel(attrs)
        found = self.found
        if found:
            errors = [f for f in found if PROBLEM_CODES[f[0]] == ERROR]
            for code, detail in errors or found:
                self.report(code, detail, vid, item_id)
            if errors:
                return None
        kinds = tuple(map(attrs.get, KINDS)) if attrs else _NO_KINDS
        self.attributes.append((kinds, options_text or title))
        self.titles.append((title, options_text))
        category = str(self.category_id) if self.category_id is not None else None
        weight = format_weight(self._own(variant, "weight"), self.store.weight_unit)
        fields = [
            ("id", item_id),
            ("title", title),
            ("description", self.description or title),
            ("link", self.link),
            ("image_link", image),
            *[("additional_image_link", url) for url in extra],
            ("availability", availability),
            ("price", price),
            ("sale_price", sale_price),
            ("brand", self.brand),
            ("gtin", gtin),
            ("mpn", mpn),
            ("identifier_exists", None if gtin or mpn else "no"),
            ("condition", self.condition),
            ("google_product_category", category),
            ("product_type", self.product_type),
            ("item_group_id", self.pid if variant is not None else None),
            *zip(KINDS, kinds, strict=True),
            ("shipping_weight", weight),
        ]
        if self.apparel:
            fields += [("gender", self.options.gender), ("age_group", self.options.age_group)]
        return Item(id=item_id, fields=[(name, value) for name, value in fields if value])

    def _link(self) -> str:
        path = clean_text(self.data.get("permalink")).strip("/")
        if not path:
            self.report("permalink_missing")
            return ""
        store = self.store
        utm = (clean_text(getattr(self.options, key)) for key in _UTM)
        ends = _link_ends(clean_text(store.url), *utm)  # any value reads as text: a safe key
        if ends is None:
            self.report("link_invalid", store.url)
            return ""
        if store.language:
            path = f"{language_segment(store.language)}/{path}"
        link = f"{ends[0]}{encode_path(path.strip('/'))}{ends[1]}"
        if len(link) <= MAX_URL:
            return link
        self.report("link_too_long")
        return ""

    def _item_images(self, variant: Variant) -> tuple[str, list[str]]:
        own = variant.get("image") if variant is not None else None
        raw = own.get("url") if isinstance(own, Mapping) else None
        if isinstance(raw, str):  # variants share their product's few images
            if raw not in self.urls:
                self.urls[raw] = clean_url(raw)
            image = self.urls[raw]
        else:
            image = clean_url(raw)
        if image is None and clean_text(raw):
            self.found.append(("image_url_invalid", raw))
        image = image or (self.images[0] if self.images else "")
        if not image:
            bad = self.bad_image or clean_text(raw)
            self.found.append(("image_invalid", bad) if bad else ("image_missing", ""))
        return image, [url for url in self.images if url != image][:MAX_ADDITIONAL_IMAGES]

    def _own(self, variant: Variant, key: str) -> object:
        """The variant's value for ``key`` when it has one, else the product's."""
        value = variant.get(key) if variant is not None else None
        return value if _present(value) else self.data.get(key)

    def _availability(self, variant: Variant) -> str:
        if self.status == "not-available":
            return "out_of_stock"
        unlimited = self._own(variant, "stock_unlimited")
        if unlimited is True:
            return "in_stock"
        if unlimited is not False and clean_text(unlimited).casefold() in _TRUE_TEXTS:
            return "in_stock"
        stock = self._own(variant, "stock")
        if type(stock) is not int:  # an int needs no Decimal: parse_decimal keeps its value
            stock = parse_decimal(stock)
        if stock is None or stock > 0 or stock <= -_TOO_MUCH_STOCK:
            return "in_stock"
        if not self.options.include_out_of_stock:
            self.found.append(("out_of_stock_excluded", ""))
        return "out_of_stock"

    def _prices(self, variant: Variant) -> tuple[str, str | None]:
        """Price and sale price; a variant with its own price also brings its own compare-at."""
        source = variant if variant is not None and _present(variant.get("price")) else self.data
        try:
            return offer_prices(source.get("price"), source.get("compare_at_price"), self.currency)
        except PriceProblem as problem:
            self.found.append((problem.code, problem.detail))
            return "", None

    def _brand(self) -> str | None:
        for raw in (self.data.get("brand"), self.options.default_brand):
            brand, placeholder = _brand_text(raw)
            if brand and placeholder:
                self.report("brand_placeholder", brand)
            elif brand:
                return cut_at_word(brand, LIMITS["brand"])
        self.report("brand_missing")
        return None

    def _identifiers(self, variant: Variant) -> tuple[str | None, str | None]:
        barcode = clean_text(self._own(variant, "barcode"))
        gtin, reason = read_gtin(barcode) if barcode else (None, None)
        if reason:
            self.found.append((reason, barcode))
        mpn = clean_text(self._own(variant, "sku")) if self.options.sku_is_mpn else ""
        if len(mpn) > LIMITS["mpn"]:
            self.found.append(("mpn_too_long", mpn))
            mpn = ""
        return gtin, mpn or None

    def _option_attributes(self, variant: Variant) -> tuple[dict[str, str], list[str]]:
        """color/size/material/pattern from the variant's options, and all its option values."""
        found: dict[str, list[str]] = {}
        values: list[str] = []
        for option in _as_list(variant.get("options")) if variant is not None else []:
            value = _short_text(option.get("value")) if isinstance(option, Mapping) else ""
            if not value:
                continue
            values.append(value)
            kind = _option_kind(option.get("name"), option.get("option_type"), self.kinds)
            if kind is not None:
                found.setdefault(kind, []).append(value)
        if not found:
            return {}, values
        attrs = {
            kind: cut_at_word(("/" if kind == "color" else " / ").join(vals[:3]), KIND_LIMITS[kind])
            for kind, vals in found.items()
        }
        return attrs, values

    def _check_apparel(self, attrs: dict[str, str]) -> None:
        wanted = ["color", "size"] if self.sized else ["color"]
        missing = [name for name in wanted if name not in attrs]
        missing += [name for name in ("gender", "age_group") if not getattr(self.options, name)]
        if missing:
            self.found.append(("apparel_attributes_missing", ", ".join(missing)))


def language_segment(language: str) -> str:
    """The storefront's path segment for a language other than the default: the code itself, or
    the region in lower case for a regional code (pt_BR -> br), as in docs/store-languages.md."""
    code, _, region = language.replace("-", "_").partition("_")
    return (region or code).lower()


@lru_cache(maxsize=64)
def _currency(text: str) -> tuple[str, bool]:
    """The store's currency code as the feed writes it, and whether it is one."""
    code = text.upper()
    return code, is_currency_code(code)


@lru_cache(maxsize=64)
def _link_ends(url: str, *utm: str) -> tuple[str, str] | None:
    """What every product link of a feed starts and ends with: "root/" and "?query" (or "")
    as page_url makes them; None when the store's URL cannot be a site root."""
    site = site_root(url)
    if site is None:
        return None
    params = list(zip(_UTM, utm, strict=True))
    head, _, tail = page_url(site[0], site[1], "", params).partition("?")
    return head, f"?{tail}" if tail else ""


def _cached_when_short(read: Callable[[object], _T]) -> Callable[[object], _T]:
    """``read`` with its answers kept for short texts, which repeat across a catalogue; other
    values (long texts, numbers, None) are read each time, so the cache stays small."""
    cached = lru_cache(maxsize=4096)(read)

    def reader(raw: object) -> _T:
        """``read(raw)``, from the cache when ``raw`` is a short text."""
        return cached(raw) if type(raw) is str and len(raw) <= _MAX_CACHED_TEXT else read(raw)

    return wraps(read)(reader)


@_cached_when_short
def _short_text(raw: object) -> str:
    """plain_text of a name, brand or option value."""
    return plain_text(raw, MAX_SHORT_TEXT)[0]


@_cached_when_short
def _brand_text(raw: object) -> tuple[str, bool]:
    """A brand as plain text, and whether it is a placeholder Google refuses."""
    brand = plain_text(raw, MAX_SHORT_TEXT)[0]
    return brand, bool(brand) and is_placeholder_brand(brand)


@_cached_when_short
def _is_color_type(option_type: object) -> bool:
    """Whether an option's type marks it as a color, whatever its name."""
    return clean_text(option_type).casefold() == "color"


def _option_kind(name: object, option_type: object, kinds: Mapping[str, str]) -> str | None:
    """The Google attribute an option stands for: by its name, else color by its type."""
    option_name = _short_text(name)
    kind = kinds.get(option_name.strip().casefold()) if option_name else None
    if kind is None and _is_color_type(option_type):
        return "color"
    return kind


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _unwrap(value: object, key: str) -> Record:
    """The object inside ``{"product": {...}}``-style wrappers; {} for anything unusable."""
    if not isinstance(value, Mapping):
        return {}
    inner = value.get(key)
    return inner if isinstance(inner, Mapping) else value


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
