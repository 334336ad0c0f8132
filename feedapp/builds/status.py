"""Per-store build status (running, progress, last success, last error) kept beside the record."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from feedapp.builds import queueing
from feedapp.feed.publishing import FeedCollapseRefused, FeedRefused
from feedapp.jumpseller.client import ApiError
from feedapp.jumpseller.ratelimit import RateLimitTimeout
from feedapp.jumpseller.tokens import StoreRevoked, TokenError
from feedapp.stores import StoreRegistry

if TYPE_CHECKING:
    from feedapp.feed.diagnostics import BuildDiagnostics
    from feedapp.feed.publishing import PublishResult
    from feedapp.services import Services

#: Errors whose message is already written for a person; anything else is summarised.
EXPLAINED = (ApiError, TokenError, FeedRefused, RateLimitTimeout)


def error_kind(exc: BaseException) -> str:
    """What kind of failure this was, so the merchant's page can explain it in their language."""
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


class BuildStatus:
    """Writes one store's build status as a build goes."""

    def __init__(self, registry: StoreRegistry, store_code: str) -> None:
        self.registry = registry
        self.code = store_code
        self._current: dict[str, object] = {}

    def started(self, build_id: str, at: float) -> None:
        """A build began: progress starts from nothing."""
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
        }
        self.registry.set_json(self.code, "build", self._current)

    def progress(self, update: dict[str, object]) -> None:
        """Pages done of total and items so far, for the page's progress bar and the CLI."""
        self._current.update(update)
        self.registry.set_json(self.code, "build", self._current)

    def failed(self, exc: BaseException, duration: float) -> None:
        """The build stopped; the message says why and what to do."""
        self._current.update(
            state="failed",
            finished_at=time.time(),
            duration=round(duration, 3),
            error=explain(exc, self.code),
            error_kind=error_kind(exc),
            refused=isinstance(exc, FeedRefused),
            collapse={"old": exc.old, "new": exc.new}
            if isinstance(exc, FeedCollapseRefused)
            else None,
        )
        self.registry.set_json(self.code, "build", self._current)

    def succeeded(
        self,
        result: PublishResult,
        diagnostics: BuildDiagnostics,
        duration: float,
        requests: int,
    ) -> None:
        """The feed went live: remember it as the last good build, with its diagnostics."""
        now = time.time()
        self._current.update(
            state="ok",
            finished_at=now,
            duration=round(duration, 3),
            items=result.items,
            products=diagnostics.products,
            requests=requests,
            error=None,
        )
        self.registry.set_json(self.code, "build", self._current)
        self.registry.set_json(
            self.code,
            "last_good",
            {
                "build_id": result.build_id,
                "finished_at": now,
                "duration": round(duration, 3),
                "items": result.items,
                "products": diagnostics.products,
                "left_out": diagnostics.items_left_out,
                "forced": result.forced,
            },
        )
        self.registry.set_json(self.code, "diagnostics", diagnostics.to_dict())


def read_status(registry: StoreRegistry, store_code: str) -> dict[str, object]:
    """The last build and the last good build of a store ({} for a store never built)."""
    return {
        "build": registry.get_json(store_code, "build") or {},
        "last_good": registry.get_json(store_code, "last_good") or {},
    }


def store_status(svc: Services, code: str, now: float | None = None) -> dict[str, object]:
    """One store's feed state as the CLI, monitoring and the settings page read it."""
    now = time.time() if now is None else now
    status = read_status(svc.registry, code)
    build, last_good = status["build"], status["last_good"]
    diagnostics = svc.registry.get_json(code, "diagnostics") or {}
    if queueing.is_running(svc, code):
        state = "running"
    elif queueing.is_queued(svc, code):
        state = "queued"
    else:
        state = {"ok": "ok", "failed": "failed", "running": "failed"}.get(
            str(build.get("state")), "never"
        )
    finished = last_good.get("finished_at")
    return {
        "store": code,
        "state": state,
        "started_at": build.get("started_at"),
        "finished_at": build.get("finished_at"),
        "items": last_good.get("items"),
        "products": last_good.get("products"),
        "left_out": last_good.get("left_out"),
        "age_seconds": round(now - float(finished), 1) if finished else None,
        "progress": {"pages_done": build.get("pages_done"), "pages_total": build.get("pages_total")}
        if state == "running"
        else None,
        "problems": {p["code"]: p["count"] for p in diagnostics.get("problems", [])},
        "error": build.get("error") if build.get("state") == "failed" else None,
        "collapse": build.get("collapse") if build.get("state") == "failed" else None,
        "error_kind": build.get("error_kind") if build.get("state") == "failed" else None,
        "job": queueing.job_meta(svc, code) or None,
    }
