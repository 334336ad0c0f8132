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


def parse_decimal(value: object) -> Decimal | None:
    """A finite number from whatever the API sent (number, numeric string), else None."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        number = Decimal(repr(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > 40 or not _NUMBER.match(text):
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


def round_money(amount: Decimal, code: str) -> Decimal:
    """Round half-up to the currency's minor units, as a shop would."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(code)), rounding=ROUND_HALF_UP)


def format_price(amount: Decimal, code: str) -> str:
    """Google's price text, e.g. "12990 CLP" or "15.00 USD" (amount already rounded)."""
    return f"{round_money(amount, code):f} {code}"


def format_quantity(amount: Decimal, places: int = 3) -> str:
    """A positive quantity without exponent or trailing zeros, e.g. "1.5"."""
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
