"""Feed-wide rules: one GTIN goes out on one item only, and the others say which item kept it."""

from __future__ import annotations

from feedapp.feed.mapping import Item, MappedProduct
from feedapp.feed.uniqueness import GtinLedger


def mapped(pid: str, *items: tuple[str, str | None]) -> MappedProduct:
    """A mapped product whose items carry the given GTINs (None: no barcode)."""
    return MappedProduct(
        items=[
            Item(id=item_id, fields=[("id", item_id)] + ([("gtin", gtin)] if gtin else []))
            for item_id, gtin in items
        ],
        product_id=pid,
        product_name=f"Producto {pid}",
        offers=len(items),
    )


def gtins(product: MappedProduct) -> list[str | None]:
    return [dict(item.fields).get("gtin") for item in product.items]


def test_the_first_item_keeps_a_shared_gtin_and_the_others_drop_it() -> None:
    ledger = GtinLedger()
    shoes = mapped("7", ("7-1", "89743256"), ("7-2", "89743256"), ("7-3", "89743256"))
    other = mapped("9", ("9", "89743256"))
    ledger.settle(shoes)
    ledger.settle(other)
    assert gtins(shoes) == ["89743256", None, None]
    assert gtins(other) == [None]
    reported = [(p.item_id, p.variant_id, p.detail) for p in shoes.problems + other.problems]
    assert reported == [
        ("7-2", "2", "89743256 (7-1)"),
        ("7-3", "3", "89743256 (7-1)"),
        ("9", None, "89743256 (7-1)"),
    ]
    assert {p.code for p in shoes.problems} == {"gtin_duplicate"}
    assert {p.severity for p in shoes.problems} == {"warning"}


def test_the_same_gtin_written_at_another_length_is_the_same_product() -> None:
    ledger = GtinLedger()
    product = mapped("3", ("3-1", "012345678905"), ("3-2", "0012345678905"))
    ledger.settle(product)
    assert gtins(product) == ["012345678905", None]


def test_distinct_gtins_and_items_without_one_are_untouched() -> None:
    ledger = GtinLedger()
    product = mapped("5", ("5-1", "7801234567892"), ("5-2", None), ("5-3", "7809876543217"))
    ledger.settle(product)
    assert gtins(product) == ["7801234567892", None, "7809876543217"]
    assert product.problems == []
