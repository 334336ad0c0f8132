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
            owner = self.owner(gtin, item.id)
            if owner == item.id:
                continue
            fields = [(name, value) for name, value in item.fields if name != "gtin"]
            mapped.items[index] = Item(id=item.id, fields=fields)
            mapped.problems.append(
                duplicate(mapped.product_id, mapped.product_name, item.id, gtin, owner)
            )

    def owner(self, gtin: str, item_id: str) -> str:
        """The item that sends this GTIN: the first to ask for it."""
        return self._owners.setdefault(int(gtin), item_id)


def duplicate(product_id: str, product_name: str, item_id: str, gtin: str, owner: str) -> Problem:
    """The problem of an item that lost its GTIN to an earlier one."""
    variant = item_id.removeprefix(f"{product_id}-") if product_id else ""
    return Problem(
        code="gtin_duplicate",
        severity=PROBLEM_CODES["gtin_duplicate"],
        product_id=product_id or item_id,
        variant_id=variant if variant != item_id else None,
        item_id=item_id,
        product_name=product_name[:150],
        detail=f"{gtin} ({owner})",
    )
