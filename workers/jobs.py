"""RQ job functions: plain functions of plain arguments, run in the worker's forked work-horse."""

from __future__ import annotations

import logging
from dataclasses import asdict

from rq import Worker, get_current_job

from config import Config
from feedapp.builds import queueing
from feedapp.feed.publishing import FeedRefused
from feedapp.jumpseller.tokens import StoreRevoked
from feedapp.logs import configure_logging
from feedapp.services import Services

log = logging.getLogger(__name__)

#: Settings of the worker process, inherited by each forked work-horse.
_config: Config | None = None


def _services() -> Services:
    """The work-horse's services: the worker's settings, or the environment's outside a worker."""
    global _config
    if _config is None:
        _config = Config()
    return Services(_config)


def build_feed(store_code: str, force: bool = False) -> dict[str, object] | None:
    """Build every feed of one store under its lock, as far as asked (a webhook's update, a
    re-render, or a full build: queueing.MODES); refusals are final, other failures retried.

    A build that refused some feeds (their live files kept) but published the others is a
    refusal too: retrying would page the whole catalogue again to meet the same refusal.
    """
    from feedapp.builds import updates

    svc = _services()
    job = get_current_job()

    def progress(update: dict[str, object]) -> None:
        if job is not None:
            job.meta.update(update)
            job.save_meta()

    try:
        result = queueing.run_with_lock(
            svc,
            store_code,
            lambda: updates.run(svc, store_code, force=force, progress=progress),
        )
    except (StoreRevoked, FeedRefused) as exc:
        log.warning("store=%s build refused: %s", store_code, exc)
        return {"store": store_code, "refused": str(exc)}
    if result is None:
        return {"store": store_code, "deferred": True}
    return result if isinstance(result, dict) else asdict(result)


def run_worker(config: Config, *, burst: bool = False) -> None:
    """Work the feeds queue with the app's settings (what `flask worker` runs)."""
    global _config
    _config = config
    configure_logging(config)
    svc = Services(config)
    worker = Worker([queueing.queue(svc.redis)], connection=svc.redis)
    worker.work(with_scheduler=True, burst=burst, logging_level=config.LOG_LEVEL)
