"""GS1 checks on barcodes, so only GTINs Google accepts reach the feed.

Prefix rules are read on the GTIN-13 form of the number: the code is left-padded with zeros to 14
digits and its first digit (the GTIN-14 packaging indicator, 0 for shorter codes) is dropped. So a
UPC-A starting with 2, 4 or 5 shows up as ``02``, ``04`` or ``05`` and an EAN-13 keeps its own
prefix; a GTIN-8 pads to ``00000…`` and never meets these prefixes.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s-]+")
_LENGTHS = (8, 12, 13, 14)
_RESTRICTED = ("2", "02", "04")
_COUPONS = ("05", "99", "981", "982", "983", "984")


def _digits(raw: object) -> str:
    if isinstance(raw, bool) or raw is None:
        return ""
    if isinstance(raw, int):
        return str(raw)
    text = str(raw)
    return text if text.isascii() and text.isdigit() else _SEPARATORS.sub("", text)


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for ``body`` (every digit of the code but the last, ASCII)."""
    backwards = body.encode("ascii")[::-1]  # weights 3, 1, 3, ... from the rightmost digit
    tripled, single = backwards[::2], backwards[1::2]  # summed as bytes: "0" is 48
    total = 3 * (sum(tripled) - 48 * len(tripled)) + sum(single) - 48 * len(single)
    return (10 - total % 10) % 10


def gtin_problem(raw: object) -> str | None:
    """Why a barcode is not a GTIN Google accepts (a problem code), or None when it is fine."""
    return _code_problem(_digits(raw))


def read_gtin(raw: object) -> tuple[str | None, str | None]:
    """The barcode as a GTIN Google accepts and None, or None and why not: one check, not two."""
    code = _digits(raw)
    problem = _code_problem(code)
    return (None, problem) if problem else (code, None)


def _code_problem(code: str) -> str | None:
    """gtin_problem for a barcode already reduced to its characters without separators."""
    if not (code.isascii() and code.isdigit()):
        return "gtin_not_digits"
    if len(code) not in _LENGTHS:
        return "gtin_wrong_length"
    if int(code[-1]) != check_digit(code[:-1]):
        return "gtin_invalid_check_digit"
    if not code.strip("0"):
        return "gtin_zero"
    if len(code) == 14 and code[0] == "9":
        return "gtin_indicator_9"
    gtin13 = code.zfill(14)[1:]
    if gtin13.startswith(_COUPONS):
        return "gtin_coupon_prefix"
    if gtin13.startswith(_RESTRICTED):
        return "gtin_restricted_prefix"
    return None


def normalize_gtin(raw: object) -> str | None:
    """The barcode's digits when they form an acceptable GTIN, else None."""
    return read_gtin(raw)[0]
