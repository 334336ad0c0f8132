"""Money and quantities as Google wants them: exact decimals in the currency's minor units."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
#: Anything this large is a typo, and would only blow up rounding: treated as unparsable.
_TOO_BIG = Decimal(10) ** 12
_TOO_BIG_INT = 10**12
#: Longer number text is not read (nor cached: a weight of a megabyte would stay in memory).
_MAX_NUMBER_TEXT = 40
_WEIGHT_UNITS = {"kg": "kg", "kgs": "kg", "g": "g", "gr": "g", "lb": "lb", "lbs": "lb", "oz": "oz"}


def parse_decimal(value: object) -> Decimal | None:
    """A finite number from whatever the API sent (number, numeric string), else None."""
    if type(value) is int:  # the common case, before the isinstance chain
        return Decimal(value) if -_TOO_BIG_INT < value < _TOO_BIG_INT else None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        number = Decimal(repr(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_NUMBER_TEXT or not _NUMBER.match(text):
            return None
        number = Decimal(text)
    else:
        return None
    return number if abs(number) < _TOO_BIG else None


def is_currency_code(code: str) -> bool:
    """Whether ``code`` looks like an ISO 4217 code (three capital letters)."""
    return bool(_CURRENCY.match(code))


@lru_cache(maxsize=64)
def minor_units(code: str) -> int:
    """How many decimals the currency uses (CLP 0, USD 2, KWD 3)."""
    return get_currency_precision(code)


@lru_cache(maxsize=64)
def _quantum(code: str) -> Decimal:
    """The currency's smallest unit (1, 0.01, 0.001), worked out once per currency."""
    return Decimal(1).scaleb(-minor_units(code))


def round_money(amount: Decimal, code: str) -> Decimal:
    """Round half-up to the currency's minor units, as a shop would."""
    return amount.quantize(_quantum(code), rounding=ROUND_HALF_UP)


def format_price(amount: Decimal, code: str) -> str:
    """Google's price text, e.g. "12990 CLP" or "15.00 USD" (amount already rounded)."""
    return f"{round_money(amount, code):f} {code}"


def _rounded(value: object, code: str) -> Decimal | int | None:
    """parse_decimal and round_money in one; a whole number stays an int, cheaper to format."""
    if type(value) is int:
        return value if -_TOO_BIG_INT < value < _TOO_BIG_INT else None
    number = parse_decimal(value)
    return None if number is None else round_money(number, code)


def _price_text(amount: Decimal | int, code: str) -> str:
    """format_price of an amount from _rounded, without rounding it again."""
    if type(amount) is int:
        places = minor_units(code)
        return f"{amount}.{'0' * places} {code}" if places else f"{amount} {code}"
    return f"{amount:f} {code}"


class PriceProblem(ValueError):
    """A price Google cannot take; ``code`` is the problem code, ``detail`` the value seen."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code, self.detail = code, detail


def offer_prices(price: object, compare_at: object, code: str) -> tuple[str, str | None]:
    """Google's price and sale_price from what the shopper pays and the struck-through price."""
    amount = _rounded(price, code)
    if amount is None:
        text = "" if price is None else str(price).strip()[:40]
        raise PriceProblem("price_invalid", text) if text else PriceProblem("price_missing")
    if amount <= 0:
        raise PriceProblem("price_not_positive", _price_text(amount, code))
    compare = _rounded(compare_at, code) if compare_at is not None else None
    if compare is not None and compare > amount:
        return _price_text(compare, code), _price_text(amount, code)
    return _price_text(amount, code), None


def format_weight(weight: object, unit: object) -> str | None:
    """Google's shipping_weight, e.g. "1.5 kg"; None when the weight is missing, zero or odd."""
    cacheable = (
        type(weight) in (float, int) or type(weight) is str and len(weight) <= _MAX_NUMBER_TEXT
    )
    if cacheable and type(unit) is str:
        return _cached_weight(weight, unit)
    return _weight(weight, unit)


def _weight(weight: object, unit: object) -> str | None:
    """format_weight's work; a catalogue repeats a few hundred weights, so it is cached."""
    symbol = _WEIGHT_UNITS.get(unit.strip().casefold()) if isinstance(unit, str) else None
    amount = parse_decimal(weight)
    if symbol is None or amount is None:
        return None
    text = f"{amount.quantize(Decimal('0.001'), rounding=ROUND_HALF_UP):f}".rstrip("0").rstrip(".")
    return f"{text} {symbol}" if amount > 0 and text != "0" else None


#: typed: each type's values are read their own way, so none answers for another's.
_cached_weight = lru_cache(maxsize=4096, typed=True)(_weight)
