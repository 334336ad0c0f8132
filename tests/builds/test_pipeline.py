"""The build pipeline end to end: real Redis, real worker processes, the sandbox over HTTP."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig
from feedapp_dev.sandbox.catalogue import product_id
from processes import Process, cpu_burners, wait_for
from rq import Worker
from rq.job import Job
from rq.registry import FinishedJobRegistry, StartedJobRegistry
from rq.worker import WorkerStatus

from feedapp import create_app
from feedapp.builds import queueing
from feedapp.builds.status import store_status
from feedapp.feed.publishing import published_feed
from workers.scheduler import tick

pytestmark = pytest.mark.slow


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(product_count=1000, fault_seed=3)


def control(sandbox, path: str, payload: dict | None = None, method: str = "post") -> dict:
    reply = requests.request(method, f"{sandbox.url}/_sandbox/{path}", json=payload, timeout=10)
    reply.raise_for_status()
    return reply.json()


def wait_built(svc, code: str, timeout: float = 120, after: float = 0.0) -> dict:
    """Wait until the store's last build finished after `after`; its status."""

    def done() -> dict | None:
        status = store_status(svc, code)
        build = svc.registry.get_json(code, "build") or {}
        finished = float(build.get("finished_at") or 0)
        if status["state"] in ("ok", "failed") and finished > after:
            return status
        return None

    return wait_for(done, timeout, f"a build of {code}", every=0.2)


def ok(status: dict) -> dict:
    """The status of a build that succeeded; otherwise fail with the build's error."""
    assert status["state"] == "ok", status["error"]
    return status


def builds_run(svc) -> list[dict]:
    """Results of every job that really built (not deferred to a running build)."""
    registry = FinishedJobRegistry(queueing.QUEUE, connection=svc.redis)
    results = [
        Job.fetch(jid, connection=svc.redis).return_value() for jid in registry.get_job_ids()
    ]
    return [r for r in results if r and "build_id" in r]


def finished_reasons(svc) -> list[str]:
    """Why each finished build job was queued, in no particular order."""
    registry = FinishedJobRegistry(queueing.QUEUE, connection=svc.redis)
    return [Job.fetch(j, connection=svc.redis).meta["reason"] for j in registry.get_job_ids()]


def settled(svc, code: str) -> bool:
    """No build of the store is queued, running, or finishing its job (RQ's started registry).

    A build asks for its follow-up before its job ends, so once settled no build is on its way.
    """
    return not (
        queueing.is_queued(svc, code)
        or queueing.is_running(svc, code)
        or queueing.queue(svc.redis).count
        or StartedJobRegistry(queueing.QUEUE, connection=svc.redis).count
    )


def listening_workers(svc) -> int:
    """Workers registered on the feeds queue and waiting for a job."""
    workers = Worker.all(connection=svc.redis, queue=queueing.queue(svc.redis))
    return sum(w.get_state() == WorkerStatus.IDLE for w in workers)


def pages_done(svc, code: str) -> int:
    """Pages the running build has read so far."""
    return int((store_status(svc, code)["progress"] or {}).get("pages_done") or 0)


def limited(proc: Process) -> str:
    """The worker's log lines about 429s, to explain a failure."""
    return "\n".join(line for line in proc.log.read_text().splitlines() if "rate-limited" in line)


def feed_bytes(svc, code: str) -> bytes:
    return published_feed(svc.feeds_dir, code).xml_path.read_bytes()


def test_worker_builds_and_the_feed_is_served(svc, installed, sandbox, start, live_config) -> None:
    start("worker")
    assert queueing.request_build(svc, installed.code, reason="test") == "queued"
    status = ok(wait_built(svc, installed.code))
    assert status["items"] > 1000
    assert status["problems"]  # the sandbox catalogue has deliberate mistakes
    client = create_app(live_config, redis=svc.redis).test_client()
    reply = client.get(f"/feeds/{installed.first_feed.token}.xml")
    assert reply.status_code == 200 and reply.data == feed_bytes(svc, installed.code)
    reply.close()


def test_failing_replies_give_the_same_feed(svc, installed, sandbox, start) -> None:
    start("worker")
    queueing.request_build(svc, installed.code)
    ok(wait_built(svc, installed.code))
    clean = feed_bytes(svc, installed.code)
    control(sandbox, "config", {"error_rate": 0.04, "drop_rate": 0.03, "malformed_rate": 0.03})
    mark = time.time()
    queueing.request_build(svc, installed.code)
    ok(wait_built(svc, installed.code, after=mark))
    stats = control(sandbox, "stats", method="get")
    assert stats["server_errors"] + stats["dropped"] + stats["malformed"] > 0
    assert feed_bytes(svc, installed.code) == clean


def test_burst_of_requests_during_a_build_gives_exactly_one_follow_up(
    svc, installed, sandbox, start
) -> None:
    """Fifty requests from five threads while a build runs: one follow-up build, with the edit."""
    code = installed.code
    start("worker")
    start("worker")
    wait_for(lambda: listening_workers(svc) == 2, 60, "both workers listening")
    control(sandbox, "config", {"per_second": 3})  # a slow build, so the burst lands inside it
    assert queueing.request_build(svc, code, reason="first") == "queued"
    wait_for(lambda: pages_done(svc, code) >= 1, 60, "the build to have read the first page")
    marker = "Renamed during the build"  # too late for this build: its page was read already
    control(sandbox, f"stores/{code}/products/{product_id(0)}", {"name": marker})
    answers: list[str] = []

    def burst() -> None:
        for _ in range(10):
            answers.append(queueing.request_build(svc, code, reason="burst"))

    threads = [threading.Thread(target=burst) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert queueing.is_running(svc, code), "the build ended before the burst did; slow it down"
    assert answers == ["dirty"] * 50
    control(sandbox, "config", {"per_second": 20})
    wait_for(lambda: settled(svc, code), 120, "the build and any follow-up to finish")
    assert sorted(finished_reasons(svc)) == ["changed during the last build", "first"]
    first, second = sorted(builds_run(svc), key=lambda r: r["started_at"])
    assert first["started_at"] + first["duration"] <= second["started_at"]
    assert marker.encode() in feed_bytes(svc, code)


def test_killed_worker_keeps_the_old_feed_then_recovers(
    svc,
    installed,
    sandbox,
    start,
    live_config,
):
    worker = start("worker")
    queueing.request_build(svc, installed.code)
    ok(wait_built(svc, installed.code))
    old = feed_bytes(svc, installed.code)
    client = create_app(live_config, redis=svc.redis).test_client()
    url = f"/feeds/{installed.first_feed.token}.xml"
    product = control(sandbox, "stores/sandboxstore", method="get")
    assert product["count"] == 1000
    edited = control(
        sandbox, "stores/sandboxstore/products/100000", {"name": "Renamed while the worker died"}
    )
    assert edited["product"]["name"] == "Renamed while the worker died"
    control(sandbox, "config", {"per_second": 3})  # a slow build, so it can be killed midway
    queueing.request_build(svc, installed.code)
    wait_for(
        lambda: (store_status(svc, installed.code)["progress"] or {}).get("pages_done"),
        60,
        "the build to be under way",
    )
    served: list[tuple[int, bool]] = []
    stop = threading.Event()

    def fetch_all_along() -> None:
        while not stop.is_set():
            reply = client.get(url, headers={"Accept-Encoding": "identity"})
            served.append((reply.status_code, reply.data == old))
            reply.close()
            time.sleep(0.05)

    fetcher = threading.Thread(target=fetch_all_along)
    fetcher.start()
    try:
        worker.kill()
        worker.popen.wait(timeout=10)
        # The dead build's lock outlives its last heartbeat by BUILD_LOCK_TTL (5 s here).
        wait_for(lambda: not queueing.is_running(svc, installed.code), 30, "the lock to expire")
    finally:
        stop.set()
        fetcher.join()
    assert served and all(code == 200 and same for code, same in served), [
        s for s in served if s != (200, True)
    ]
    assert feed_bytes(svc, installed.code) == old
    control(sandbox, "config", {"per_second": 20})
    mark = time.time()
    start("worker")
    assert tick(svc) == {installed.code: "queued"}  # the scheduler sees the abandoned build
    ok(wait_built(svc, installed.code, after=mark))
    assert b"Renamed while the worker died" in feed_bytes(svc, installed.code)


@pytest.mark.parametrize(
    "sandbox_config",
    [SandboxConfig(product_count=3000, token_ttl_seconds=2, latency_ms=50, per_second=5)],
)
def test_tokens_expiring_during_a_build(svc, installed, sandbox, start) -> None:
    start("worker")
    queueing.request_build(svc, installed.code)
    status = wait_built(svc, installed.code)
    assert status["state"] == "ok", status["error"]
    stats = control(sandbox, "stats", method="get")
    uses = stats["refresh_token_uses"]
    assert len(uses) >= 2  # the build outlived several tokens
    assert max(uses.values()) == 1  # and no refresh token was presented twice
    assert stats["unauthorized"] == 0  # every token was renewed before Jumpseller refused it


def build_twenty_thousand(svc, installed, sandbox, start) -> None:
    """One build of the 20,000-product store: every product, and not one 429."""
    worker = start("worker")
    queueing.request_build(svc, installed.code)
    status = wait_built(svc, installed.code, timeout=300)
    assert status["state"] == "ok", status["error"]
    stats = control(sandbox, "stats", method="get")
    assert stats["rate_limited"] == 0, limited(worker)
    assert status["products"] == 20_000
    build = svc.registry.get_json(installed.code, "build")
    floor = 200 / sandbox.state.config.per_second
    print(
        f"20k products: {build['duration']:.1f}s, {stats['requests']} requests, "
        f"floor {floor:.1f}s, ratio {build['duration'] / floor:.2f}"
    )


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(product_count=20_000, latency_ms=100)])
def test_twenty_thousand_products_at_100ms_without_a_429(svc, installed, sandbox, start) -> None:
    build_twenty_thousand(svc, installed, sandbox, start)


@pytest.mark.parametrize(
    "sandbox_config",
    [
        SandboxConfig(product_count=20_000, latency_ms=100),
        # Paging, not the mapping's CPU, sets the pace of this one on any machine.
        SandboxConfig(product_count=20_000, latency_ms=100, per_second=8),
    ],
    ids=["20-a-second", "8-a-second"],
)
def test_twenty_thousand_products_beside_two_busy_cores_without_a_429(
    svc, installed, sandbox, start
) -> None:
    """Requests delayed by a saturated CPU reach Jumpseller bunched; the limiter allows for it."""
    with cpu_burners(2):
        build_twenty_thousand(svc, installed, sandbox, start)


@pytest.mark.parametrize(
    "sandbox_config", [SandboxConfig(product_count=10_000, per_second=5, per_minute=100)]
)
def test_store_with_lower_limits_gets_no_429(svc, installed, sandbox, start) -> None:
    worker = start("worker")
    queueing.request_build(svc, installed.code)
    status = wait_built(svc, installed.code, timeout=300)
    assert status["state"] == "ok", status["error"]
    stats = control(sandbox, "stats", method="get")
    assert stats["requests"] > 100  # the per-minute limit was really in play
    assert stats["rate_limited"] == 0, limited(worker)


def test_two_schedulers_queue_one_build(svc, installed, sandbox, start) -> None:
    schedulers = [start("scheduler"), start("scheduler")]
    start("worker")
    ok(wait_built(svc, installed.code, timeout=60))

    def both_ticked() -> bool:  # each scheduler ticks once at start, then every minute
        return all("executed successfully" in s.log.read_text() for s in schedulers)

    wait_for(both_ticked, 60, "both schedulers' first tick")
    wait_for(lambda: settled(svc, installed.code), 60, "any build they queued to finish")
    assert finished_reasons(svc) == ["schedule"]
    assert len(builds_run(svc)) == 1
