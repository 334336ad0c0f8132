"""The rate-limit floor: the least time Jumpseller's limits allow for reading a catalogue.

The floor counts the requests the catalogue needs, not the ones a build chose to make, so a
build that wastes requests is measured against the same floor as one that does not.
"""

from __future__ import annotations

PER_SECOND = 20
PER_MINUTE = 800
MINUTE = 60.0
PAGE_SIZE = 100

#: What a build must ask before (or beside) its product pages, whatever it does with the answers:
#: the store's currency, URL and name; its languages; the product count that sizes the paging;
#: and the category tree (ceil(C/100) pages, at least one), which product types are built from.
STARTUP_REQUESTS = ("store/info.json", "store/languages.json", "products/count.json")

FLOOR_FORMULA = (
    "floor(R) = max(R/20, 60k + (R - 800k)/20) s with k = floor((R-1)/800): each request "
    "holds one 1/20-s slot, and at most 800 fit in any 60 s, so request 800k+1 waits until "
    "60k s after the first"
)
REQUESTS_FORMULA = (
    "R = ceil(N/100) product pages + the start-up requests no build can skip: "
    f"{', '.join(STARTUP_REQUESTS)} and max(1, ceil(C/100)) category pages"
)
NOT_COUNTED = (
    "Not in R, because a build chooses them: the page read past the last one (products added "
    "while paging land there), the empty category page that ends the tree, webhook checks and "
    "registration, retries"
)
PAGES_FORMULA = "Pages floor = ceil(N/100)/20 s (issue 4's definition: product pages only)"


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
    """Pages of `products` rows (the API's largest page is 100)."""
    return -(-products // page_size)


def catalogue_requests(products: int, categories: int, page_size: int = PAGE_SIZE) -> int:
    """The requests reading a catalogue of `products` and `categories` needs (REQUESTS_FORMULA)."""
    category_pages = max(1, pages(categories, page_size))
    return len(STARTUP_REQUESTS) + category_pages + pages(products, page_size)


def catalogue_floor(products: int, categories: int) -> float:
    """Seconds the limits allow, at best, for reading the catalogue."""
    return rate_floor(catalogue_requests(products, categories))


def pages_floor(products: int, per_second: int = PER_SECOND) -> float:
    """Issue 4's floor: product pages at 20 a second, ignoring the other requests and the minute."""
    return pages(products) / per_second
