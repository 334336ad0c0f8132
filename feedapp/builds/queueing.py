"""The one place that knows queue names, job ids and the per-store build lock."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

from redis import Redis
from rq import Queue, Retry
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from feedapp.services import Services

log = logging.getLogger(__name__)

QUEUE = "feeds"
JOB_FUNC = "workers.jobs.build_feed"
#: Long enough for a 100k-product store under the per-minute limit, with room for retries.
JOB_TIMEOUT = 3 * 3600
#: A queued marker outlives any sane queue wait, so a lost job cannot block a store for ever.
QUEUED_TTL = JOB_TIMEOUT
#: A delayed build due sooner than this is left to RQ's scheduler, which may be moving it already.
PULL_FORWARD_MARGIN = 3.0


#: What a build may do, from least to most: apply the product events webhooks brought,
#: re-render every feed from the snapshot (settings changed), or page the whole catalogue.
MODES = ("update", "render", "full")

# KEYS[1] = the store's wanted mode; ARGV: the mode asked for, its TTL. Keeps the larger.
_WANT = """
local rank = {update = 1, render = 2, full = 3}
local current = redis.call('GET', KEYS[1])
if not current or rank[ARGV[1]] > (rank[current] or 0) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
"""


def queue(redis: Redis) -> Queue:
    """The feeds queue."""
    return Queue(QUEUE, connection=redis, default_timeout=JOB_TIMEOUT)


def _markers(svc: Services, code: str) -> tuple[str, str, str]:
    """The store's build lock, queued marker and dirty marker."""
    keys = svc.keys
    return keys.build_lock(code), keys.build_queued(code), keys.build_dirty(code)


def request_build(
    svc: Services,
    code: str,
    *,
    reason: str = "",
    force: bool = False,
    delay: float = 0,
    mode: str = "full",
) -> str:
    """Ask for a build (in `delay` seconds): 'queued', 'already-queued', or 'dirty' if running.

    A delayed build gathers the requests that follow it; an immediate request pulls it forward.
    The build does the most any request since the last one asked (MODES).
    """
    lock_key, queued_key, dirty_key = _markers(svc, code)
    redis = svc.redis
    redis.eval(_WANT, 1, svc.keys.build_wanted(code), mode, QUEUED_TTL)
    if redis.exists(lock_key):
        redis.set(dirty_key, "1", ex=QUEUED_TTL)
        return "dirty"
    job_id = f"build-{code}-{uuid.uuid4().hex[:12]}"
    if not redis.set(queued_key, job_id, nx=True, ex=QUEUED_TTL):
        if delay <= 0:
            _pull_forward(redis, redis.get(queued_key))
        return "already-queued"
    q = queue(redis)
    enqueue = partial(q.enqueue_in, timedelta(seconds=delay)) if delay > 0 else q.enqueue
    enqueue(
        JOB_FUNC,
        code,
        force,
        job_id=job_id,
        description=f"build feed of {code} ({reason})",
        job_timeout=JOB_TIMEOUT,
        result_ttl=86400,
        failure_ttl=7 * 86400,
        retry=Retry(max=2, interval=[60, 300]),
        meta={"store": code, "reason": reason},
    )
    log.info("store=%s build queued as %s in %.0fs (%s)", code, job_id, delay, reason or "request")
    return "queued"


def _pull_forward(redis: Redis, job_id: bytes | None) -> None:
    """Run a build waiting for its delay now; one due within seconds is left to RQ's scheduler."""
    if not job_id:
        return
    scheduled = ScheduledJobRegistry(QUEUE, connection=redis)
    due = redis.zscore(scheduled.key, job_id)
    if due is None or due - time.time() < PULL_FORWARD_MARGIN:
        return
    if scheduled.remove(job_id.decode()):  # only one caller wins the job
        queue(redis).enqueue_job(Job.fetch(job_id.decode(), connection=redis))


@contextmanager
def build_lock(svc: Services, code: str) -> Iterator[bool]:
    """Hold the store's build lock (kept alive by a heartbeat); yields False if it is taken."""
    lock_key, queued_key, dirty_key = _markers(svc, code)
    redis = svc.redis
    token = uuid.uuid4().hex
    ttl = svc.config.BUILD_LOCK_TTL  # a killed worker's store is free again this fast
    if not redis.set(lock_key, token, nx=True, ex=ttl):
        redis.set(dirty_key, "1", ex=QUEUED_TTL)
        redis.delete(queued_key)
        yield False
        return
    redis.delete(queued_key)
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat,
        args=(redis, lock_key, token, ttl, stop),
        daemon=True,
        name=f"lock-{code}",
    )
    beat.start()
    try:
        yield True
    finally:
        stop.set()
        beat.join(timeout=5)
        _release(redis, lock_key, token)
    if redis.getdel(dirty_key):
        request_build(svc, code, reason="changed during the last build", mode="update")


def _heartbeat(redis: Redis, key: str, token: str, ttl: int, stop: threading.Event) -> None:
    while not stop.wait(ttl / 4):
        try:
            if redis.get(key) != token.encode():
                return
            redis.expire(key, ttl)
        except Exception:
            log.warning("build lock heartbeat for %s missed", key)


_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _release(redis: Redis, key: str, token: str) -> None:
    redis.eval(_RELEASE, 1, key, token)


def take_wanted(svc: Services, code: str) -> str:
    """What the build starting now must do (a full build when no request said), taken so the
    requests arriving during it ask again."""
    wanted = svc.redis.getdel(svc.keys.build_wanted(code))
    mode = wanted.decode() if wanted else "full"
    return mode if mode in MODES else "full"


def is_running(svc: Services, code: str) -> bool:
    """Whether some worker holds the store's build lock."""
    return bool(svc.redis.exists(svc.keys.build_lock(code)))


def is_queued(svc: Services, code: str) -> bool:
    """Whether a build for the store waits in the queue."""
    return bool(svc.redis.exists(svc.keys.build_queued(code)))


def job_meta(svc: Services, code: str) -> dict[str, object]:
    """The running or queued job of a store (id, status, enqueued time), if any."""
    job_id = svc.redis.get(svc.keys.build_queued(code))
    ids = [job_id.decode()] if job_id else []
    ids += [
        j
        for j in StartedJobRegistry(QUEUE, connection=svc.redis).get_job_ids()
        if j.startswith(f"build-{code}-")
    ]
    for jid in ids:
        try:
            job = Job.fetch(jid, connection=svc.redis)
        except Exception:  # noqa: S112 - a job deleted meanwhile is simply absent
            continue
        return {
            "job_id": jid,
            "status": getattr(job.get_status(), "value", "unknown"),
            "enqueued_at": job.enqueued_at.timestamp() if job.enqueued_at else None,
        }
    return {}


def run_with_lock(svc: Services, code: str, build: Callable[[], object]) -> object | None:
    """Run a build under the store's lock; None (and a follow-up later) if one is running."""
    with build_lock(svc, code) as acquired:
        if not acquired:
            log.info("store=%s build already running; marked for one follow-up build", code)
            return None
        return build()
