"""One sandbox store: its info, a lazily generated catalogue with edits on top, and its hooks."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Sequence

from feedapp_dev.sandbox.catalogue import (
    TRANSLATED_FIELDS,
    generate_categories,
    generate_product,
    product_id,
    product_index,
    slug,
    timestamp,
)
from feedapp_dev.sandbox.vocabulary import LANGUAGE_NAMES

#: Country and timezone that go with each store currency.
_LOCALES = {
    "CLP": ("CL", "America/Santiago"),
    "COP": ("CO", "America/Bogota"),
    "PEN": ("PE", "America/Lima"),
    "MXN": ("MX", "America/Mexico_City"),
    "BRL": ("BR", "America/Sao_Paulo"),
    "ARS": ("AR", "America/Argentina/Buenos_Aires"),
    "EUR": ("PT", "Europe/Lisbon"),
    "USD": ("US", "America/New_York"),
}
HOOK_EVENTS = (
    "order_updated",
    "order_pending_payment",
    "order_paid",
    "order_shipped",
    "order_canceled",
    "order_abandoned",
    "product_created",
    "product_updated",
    "product_deleted",
    "product_stock_updated",
    "customer_created",
    "customer_updated",
    "customer_deleted",
)
_ADDED_IDS = {"images": 90_000_000, "variants": 95_000_000}


class SandboxStore:
    """A store's state; not thread-safe by itself, the sandbox lock guards every call."""

    def __init__(
        self,
        code: str,
        name: str,
        product_count: int,
        seed: int,
        currency: str,
        hostile_share: float = 0.0,
        languages: Sequence[str] = ("es", "en"),
    ):
        self.code = code
        self.hostile_share = hostile_share
        #: The default language first: the catalogue's own text is Spanish.
        self.languages = tuple(languages)
        self.name = name
        self.currency = currency
        self.hooks_token = secrets.token_hex(16)
        self.hooks: dict[int, dict] = {}
        self._next_hook_id = 1
        self._next_nested = dict(_ADDED_IDS)
        self.reset(product_count, seed)

    def reset(self, product_count: int, seed: int) -> None:
        """Regenerate the catalogue from scratch, dropping every edit."""
        self.product_count = product_count
        self.seed = seed
        self.categories = generate_categories()
        self.ids: list[int] = [product_id(i) for i in range(product_count)]
        self._overrides: dict[int, tuple[dict, dict[str, dict]]] = {}
        self._deleted: set[int] = set()
        self._next_id = product_id(product_count) + 1000

    @property
    def url(self) -> str:
        """The shop's address, as store/info.json gives it (no trailing slash)."""
        return f"https://{self.code}.jumpseller.com"

    def info(self) -> dict:
        """The object /store/info.json wraps in {"store": ...}."""
        country, zone = _LOCALES.get(self.currency, ("CL", "America/Santiago"))
        return {
            "name": self.name,
            "code": self.code,
            "currency": self.currency,
            "country": country,
            "timezone": zone,
            "email": f"admin@{self.code}.example.com",
            "hooks_token": self.hooks_token,
            "url": self.url,
            "logo": f"https://images.jumpseller.com/store/{self.code}/store/logo/logo.png",
            "weight_unit": "kg",
            "subscription_status": "active",
            "subscription_plan": "advanced",
            "fb_pixel_id": "",
            "whatsapp_phone": "",
            "address": {
                "address": "Av. Providencia 1234",
                "city": "Santiago",
                "postal": "7500000",
                "region": "Región Metropolitana",
                "country": country,
                "region_code": "RM",
                "country_code": country,
            },
        }

    def language_list(self) -> list[dict]:
        """What /store/languages.json lists: the store's languages, the default one first."""
        return [{"code": code, "name": LANGUAGE_NAMES[code]} for code in self.languages]

    def storefront_url(self, permalink: str, locale: str | None = None) -> str:
        """A shop page: the default language at the root, another one under /<code>/.

        Any other locale gets the default language's page, as the API answers it in that one.
        """
        prefix = f"/{locale}" if locale in self.languages[1:] else ""
        return f"{self.url}{prefix}/{permalink}"

    def count(self) -> int:
        """How many products the store has now."""
        return len(self.ids)

    def page(self, page: int, limit: int, locale: str | None = None) -> list[dict]:
        """One page of products in id order; past the end it is empty."""
        start = (page - 1) * limit
        return [self.product(pid, locale) for pid in self.ids[start : start + limit]]

    def product(self, pid: int, locale: str | None = None) -> dict | None:
        """A product as the API shows it in `locale`, or None if the store has no such product.

        Without a locale, with the default one or with one the store lacks, the product comes
        in the default language; a product not translated to `locale` falls back to it too.
        """
        found = self._raw(pid)
        if found is None:
            return None
        product, translations = found
        own = self._own_text(translations, locale)
        return {**product, **own} if own else product

    def translation(self, pid: int, locale: str) -> dict | None:
        """The product's own text in `locale`, or None where the API falls back to the default."""
        found = self._raw(pid)
        return None if found is None else self._own_text(found[1], locale)

    def edit(self, pid: int, changes: dict) -> dict | None:
        """Overwrite fields of a product (bumping updated_at); None if there is no such product.

        With ``"locale"`` set to another of the store's languages, the translated fields (name,
        description, page_title, meta_description, permalink) change in that language only;
        without it, or with a locale the store lacks, they change in the default language.
        """
        found = self._raw(pid)
        if found is None:
            return None
        product, translations = found
        changes = dict(changes)
        locale = changes.pop("locale", None)
        translations = {**translations, **changes.pop("translations", {})}
        if locale in self.languages[1:]:
            text = {field: changes.pop(field) for field in TRANSLATED_FIELDS if field in changes}
            translations[locale] = {**translations.get(locale, {}), **text}
        edited = {**copy.deepcopy(product), **changes, "updated_at": timestamp(time.time())}
        self._give_ids(edited)
        self._overrides[pid] = (edited, translations)
        return edited

    def add(self, fields: dict) -> dict:
        """Create a product from the given fields plus defaults; it goes to the end of the list."""
        pid = self._next_id
        self._next_id += 1
        fields = dict(fields)
        translations = fields.pop("translations", {})
        product = {**_blank_product(pid), **fields, "id": pid}
        if "permalink" not in fields:
            product["permalink"] = f"{slug(str(product['name']))}-{pid}"
        self._give_ids(product)
        self._overrides[pid] = (product, translations)
        self.ids.append(pid)
        return product

    def delete(self, pid: int) -> dict | None:
        """Remove a product; returns what it was, or None if there was none."""
        found = self._raw(pid)
        if found is None:
            return None
        self.ids.remove(pid)
        self._deleted.add(pid)
        self._overrides.pop(pid, None)
        return found[0]

    def add_hook(self, event: str, url: str) -> dict:
        """Register a webhook the way POST /hooks.json does."""
        hook = {
            "id": self._next_hook_id,
            "name": event,
            "event": event,
            "url": url,
            "created_at": timestamp(time.time()),
        }
        self.hooks[hook["id"]] = hook
        self._next_hook_id += 1
        return hook

    def _raw(self, pid: int) -> tuple[dict, dict[str, dict]] | None:
        """The product and its translations by locale."""
        if pid in self._deleted:
            return None
        if pid in self._overrides:
            return self._overrides[pid]
        index = product_index(pid, self.product_count)
        if index is None:
            return None
        generated = generate_product(
            index,
            self.seed,
            self.code,
            self.currency,
            self.categories,
            self.hostile_share,
            self.languages,
        )
        return generated.product, generated.translations

    def _own_text(self, translations: dict[str, dict], locale: str | None) -> dict | None:
        """The translation served for `locale`: only the store's other languages have one."""
        return translations.get(locale) if locale in self.languages[1:] else None

    def _give_ids(self, product: dict) -> None:
        """Images and variants posted without ids get fresh ones, as the real API assigns them."""
        for key in ("images", "variants"):
            for item in product.get(key) or []:
                if isinstance(item, dict) and "id" not in item:
                    item["id"] = self._next_nested[key]
                    self._next_nested[key] += 1


def _blank_product(pid: int) -> dict:
    """What a product created with only a name looks like in the API."""
    now = timestamp(time.time())
    return {
        "id": pid,
        "name": "Producto nuevo",
        "page_title": "",
        "description": "",
        "meta_description": "",
        "type": "physical",
        "days_to_expire": None,
        "price": 0,
        "discount": "0.0",
        "compare_at_price": None,
        "cost_per_item": None,
        "weight": 1.0,
        "stock": 100,
        "stock_unlimited": False,
        "stock_threshold": 0,
        "stock_notification": False,
        "back_in_stock_enabled": False,
        "sku": "",
        "brand": "",
        "barcode": "",
        "google_product_category": "",
        "google_product_category_text": "",
        "featured": False,
        "reviews_enabled": True,
        "quotable": False,
        "status": "available",
        "package_format": "box",
        "length": 0.0,
        "width": 0.0,
        "height": 0.0,
        "diameter": 0.0,
        "permalink": "",
        "created_at": now,
        "updated_at": now,
        "categories": [],
        "images": [],
        "variants": [],
        "digital_products": [],
    }
