"""Queueing rules: one queued and one running build per store, one follow-up for changes."""

from __future__ import annotations

from feedapp.builds import queueing


def test_one_queued_build_per_store(svc, store) -> None:
    assert queueing.request_build(svc, "teststore") == "queued"
    assert queueing.request_build(svc, "teststore") == "already-queued"
    assert queueing.queue(svc.redis).count == 1
    job = queueing.queue(svc.redis).jobs[0]
    assert job.func_name == queueing.JOB_FUNC and job.args[0] == "teststore"
    assert job.failure_ttl <= 7 * 86400  # a failed build never blocks the store for a year
    assert queueing.job_meta(svc, "teststore")["status"] == "queued"


def test_request_during_a_build_marks_dirty_and_gets_one_follow_up(svc, store) -> None:
    queueing.request_build(svc, "teststore")
    runs = []
    with queueing.build_lock(svc, "teststore") as acquired:
        assert acquired and not queueing.is_queued(svc, "teststore")
        assert queueing.is_running(svc, "teststore")
        for _ in range(5):
            assert queueing.request_build(svc, "teststore") == "dirty"
        runs.append(1)
    assert runs == [1]
    assert not queueing.is_running(svc, "teststore")
    assert queueing.queue(svc.redis).count == 2  # the first request's job and one follow-up
    assert queueing.is_queued(svc, "teststore")


def test_a_second_build_never_overlaps(svc, store) -> None:
    with queueing.build_lock(svc, "teststore") as first:
        assert first
        assert queueing.run_with_lock(svc, "teststore", lambda: "built") is None
    assert queueing.run_with_lock(svc, "teststore", lambda: "built") == "built"


def test_lock_expires_without_heartbeat(svc, store, redis) -> None:
    with queueing.build_lock(svc, "teststore"):
        ttl = redis.ttl(svc.keys.build_lock("teststore"))
        assert 0 < ttl <= svc.config.BUILD_LOCK_TTL
