"""Rules that span the whole feed rather than one product: a GTIN goes out on one item only.

Merchant Center treats one GTIN on several offers as the same product sold several times and flags
them; merchants' imports often copy a product's barcode onto every variant or onto other products.
"""

from __future__ import annotations

from feedapp.feed.mapping import Item, MappedProduct
from feedapp.feed.problems import PROBLEM_CODES, Problem


class GtinLedger:
    """Which item claimed each GTIN first in this build, so later items sharing it drop it."""

    def __init__(self) -> None:
        # Keyed by the GTIN's value: GS1 pads every length to 14 digits, so "012345678905" and
        # "0012345678905" are one product; an int key is also half the memory of its text.
        self._owners: dict[int, str] = {}

    def settle(self, mapped: MappedProduct) -> None:
        """Drop, in place, each GTIN an earlier item already sent, and say which item kept it."""
        for index, item in enumerate(mapped.items):
            gtin = next((value for name, value in item.fields if name == "gtin"), None)
            if gtin is None:
                continue
            owner = self._owners.setdefault(int(gtin), item.id)
            if owner == item.id:
                continue
            fields = [(name, value) for name, value in item.fields if name != "gtin"]
            mapped.items[index] = Item(id=item.id, fields=fields)
            variant = item.id.removeprefix(f"{mapped.product_id}-") if mapped.product_id else ""
            mapped.problems.append(
                Problem(
                    code="gtin_duplicate",
                    severity=PROBLEM_CODES["gtin_duplicate"],
                    product_id=mapped.product_id or item.id,
                    variant_id=variant if variant != item.id else None,
                    item_id=item.id,
                    product_name=mapped.product_name[:150],
                    detail=f"{gtin} ({owner})",
                )
            )

    def unclaimed(self, items: list[tuple[int, str]]) -> list[tuple[int, str]] | None:
        """The (GTIN, item id) pairs when each item may keep its GTIN, else None (some earlier
        item, in the feed or the same product, has it already): settle() must then decide."""
        owners = self._owners
        claims: dict[int, str] = {}
        for gtin, item_id in items:
            owner = owners.get(gtin) or claims.setdefault(gtin, item_id)
            if owner != item_id:
                return None
        return items

    def claim(self, items: list[tuple[int, str]]) -> None:
        """Record the GTINs of items that keep them (pairs unclaimed() let through)."""
        for gtin, item_id in items:
            self._owners.setdefault(gtin, item_id)
