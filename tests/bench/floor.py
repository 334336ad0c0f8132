"""The rate-limit floor: the least time Jumpseller's documented limits allow a build's requests."""

from __future__ import annotations

PER_SECOND = 20
PER_MINUTE = 800
MINUTE = 60.0
PAGE_SIZE = 100

FLOOR_FORMULA = (
    "floor(R) = max(R/20, 60*k + (R - 800*k)/20) s with k = floor((R-1)/800): each request "
    "holds one 1/20-s slot, and at most 800 fit in any 60 s, so request 800*k+1 waits until "
    "60*k s after the first"
)
REQUESTS_FORMULA = (
    "2 (store/info, store/languages) + ceil(C/100)+1 (category pages to an empty one) "
    "+ 1 (products/count) + ceil(N/100) (product pages) + 1 (the empty page past them)"
)
PAGES_FORMULA = "pages floor = ceil(N/100)/20 s (issue 4's definition: product pages only)"


def rate_floor(
    requests: int,
    per_second: int = PER_SECOND,
    per_minute: int = PER_MINUTE,
    minute: float = MINUTE,
) -> float:
    """Seconds to send `requests` requests at most `per_second` a second and `per_minute` a minute.

    Lower bound: requests 1 and 800*j+1 cannot share a 60-s window, so request 800*k+1 goes out
    no earlier than 60*k s; the remaining R-800*k requests then need a 1/20-s slot each. The
    schedule "20 a second until the minute's 800 are spent, then wait for the window" meets it.
    """
    if requests <= 0:
        return 0.0
    k = (requests - 1) // per_minute
    return max(requests / per_second, minute * k + (requests - per_minute * k) / per_second)


def pages(products: int, page_size: int = PAGE_SIZE) -> int:
    """Product pages of a catalogue (the API's largest page is 100)."""
    return -(-products // page_size)


def build_requests(products: int, categories: int, page_size: int = PAGE_SIZE) -> int:
    """The requests reading a catalogue takes when nothing fails (REQUESTS_FORMULA)."""
    category_requests = pages(categories, page_size) + 1
    return 2 + category_requests + 1 + pages(products, page_size) + 1


def pages_floor(products: int, per_second: int = PER_SECOND) -> float:
    """Issue 4's floor: product pages at 20 a second, ignoring the other requests and the minute."""
    return pages(products) / per_second
