"""Variants and prices of sandbox products: option combinations as the API embeds them."""

from __future__ import annotations

import itertools
import random

from feedapp_dev.sandbox.barcodes import draw_barcode
from feedapp_dev.sandbox.draws import below
from feedapp_dev.sandbox.vocabulary import COLORS, MATERIALS, SIZES, TALLAS, Family

BASE_VARIANT_ID = 5_000_000
MAX_VARIANTS = 20
#: CLP -> other currencies, roughly; zero-decimal currencies keep integer prices.
_RATES = {
    "CLP": 1.0,
    "COP": 4.4,
    "USD": 1 / 950,
    "EUR": 1 / 1030,
    "MXN": 1 / 52,
    "BRL": 1 / 170,
    "PEN": 1 / 250,
    "ARS": 1.1,
}
_ZERO_DECIMAL = frozenset({"CLP", "COP", "PYG", "JPY", "KRW"})


def money(clp: int, currency: str) -> int | float:
    """A CLP amount in the store currency: integers like 12990, or decimals like 13.99."""
    if currency == "CLP":
        return clp
    rate = _RATES.get(currency, _RATES["USD"])
    if currency in _ZERO_DECIMAL:
        return max(int(round(clp * rate, -2)) - 10, 90)
    return round(max(round(clp * rate), 1) - 0.01, 2)


def build_variants(
    rng: random.Random,
    index: int,
    family: Family,
    base: int,
    sale_ratio: float | None,
    images: list[dict],
    sku: str,
    currency: str,
    unlimited: bool,
) -> list[dict]:
    """Every combination of the family's options (at most MAX_VARIANTS), each a full variant."""
    axes = [_option_values(rng, axis, name, family) for axis, name in enumerate(family.options)]
    variants = []
    for k, combo in enumerate(itertools.islice(itertools.product(*axes), MAX_VARIANTS)):
        clp = base + sum([extra for extra, _, _ in combo])
        # Option and image dicts are shared between variants: read-only, and far less memory.
        image = images[combo[0][1] % len(images)] if images else None
        compare_at = money(round(clp * sale_ratio), currency) if sale_ratio else None
        variants.append(
            {
                "id": BASE_VARIANT_ID + index * MAX_VARIANTS + k,
                "price": money(clp, currency),
                "sku": f"{sku}-{k + 1}" if sku else "",
                "barcode": draw_barcode(rng),
                "stock": 0 if unlimited else below(rng, 50),
                "stock_unlimited": unlimited,
                "stock_threshold": 0,
                "stock_notification": False,
                "compare_at_price": compare_at,
                "image": image,
                "options": [option for _, _, option in combo],
            }
        )
    return variants


def _option_values(rng: random.Random, axis: int, name: str, family: Family) -> list[tuple]:
    """(CLP extra, value position, option dict) for each value drawn for one option."""
    if name == "Color":
        picks = sorted(rng.sample(range(len(COLORS)), rng.randint(2, 4)))
        rows = [(0, p, COLORS[p][0], COLORS[p][2]) for p in picks]
    elif name == "Talla":
        start = below(rng, 3)
        values = TALLAS[start : start + rng.randint(3, 4)]
        rows = [
            (2000 if v.startswith("XX") else 0, start + i, v, None) for i, v in enumerate(values)
        ]
    elif name == "Size":
        sizes = SIZES[family.code]
        k = rng.randint(min(3, len(sizes)), len(sizes))
        start = below(rng, len(sizes) - k + 1)
        rows = [(i * 3000, start + i, sizes[start + i], None) for i in range(k)]
    else:
        rows = [(i * 2000, i, MATERIALS[m][0], None) for i, m in enumerate(family.materials)]
    option_type = "color" if name == "Color" else "option"
    return [
        (
            extra,
            position,
            {
                "name": name,
                "option_type": option_type,
                "value": value,
                "custom": custom,
                "product_option_position": axis,
                "product_value_position": position,
            },
        )
        for extra, position, value, custom in rows
    ]
