"""The scheduler loop: every minute, queue a build for each store with a feed that is due.

A build makes every feed of a store, so a store is due as soon as one of its feeds is: the feed
with the smallest frequency sets the pace, and a feed refused at its last build (its last good
build growing old) is tried again once the failed build's back-off has passed.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from feedapp.builds import queueing
from feedapp.builds.status import read_status
from feedapp.logs import configure_logging
from feedapp.services import Services

if TYPE_CHECKING:
    from config import Config

log = logging.getLogger(__name__)

#: After a failed build, wait this long before the schedule tries again.
FAILED_BACKOFF = 15 * 60
TICK_SECONDS = 60


def is_due(status: dict, frequency_hours: int, now: float) -> bool:
    """A feed is due when its last good build is older than its frequency (and not backing off).

    ``status``: the store's last build ("build") and the feed's last good one ("last_good").
    """
    build, last_good = status.get("build") or {}, status.get("last_good") or {}
    if (
        build.get("state") == "failed"
        and now - float(build.get("finished_at") or 0) < FAILED_BACKOFF
    ):
        return False
    last = float(last_good.get("finished_at") or 0)
    return now - last >= frequency_hours * 3600


def recover_stale(svc: Services, code: str, status: dict, now: float) -> bool:
    """A build marked running with no live lock was killed: record it and build again."""
    build = status.get("build") or {}
    if build.get("state") != "running" or queueing.is_running(svc, code):
        return False
    # Read it again now that no lock is held: a build that ended meanwhile wrote its outcome
    # before it let go of its lock.
    build = svc.registry.get_json(code, "build") or {}
    if build.get("state") != "running":
        return False
    if now - float(build.get("started_at") or now) < svc.config.BUILD_LOCK_TTL:
        return False
    build.update(
        state="failed",
        finished_at=now,
        error=f"Store '{code}': the worker running the build stopped; building again.",
    )
    svc.registry.set_json(code, "build", build)
    log.warning("store=%s build abandoned by its worker; queueing again", code)
    return True


def due_stores(svc: Services, now: float | None = None) -> list[str]:
    """Installed stores that need a build now, stale builds included."""
    now = time.time() if now is None else now
    due = []
    for store in svc.registry:
        if not store.installed:
            continue
        status = read_status(svc.registry, store.code, [feed.id for feed in store.feeds])
        if recover_stale(svc, store.code, status, now) or any(
            is_due(
                {"build": status["build"], "last_good": status["feeds"][feed.id]},
                feed.options.frequency_hours,
                now,
            )
            for feed in store.feeds
        ):
            due.append(store.code)
    return due


def tick(svc: Services, now: float | None = None) -> dict[str, str]:
    """Queue every due store; safe to run from two schedulers at once (queueing is idempotent)."""
    outcome = {}
    for code in due_stores(svc, now):
        if queueing.is_running(svc, code) or queueing.is_queued(svc, code):
            continue
        outcome[code] = queueing.request_build(svc, code, reason="schedule")
    if outcome:
        log.info("scheduler queued: %s", ", ".join(f"{c}={r}" for c, r in outcome.items()))
    return outcome


def run_scheduler(config: Config) -> None:
    """Run the tick every minute for ever (what `flask scheduler` runs; start exactly one)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    configure_logging(config)
    svc = Services(config)
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        tick,
        "interval",
        args=[svc],
        seconds=TICK_SECONDS,
        id="enqueue-due-feeds",
        coalesce=True,
        misfire_grace_time=5 * TICK_SECONDS,
        max_instances=1,
        next_run_time=_now(),
    )
    log.info("scheduler started: checking for due feeds every %ds", TICK_SECONDS)
    scheduler.start()


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
