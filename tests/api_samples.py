"""Products and variants as Jumpseller's API sends them, for the feed tests to vary."""

from __future__ import annotations

IMAGE = "https://images.jumpseller.com/store/tienda/1/polera.jpg"


def product(**overrides: object) -> dict:
    """A plain available product with one image and stock, as the API sends it."""
    data = {
        "id": 1001,
        "name": "Polera Básica",
        "description": "<p>Polera de algodón.</p>",
        "price": 12990.0,
        "compare_at_price": None,
        "stock": 10,
        "stock_unlimited": False,
        "status": "available",
        "permalink": "polera-basica",
        "brand": "Andes",
        "barcode": "",
        "sku": "POL-1",
        "weight": 0.3,
        "categories": [{"id": 11, "name": "Poleras", "parent_id": 10}],
        "images": [{"id": 1, "position": 1, "url": IMAGE}],
        "variants": [],
    }
    data.update(overrides)
    return data


def variant(vid: int, *options: tuple[str, str], **overrides: object) -> dict:
    data = {
        "id": vid,
        "price": None,
        "sku": f"POL-1-{vid}",
        "barcode": None,
        "stock": 5,
        "stock_unlimited": False,
        "compare_at_price": None,
        "image": {},
        "options": [{"name": n, "option_type": "option", "value": v} for n, v in options],
    }
    data.update(overrides)
    return data
