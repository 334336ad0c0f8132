"""Jumpseller REST client: rate-limited, retrying, and paging products concurrently in order."""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

import requests
from requests.adapters import HTTPAdapter

from feedapp.jumpseller.ratelimit import RateLimiter
from feedapp.jumpseller.tokens import OAuthClient, StoreRevoked, TokenKeeper
from feedapp.services import Services

log = logging.getLogger(__name__)

PAGE_SIZE = 100
#: 401s on one request, each with a newer token, before the store counts as uninstalled.
MAX_REFUSED_TOKENS = 3
TIMEOUT = (5.0, 30.0)


class ApiError(RuntimeError):
    """A Jumpseller request failed for good; the message names the store and what to do."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class JumpsellerClient:
    """One build's connection to one store's API: a keep-alive session, a limiter, tokens."""

    def __init__(
        self,
        api_url: str,
        store_code: str,
        tokens: TokenKeeper,
        limiter: RateLimiter,
        *,
        workers: int = 4,
        max_attempts: int = 6,
        max_rate_limited: int = 50,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.code = store_code
        self.tokens = tokens
        self.limiter = limiter
        self.workers = workers
        self.max_attempts = max_attempts
        self.max_rate_limited = max_rate_limited
        self.rate_limited = 0
        self.requests = 0
        self._sleep = sleep
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=workers + 2, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        """Release the keep-alive connections."""
        self.session.close()

    # -- single requests --------------------------------------------------------------------
    def get(self, path: str, **params: object) -> object:
        """GET a JSON document, with rate limiting, token refresh and bounded retries."""
        return self._request("GET", path, params=params)

    def post(self, path: str, body: dict) -> object:
        """POST a JSON document; the same limiter, token refresh and retries as get()."""
        return self._request("POST", path, body=body)

    def _request(
        self, method: str, path: str, *, params: dict | None = None, body: dict | None = None
    ) -> object:
        url = f"{self.api_url}/{path.lstrip('/')}"
        failures = refused = 0
        stale: str | None = None
        while True:
            failure = ""
            # The slot is held from before sending until the answer is read or the request failed:
            # Jumpseller counts the request when it arrives, at some moment in between.
            with self.limiter.slot():  # first: a token fetched before a long wait could expire
                token = self.tokens.access_token(self.code, stale=stale)
                self.requests += 1
                try:
                    reply = self.session.request(
                        method,
                        url,
                        params=params,
                        json=body,
                        timeout=TIMEOUT,
                        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    )
                except (requests.ConnectionError, requests.Timeout) as exc:
                    failure = f"no answer ({type(exc).__name__})"
            if failure:
                failures = self._retry(failures, path, failure)
                continue
            self.limiter.observe(reply.headers)
            if reply.status_code == 429:
                self._rate_limited(reply, path)
                continue
            if reply.status_code == 401:
                refused += 1
                if refused >= MAX_REFUSED_TOKENS:
                    self.tokens.registry.mark_uninstalled(self.code, "Jumpseller answered 401")
                    raise StoreRevoked(
                        f"Store '{self.code}': Jumpseller refused {refused} fresh tokens (401); "
                        "the app was removed from the store and the merchant must reinstall it."
                    )
                stale = token  # refresh it, unless another thread already has
                continue
            if reply.status_code >= 500:
                failures = self._retry(failures, path, f"HTTP {reply.status_code}")
                continue
            if reply.status_code >= 400:
                raise ApiError(
                    f"Store '{self.code}': Jumpseller answered {reply.status_code} to {path}; "
                    "check the app's scopes (read_products, read_store).",
                    reply.status_code,
                )
            try:
                return reply.json()
            except ValueError:
                failures = self._retry(failures, path, "malformed JSON")

    def _retry(self, failures: int, path: str, reason: str) -> int:
        failures += 1
        if failures >= self.max_attempts:
            raise ApiError(
                f"Store '{self.code}': Jumpseller failed {failures} times on {path} ({reason}); "
                "the build will be retried later."
            )
        delay = min(30.0, 0.5 * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)  # noqa: S311
        log.warning("store=%s %s: %s, retry %d in %.1fs", self.code, path, reason, failures, delay)
        self._sleep(delay)
        return failures

    def _rate_limited(self, reply: requests.Response, path: str) -> None:
        self.rate_limited += 1
        if self.rate_limited > self.max_rate_limited:
            raise ApiError(
                f"Store '{self.code}': Jumpseller rate-limited {self.rate_limited} requests; "
                "stopping well before its ban threshold. Another app may share this store's quota."
            )
        wait = 1.0
        banned_until = reply.headers.get("Jumpseller-BannedByRateLimit-Reset")
        if banned_until:
            wait = max(wait, _seconds_until(banned_until))
        elif reply.headers.get("Retry-After", "").isdigit():
            wait = max(wait, float(reply.headers["Retry-After"]))
        log.warning("store=%s %s rate-limited; pausing %.1fs", self.code, path, wait)
        self.limiter.pause(wait)

    # -- documents --------------------------------------------------------------------------
    def store_info(self) -> dict:
        """store/info.json, wrapped or bare."""
        data = self.get("store/info.json")
        return data.get("store", data) if isinstance(data, dict) else {}

    def languages(self) -> list[str]:
        """The store's language codes."""
        data = self.get("store/languages.json")
        codes = []
        for entry in data if isinstance(data, list) else []:
            lang = entry.get("language", entry) if isinstance(entry, dict) else {}
            code = lang.get("code") or lang.get("lang") if isinstance(lang, dict) else None
            if code:
                codes.append(str(code))
        return codes

    def categories(self) -> list[dict]:
        """Every category, paging until an empty page."""
        found: dict[int, dict] = {}
        for page in range(1, 1000):
            batch = self.get("categories.json", page=page, limit=PAGE_SIZE)
            rows = [r.get("category", r) for r in batch if isinstance(r, dict)] if batch else []
            new = [r for r in rows if r.get("id") not in found]
            for row in new:
                found[row.get("id")] = row
            if not rows or not new:
                break
        return list(found.values())

    def product_count(self) -> int:
        """products/count.json."""
        data = self.get("products/count.json")
        return int(data.get("count", 0)) if isinstance(data, dict) else 0

    def product(self, product_id: int, locale: str = "") -> dict | None:
        """products/{id}.json in `locale`; None when the store no longer has the product."""
        params = {"locale": locale} if locale else {}
        try:
            data = self.get(f"products/{product_id}.json", **params)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        product = data.get("product", data) if isinstance(data, dict) else None
        return product if isinstance(product, dict) else None

    def products(
        self,
        locale: str = "",
        progress: Callable[[int, int], None] | None = None,
        count: int | None = None,
    ) -> Iterator[dict]:
        """Every product once, in page order, fetching pages concurrently under the limiter."""
        total_pages = -(-(self.product_count() if count is None else count) // PAGE_SIZE)
        params: dict[str, object] = {"limit": PAGE_SIZE}
        if locale:
            params["locale"] = locale
        # A product shifted by changes while paging reappears within the next few pages, so
        # ids are remembered for a window of pages: duplicates caught, memory flat.
        seen: deque[set[object]] = deque(maxlen=self.workers * 2 + 4)

        def fetch(page: int) -> list:
            data = self.get("products.json", page=page, **params)
            return data if isinstance(data, list) else []

        done = 0
        # One page past the count is read too: products added while paging land there.
        last_page = total_pages + 1
        with ThreadPoolExecutor(self.workers, thread_name_prefix=f"pages-{self.code}") as pool:
            pending: deque[tuple[int, Future]] = deque()
            next_page = 1
            lookahead = self.workers + 2
            try:
                while pending or next_page <= last_page:
                    while next_page <= last_page and len(pending) < lookahead:
                        pending.append((next_page, pool.submit(fetch, next_page)))
                        next_page += 1
                    page, future = pending.popleft()
                    rows = future.result()
                    if page <= total_pages:
                        done += 1
                        if progress:
                            progress(done, total_pages)
                    elif rows:
                        last_page = page + 1  # still more than counted: read on to an empty page
                    yield from _unique(rows, seen)
            finally:
                for _, future in pending:
                    future.cancel()


def _unique(rows: list, seen: deque[set[object]]) -> Iterator[dict]:
    page: set[object] = set()
    seen.append(page)
    for row in rows:
        product = row.get("product", row) if isinstance(row, dict) else None
        if not isinstance(product, dict):
            continue
        pid = product.get("id")
        if any(pid in ids for ids in seen):
            continue
        page.add(pid)
        yield product


def _seconds_until(stamp: str) -> float:
    """Seconds until a ban reset time such as '2024-05-23T16:13:47+00:00' (documented form)."""
    text = stamp.strip().removesuffix(" UTC").replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return 60.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def make_client(svc: Services, store_code: str) -> JumpsellerClient:
    """A client for one store, sharing the store's rate limit and token lock with every process."""
    tokens = TokenKeeper(svc.registry, OAuthClient.from_config(svc.config))
    limiter = RateLimiter(svc.redis, store_code, prefix=svc.keys.prefix)
    return JumpsellerClient(svc.config.JUMPSELLER_API_URL, store_code, tokens, limiter)
