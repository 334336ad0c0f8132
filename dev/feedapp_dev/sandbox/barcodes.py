"""GS1 barcodes for the sandbox catalogue: mostly valid GTINs, some deliberately broken ones."""

from __future__ import annotations

import random

from feedapp.feed.gtin import check_digit

#: GTIN lengths Google accepts, with the share of valid barcodes drawn at each length.
_LENGTHS: tuple[tuple[int, float], ...] = ((13, 0.7), (12, 0.2), (8, 0.1))


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
    return body + str(check_digit(body))


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
