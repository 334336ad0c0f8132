"""A feed's optional shipping: the merchant's settings, their checks, and Google's shipping group.

Google's ``shipping`` attribute is per item: it says what shipping this one product costs when it
is bought on its own, for one country. A store rule "free above an order amount" is about the whole
cart, so per item the only faithful reading is the item's own price: an item that reaches the
threshold ships free by itself, one below it pays the flat price by itself (a shopper who buys
more may pay less, never more, than the feed says). The price that decides is what the shopper pays
for the item, the sale price when there is one. Google's alternative is shipping set in Merchant
Center (account level), where a service can be free above a minimum order value and is applied to
the basket; it covers every item without a ``shipping`` attribute, and an item's attribute
overrides it. A merchant who set shipping there should leave the feed's shipping off ("none").

Handling and transit days are written inside the group (``min_handling_time``,
``max_handling_time``, ``min_transit_time``, ``max_transit_time``): Google recommends these
sub-attributes over the standalone ``min_handling_time``/``max_handling_time``, lets them override
the standalone ones, and asks not to send both. It needs both maximums to compute a delivery
estimate, and a minimum only beside its maximum.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from decimal import Decimal

from feedapp.feed.currency import format_price, is_currency_code, minor_units
from feedapp.feed.options import FieldError
from feedapp.feed.xmlfeed import Group
from feedapp.messages import N_

MODES = ("none", "flat", "free", "free_above")
#: Google sets no upper bound on the day counts; more than this many business days is a typo.
MAX_DAYS = 100
MAX_SERVICE = 100
#: Longest amount text accepted: "999999999.99", or 12 digits for a currency without decimals.
MAX_AMOUNT_TEXT = 12
#: (sub-attribute, field) for the speed sub-attributes, in Google's order.
DAY_FIELDS = (
    ("min_handling_time", "min_handling_days"),
    ("max_handling_time", "max_handling_days"),
    ("min_transit_time", "min_transit_days"),
    ("max_transit_time", "max_transit_days"),
)
_AMOUNT = re.compile(r"[0-9]+(?:\.([0-9]+))?")
_NEGATIVE = re.compile(r"-\s*[0-9.]+")
_DAYS = re.compile(r"[0-9]{1,3}")
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass
class ShippingOptions:
    """What the merchant chose for shipping; amounts in minor units of ``currency`` (CLP 3990 is
    3990, EUR 4.90 is 490), so a feed never reads them in another currency."""

    mode: str = "none"
    currency: str = ""
    flat_price: int | None = None
    free_above: int | None = None
    min_handling_days: int | None = None
    max_handling_days: int | None = None
    min_transit_days: int | None = None
    max_transit_days: int | None = None
    service: str = ""

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready form for the feed's record."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | None) -> ShippingOptions:
        """Rebuild from a stored dict, ignoring unknown keys so old records keep loading."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


def validate_shipping(
    form: Mapping[str, object], currency: str
) -> tuple[ShippingOptions, dict[str, FieldError]]:
    """Turn submitted values into shipping options for a feed selling in ``currency``, with an
    error (a message id) per rejected field; fields the chosen mode does not use are ignored."""
    if not is_currency_code(currency):
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code.")
    errors: dict[str, FieldError] = {}
    mode = str(form.get("mode", "none") or "none").strip()
    if mode not in MODES:
        errors["mode"] = FieldError(
            N_("Choose no shipping, a flat price, free shipping or free above an amount.")
        )
        return ShippingOptions(currency=currency), errors
    opts = ShippingOptions(mode=mode, currency=currency)
    if mode == "none":
        return opts, errors
    if mode in ("flat", "free_above"):
        opts.flat_price = _amount(form, "flat_price", currency, errors)
    if mode == "free_above":
        opts.free_above = _amount(form, "free_above", currency, errors)
    for _, name in DAY_FIELDS:
        setattr(opts, name, _days(form, name, errors))
    _check_ranges(opts, errors)
    service = " ".join(str(form.get("service", "") or "").split())
    if len(service) > MAX_SERVICE:
        errors["service"] = FieldError(N_("At most %(limit)d characters."), {"limit": MAX_SERVICE})
    opts.service = service[:MAX_SERVICE]
    return opts, errors


def shipping_cost(options: ShippingOptions, price: int) -> int:
    """What shipping this item alone costs, in minor units, for the price the shopper pays."""
    if options.mode == "free":
        return 0
    if options.mode == "flat":
        return _required(options.flat_price, "flat_price")
    if options.mode == "free_above":
        threshold = _required(options.free_above, "free_above")
        return 0 if price >= threshold else _required(options.flat_price, "flat_price")
    raise ValueError(f"Shipping mode {options.mode!r} has no cost.")


def shipping_fields(
    options: ShippingOptions, price: int, country: str, currency: str
) -> list[tuple[str, Group]]:
    """The item's ``shipping`` group for the feed's country ([] when the feed sets no shipping).

    ``price`` is what the shopper pays for the item, in minor units of ``currency``.
    """
    if options.mode == "none":
        return []
    if not _COUNTRY.fullmatch(country):
        raise ValueError(f"{country!r} is not an ISO 3166-1 alpha-2 country code.")
    if currency != options.currency:
        raise ValueError(
            f"The shipping amounts were saved in {options.currency or 'no currency'} but this "
            f"feed sells in {currency}: save the feed's shipping settings again."
        )
    group = [("country", country)]
    if options.service:
        group.append(("service", options.service))
    group.append(("price", money(shipping_cost(options, price), currency)))
    for subname, name in DAY_FIELDS:
        days = getattr(options, name)
        if days is not None:
            group.append((subname, str(days)))
    return [("shipping", tuple(group))]


def money(amount: int, currency: str) -> str:
    """Google's price text for minor units: 3990 CLP is "3990 CLP", 490 EUR is "4.90 EUR"."""
    return format_price(Decimal(amount).scaleb(-minor_units(currency)), currency)


def _amount(
    form: Mapping[str, object], name: str, currency: str, errors: dict[str, FieldError]
) -> int | None:
    """A positive amount typed in major units ("3990", "4.90"), as minor units; None if refused.

    A '.' is only a decimal point: "50.000" is refused for CLP rather than read as fifty.
    """
    raw = str(form.get(name, "") or "").strip()
    decimals = minor_units(currency)
    example = "3990" if decimals == 0 else f"{Decimal(490).scaleb(-2):.{decimals}f}"
    params = {"currency": currency, "example": example, "decimals": decimals}
    match = _AMOUNT.fullmatch(raw)
    if len(raw) > MAX_AMOUNT_TEXT:
        errors[name] = FieldError(N_("At most %(limit)d characters."), {"limit": MAX_AMOUNT_TEXT})
    elif _NEGATIVE.fullmatch(raw):
        errors[name] = FieldError(N_("The amount can't be negative."))
    elif match is None:
        errors[name] = FieldError(N_("Enter an amount in %(currency)s, e.g. %(example)s."), params)
    elif len(match[1] or "") > decimals and decimals == 0:
        errors[name] = FieldError(
            N_("%(currency)s amounts have no decimals, e.g. %(example)s."), params
        )
    elif len(match[1] or "") > decimals:
        errors[name] = FieldError(
            N_("Use at most %(decimals)d decimals for %(currency)s, e.g. %(example)s."), params
        )
    elif Decimal(raw) == 0:
        errors[name] = FieldError(N_("Enter an amount above zero, or choose free shipping."))
    else:
        return int(Decimal(raw).scaleb(decimals))
    return None


def _days(form: Mapping[str, object], name: str, errors: dict[str, FieldError]) -> int | None:
    """A whole number of business days from 0 to MAX_DAYS, None when left empty or refused."""
    raw = str(form.get(name, "") or "").strip()
    if not raw:
        return None
    if _DAYS.fullmatch(raw) and int(raw) <= MAX_DAYS:
        return int(raw)
    errors[name] = FieldError(
        N_("Enter a whole number of days from %(min)d to %(max)d."), {"min": 0, "max": MAX_DAYS}
    )
    return None


def _check_ranges(opts: ShippingOptions, errors: dict[str, FieldError]) -> None:
    """Google's pairing rules: a minimum needs its maximum and may not pass it, and a delivery
    estimate needs both maximums, so one maximum alone is refused."""
    for kind in ("handling", "transit"):
        low_name, high_name = f"min_{kind}_days", f"max_{kind}_days"
        low, high = getattr(opts, low_name), getattr(opts, high_name)
        if low is None or high_name in errors or low_name in errors:
            continue
        if high is None:
            errors[high_name] = FieldError(N_("Enter the maximum too, or leave both empty."))
        elif low > high:
            errors[low_name] = FieldError(N_("The minimum can't be more than the maximum."))
    handling, transit = opts.max_handling_days, opts.max_transit_days
    if (handling is None) != (transit is None):
        missing = "max_transit_days" if transit is None else "max_handling_days"
        errors.setdefault(
            missing, FieldError(N_("Enter both the handling and the transit days, or neither."))
        )


def _required(amount: int | None, name: str) -> int:
    """An amount the mode needs; its absence means settings saved without validation."""
    if amount is None:
        raise ValueError(f"Shipping settings lack {name}: save them again.")
    return amount
