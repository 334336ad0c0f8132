"""GS1 barcodes for the sandbox catalogue: mostly valid GTINs, some deliberately broken ones."""

from __future__ import annotations

import random

#: GTIN lengths Google accepts, with the share of valid barcodes drawn at each length.
_LENGTHS: tuple[tuple[int, float], ...] = ((13, 0.7), (12, 0.2), (8, 0.1))


def gs1_check_digit(body: str) -> str:
    """The GS1 mod-10 check digit for the digits before it (weights 3,1,3,... from the right)."""
    backwards = body[::-1]
    total = 3 * sum(map(int, backwards[0::2])) + sum(map(int, backwards[1::2]))
    return str(-total % 10)


def is_valid_gtin(code: str | None) -> bool:
    """True for an 8, 12, 13 or 14 digit string whose GS1 check digit is right."""
    if not isinstance(code, str) or len(code) not in (8, 12, 13, 14) or not code.isdigit():
        return False
    return gs1_check_digit(code[:-1]) == code[-1]


def valid_gtin(rng: random.Random) -> str:
    """A well-formed GTIN-13, GTIN-12 or EAN-8 with a correct check digit."""
    pick = rng.random()
    length = 13
    for size, share in _LENGTHS:
        if pick < share:
            length = size
            break
        pick -= share
    prefix = "780" if length == 13 else ""  # 780 is GS1 Chile
    digits = length - 1 - len(prefix)
    body = prefix + str(int(rng.random() * 10**digits)).zfill(digits)
    return body + gs1_check_digit(body)


def invalid_barcode(rng: random.Random) -> str:
    """Something a merchant typed into the barcode box that is not a usable GTIN."""
    good = valid_gtin(rng)
    kind = rng.randrange(3)
    if kind == 0:  # wrong check digit
        return good[:-1] + str((int(good[-1]) + 1 + rng.randrange(9)) % 10)
    if kind == 1:  # wrong length
        return good[:-2]
    return f"SKU-{rng.randrange(10000, 99999)}"  # letters


def draw_barcode(rng: random.Random) -> str | None:
    """About 60% valid GTINs, 10% broken values and 30% empty (null or blank)."""
    pick = rng.random()
    if pick < 0.6:
        return valid_gtin(rng)
    if pick < 0.7:
        return invalid_barcode(rng)
    return None if pick < 0.85 else ""
