"""Text handling is linear in its input: a merchant's text grown tenfold costs about tenfold.

A ratio between two sizes measured back to back, not a time limit, so a busy machine slows both
sides alike; a quadratic algorithm gives about 100x where a linear one gives about 10x.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from feedapp.feed import taxonomy
from feedapp.feed.mapping import CatalogContext, StoreInfo, map_product
from feedapp.feed.options import FeedOptions
from feedapp.feed.textclean import plain_text, render_title

SMALL, LARGE = 5_000, 50_000
#: Linear measured 10-34x (the larger input misses the CPU cache on a loaded machine); the
#: quadratic versions of these algorithms, put back on purpose, measured 78-129x.
MAX_RATIO = 50
STORE = StoreInfo(code="t", name="T", url="https://t.example.com", currency="CLP")


def cost(work: Callable[[], object]) -> float:
    """Best of three runs of five calls, so a passing hiccup on a busy machine does not count."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(5):
            work()
        best = min(best, time.perf_counter() - started)
    return best


def name_product(name: str) -> dict:
    return {
        "id": 1,
        "name": name,
        "price": 1000,
        "status": "available",
        "permalink": "p",
        "images": [{"url": "https://t.example.com/i.jpg"}],
        "variants": [{"id": 2, "options": [{"name": "Talla", "value": "S"}]}],
    }


CASES: dict[str, Callable[[int], Callable[[], object]]] = {
    "taxonomy id line": lambda n: lambda: taxonomy.lookup("1 - a" + " " * n + "b"),
    "title slots": lambda n: lambda: render_title("{brand}" + " -" * n + "{name}", "N", "", "", 9),
    "title slot after a long name": lambda n: (
        lambda: render_title("{name}{options}", "a" + " " * n + "b", "", "", 150)
    ),
    "markup name": lambda n: lambda: plain_text("<b>" + "x " * (n // 2) + "</b>&amp;amp;"),
    "name of a whole product": lambda n: (
        lambda: map_product(
            name_product("Polera " * (n // 7) + "<b>x</b>"), STORE, FeedOptions(), CatalogContext()
        )
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_text_handling_is_linear(case: str) -> None:
    small, large = CASES[case](SMALL), CASES[case](LARGE)
    small(), large()  # warm caches
    ratio = cost(large) / max(cost(small), 1e-6)
    assert ratio < MAX_RATIO, f"{case}: {LARGE // SMALL}x the input cost {ratio:.0f}x the time"
