"""Build status kept beside the store record: the store's build, and each feed's own outcome.

One build makes every feed of a store, so the build's progress is the store's ("build" document),
while what was published, refused or found wrong is each feed's:

- "build": state (running/ok/failed), build_id, started_at, finished_at, pages_done/pages_total
  (summed over the languages paged), items (written so far, every feed), products, error,
  error_kind, collapse, refused, duration, requests, and ``feeds``: {feed id: FEED RESULT}.
- FEED RESULT: state (running/ok/refused/failed), items, products, left_out, published_at,
  problems ({code: count}), error, error_kind, collapse.
- f"last_good:{id}" (feed_last_good) and f"diagnostics:{id}" (feed_diagnostics): the feed's last
  published build and its problem list. A record from before feeds per market kept them store-wide
  ("last_good", "diagnostics"): they are read as the first feed's until it is built again.

store_status(svc, code) is what the page, the CLI and monitoring read; its top-level keys are the
store's state and the first feed's figures (as before feeds per market), and ``feeds`` lists every
feed's status (FEED STATUS, see feed_status) in the store's order.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from feedapp.builds import queueing
from feedapp.feed.publishing import FeedCollapseRefused, FeedRefused
from feedapp.feed.xmlfeed import FIRST_FEED
from feedapp.jumpseller.client import ApiError
from feedapp.jumpseller.ratelimit import RateLimitTimeout
from feedapp.jumpseller.tokens import StoreRevoked, TokenError
from feedapp.stores import StoreRegistry

if TYPE_CHECKING:
    from feedapp.feed.diagnostics import BuildDiagnostics
    from feedapp.feed.publishing import PublishResult
    from feedapp.services import Services
    from feedapp.storefeeds import StoreFeed

#: Errors whose message is already written for a person; anything else is summarised.
EXPLAINED = (ApiError, TokenError, FeedRefused, RateLimitTimeout)


class FeedsRefused(FeedRefused):
    """Feeds of a store with several were refused (each keeps its live file); the rest went live.

    Final like any refusal: building again would fetch the whole catalogue to meet it again.
    """

    def __init__(self, store_code: str, refusals: Mapping[str, tuple[str, FeedRefused]]) -> None:
        """``refusals``: feed id -> (feed name, why it was refused), in the store's feed order."""
        message = " ".join(
            f'Feed "{name}": {refused.message}' for name, refused in refusals.values()
        )
        super().__init__(store_code, f"{message} The store's other feeds were published.")
        self.refusals = dict(refusals)

    @property
    def first(self) -> FeedRefused:
        """The first refused feed's reason, which names the kind of the whole failure."""
        return next(iter(self.refusals.values()))[1]


def error_kind(exc: BaseException) -> str:
    """What kind of failure this was, so the merchant's page can explain it in their language."""
    if isinstance(exc, FeedsRefused):
        return error_kind(exc.first)
    for kind, types in (
        ("collapse", (FeedCollapseRefused,)),
        ("check", (FeedRefused,)),
        ("revoked", (StoreRevoked,)),
        ("token", (TokenError,)),
        ("rate_limit", (RateLimitTimeout,)),
        ("api", (ApiError,)),
    ):
        if isinstance(exc, types):
            return kind
    return "timeout" if type(exc).__name__ == "JobTimeoutException" else "unexpected"


def explain(exc: BaseException, store_code: str) -> str:
    """A message a merchant or operator can act on, without leaking internals."""
    if isinstance(exc, FeedRefused):
        return exc.message
    if isinstance(exc, EXPLAINED):
        return str(exc)
    if type(exc).__name__ == "JobTimeoutException":
        return (
            f"Store '{store_code}': the build took longer than the job timeout and was "
            "stopped; the previous feed is still served."
        )
    return (
        f"Store '{store_code}': the build failed unexpectedly ({type(exc).__name__}); "
        "the previous feed is still served and the operator can see details in the worker log."
    )


def _collapse(exc: BaseException) -> dict[str, int] | None:
    """The item counts of a collapse refusal (the first refused feed's, for several)."""
    if isinstance(exc, FeedsRefused):
        exc = exc.first
    return {"old": exc.old, "new": exc.new} if isinstance(exc, FeedCollapseRefused) else None


def _problem_counts(diagnostics: BuildDiagnostics) -> dict[str, int]:
    """Problems by code, errors first, as the CLI lists them."""
    return {stats.code: stats.count for stats in diagnostics.problems}


class BuildStatus:
    """Writes one store's build status, and each feed's outcome, as a build goes."""

    def __init__(
        self, registry: StoreRegistry, store_code: str, feed_ids: Sequence[str] = (FIRST_FEED,)
    ) -> None:
        self.registry = registry
        self.code = store_code
        self.feed_ids = list(feed_ids)
        self._current: dict[str, object] = {}

    def _save(self) -> None:
        self.registry.set_json(self.code, "build", self._current)

    def _feed(self, feed_id: str) -> dict[str, object]:
        feeds = self._current.setdefault("feeds", {})
        return feeds.setdefault(feed_id, {"state": "running"})

    def started(self, build_id: str, at: float) -> None:
        """A build began: progress starts from nothing, every feed running."""
        self._current = {
            "state": "running",
            "build_id": build_id,
            "started_at": at,
            "finished_at": None,
            "pages_done": 0,
            "pages_total": None,
            "items": 0,
            "products": 0,
            "error": None,
            "feeds": {feed_id: {"state": "running"} for feed_id in self.feed_ids},
        }
        self._save()

    def progress(self, update: dict[str, object]) -> None:
        """Pages done of total and items so far, for the page's progress bar and the CLI."""
        self._current.update(update)
        self._save()

    def feed_published(
        self,
        feed_id: str,
        result: PublishResult,
        diagnostics: BuildDiagnostics,
        duration: float,
    ) -> None:
        """One feed went live: it is its last good build, with its diagnostics, at once."""
        now = time.time()
        self._feed(feed_id).update(
            state="ok",
            items=result.items,
            products=diagnostics.products,
            left_out=diagnostics.items_left_out,
            published_at=result.published_at,
            problems=_problem_counts(diagnostics),
            error=None,
        )
        self._save()
        self.registry.set_json(
            self.code,
            f"last_good:{feed_id}",
            {
                "build_id": result.build_id,
                "finished_at": now,
                "duration": round(duration, 3),
                "items": result.items,
                "products": diagnostics.products,
                "left_out": diagnostics.items_left_out,
                "forced": result.forced,
                "published_at": result.published_at,
            },
        )
        self.registry.set_json(self.code, f"diagnostics:{feed_id}", diagnostics.to_dict())

    def feed_refused(
        self, feed_id: str, exc: FeedRefused, diagnostics: BuildDiagnostics | None
    ) -> None:
        """One feed was refused: its live file and last good build stay; the page says why."""
        self._feed(feed_id).update(
            state="refused",
            items=diagnostics.items_written if diagnostics else None,
            products=diagnostics.products if diagnostics else None,
            problems=_problem_counts(diagnostics) if diagnostics else {},
            error=exc.message,
            error_kind=error_kind(exc),
            collapse=_collapse(exc),
        )
        self._save()

    def failed(self, exc: BaseException, duration: float) -> None:
        """The build stopped (or refused feeds); the message says why and what to do.

        Feeds already published stay "ok"; any still running failed with the build.
        """
        message = explain(exc, self.code)
        kind = error_kind(exc)
        self._current.update(
            state="failed",
            finished_at=time.time(),
            duration=round(duration, 3),
            error=message,
            error_kind=kind,
            refused=isinstance(exc, FeedRefused),
            collapse=_collapse(exc),
        )
        for result in self._current.get("feeds", {}).values():
            if result.get("state") == "running":
                result.update(state="failed", error=message, error_kind=kind)
        self._save()

    def succeeded(self, duration: float, requests: int, items: int, products: int) -> None:
        """Every feed went live (each recorded by feed_published): the build is done."""
        self._current.update(
            state="ok",
            finished_at=time.time(),
            duration=round(duration, 3),
            items=items,
            products=products,
            requests=requests,
            error=None,
        )
        self._save()


def _document(registry: StoreRegistry, code: str, name: str, feed_id: str) -> dict | None:
    """A feed's document; the first feed falls back to the store-wide one of older records."""
    found = registry.get_json(code, f"{name}:{feed_id}")
    if found is None and feed_id == FIRST_FEED:
        found = registry.get_json(code, name)
    return found


def feed_last_good(registry: StoreRegistry, code: str, feed_id: str) -> dict[str, object]:
    """The feed's last published build ({} before its first): build_id, finished_at, duration,
    items, products, left_out, forced, published_at."""
    return _document(registry, code, "last_good", feed_id) or {}


def feed_diagnostics(registry: StoreRegistry, code: str, feed_id: str) -> dict | None:
    """The problems of the feed's last published build (BuildDiagnostics.to_dict), or None."""
    return _document(registry, code, "diagnostics", feed_id)


def read_status(
    registry: StoreRegistry, store_code: str, feed_ids: Sequence[str] = (FIRST_FEED,)
) -> dict[str, object]:
    """The store's last build; "last_good" is the first feed's, "feeds" every given feed's."""
    last_good = {feed_id: feed_last_good(registry, store_code, feed_id) for feed_id in feed_ids}
    return {
        "build": registry.get_json(store_code, "build") or {},
        "last_good": last_good[feed_ids[0]] if feed_ids else {},
        "feeds": last_good,
    }


def _age(finished: object, now: float) -> float | None:
    return round(now - float(finished), 1) if finished else None


def feed_status(
    registry: StoreRegistry,
    code: str,
    feed: StoreFeed,
    build: Mapping[str, object],
    store_state: str,
    now: float,
) -> dict[str, object]:
    """FEED STATUS: one feed's state and figures, as store_status lists them.

    id, name, language, country; state (never/queued/running/ok/failed: a refused feed is
    "failed" with refused True); items, products, left_out, published_at, finished_at and
    age_seconds of its last good build; problems ({code: count}) of that build; error,
    error_kind and collapse of its last build when that one failed or was refused.
    """
    last_good = feed_last_good(registry, code, feed.id)
    diagnostics = feed_diagnostics(registry, code, feed.id) or {}
    feeds = build.get("feeds")
    result = feeds.get(feed.id) if isinstance(feeds, dict) else None
    result = result if isinstance(result, dict) else {}
    outcome = result.get("state")
    if store_state in ("running", "queued"):
        state = store_state
    elif outcome in ("ok", "refused", "failed"):
        state = "ok" if outcome == "ok" else "failed"
    elif not last_good:
        state = "never"  # added since the last build
    else:
        state = store_state  # a build from before per-feed results, or an abandoned one
    failed = state == "failed"
    source = result if outcome in ("refused", "failed") else build
    return {
        "id": feed.id,
        "name": feed.name,
        "language": feed.language,
        "country": feed.country,
        "state": state,
        "refused": outcome == "refused",
        "items": last_good.get("items"),
        "products": last_good.get("products"),
        "left_out": last_good.get("left_out"),
        "published_at": last_good.get("published_at"),
        "finished_at": last_good.get("finished_at"),
        "age_seconds": _age(last_good.get("finished_at"), now),
        "problems": {p["code"]: p["count"] for p in diagnostics.get("problems", [])},
        "error": source.get("error") if failed else None,
        "error_kind": source.get("error_kind") if failed else None,
        "collapse": source.get("collapse") if failed else None,
    }


def store_status(svc: Services, code: str, now: float | None = None) -> dict[str, object]:
    """One store's feed state as the CLI, monitoring and the settings page read it.

    Keys: store, state (never/queued/running/ok/failed: the last build's, refused feeds make it
    failed), started_at and finished_at (the last build's), progress (while running), error,
    error_kind and collapse (of a failed build), job; items, products, left_out, age_seconds and
    problems of the first feed; feeds: every feed's FEED STATUS (feed_status), in order.
    """
    now = time.time() if now is None else now
    record = svc.registry.find(code)
    store_feeds = record.feeds if record is not None else []
    build = svc.registry.get_json(code, "build") or {}
    if queueing.is_running(svc, code):
        state = "running"
    elif queueing.is_queued(svc, code):
        state = "queued"
    else:
        state = {"ok": "ok", "failed": "failed", "running": "failed"}.get(
            str(build.get("state")), "never"
        )
    feeds = [feed_status(svc.registry, code, f, build, state, now) for f in store_feeds]
    first = feeds[0] if feeds else {}
    last_failed = build.get("state") == "failed"
    return {
        "store": code,
        "state": state,
        "started_at": build.get("started_at"),
        "finished_at": build.get("finished_at"),
        "items": first.get("items"),
        "products": first.get("products"),
        "left_out": first.get("left_out"),
        "age_seconds": first.get("age_seconds"),
        "progress": {"pages_done": build.get("pages_done"), "pages_total": build.get("pages_total")}
        if state == "running"
        else None,
        "problems": first.get("problems", {}),
        "error": build.get("error") if last_failed else None,
        "collapse": build.get("collapse") if last_failed else None,
        "error_kind": build.get("error_kind") if last_failed else None,
        "job": queueing.job_meta(svc, code) or None,
        "feeds": feeds,
    }
