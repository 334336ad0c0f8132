"""The scheduler: due stores, back-off after failures, abandoned builds, idempotent ticks."""

from __future__ import annotations

import time

from feedapp.builds import queueing
from feedapp.builds.status import read_status
from feedapp.stores import Store
from workers.scheduler import FAILED_BACKOFF, due_stores, is_due, recover_stale, tick

NOW = 1_800_000_000.0


def test_is_due_follows_frequency() -> None:
    fresh = {"last_good": {"finished_at": NOW - 3000}}
    assert not is_due(fresh, 1, NOW)
    assert is_due(fresh, 1, NOW + 700)
    assert is_due({}, 24, NOW)  # never built


def test_failed_build_backs_off() -> None:
    failed = {"build": {"state": "failed", "finished_at": NOW - 60}, "last_good": {}}
    assert not is_due(failed, 24, NOW)
    assert is_due(failed, 24, NOW + FAILED_BACKOFF)


def test_tick_queues_due_installed_stores_once(svc, registry, store) -> None:
    registry.save(Store(code="gone", state="uninstalled"))
    assert tick(svc) == {"teststore": "queued"}
    assert tick(svc) == {}  # a second scheduler, or the next tick: nothing twice
    assert queueing.queue(svc.redis).count == 1


def test_fresh_feed_is_not_due(svc, registry, store) -> None:
    registry.set_json("teststore", "last_good", {"finished_at": time.time() - 60})
    assert due_stores(svc) == []


def test_a_store_is_due_as_soon_as_one_of_its_feeds_is(svc, registry, store) -> None:
    """Built together two hours ago: due once a feed rebuilt hourly is, or one never built."""
    two_hours_ago = {"finished_at": time.time() - 7200}
    registry.set_json("teststore", "last_good:1", two_hours_ago)
    added = registry.add_feed("teststore", "Brasil (pt)", "pt", "BR")
    assert due_stores(svc) == ["teststore"]  # the new feed was never built
    registry.set_json("teststore", f"last_good:{added.id}", two_hours_ago)
    assert due_stores(svc) == []  # both feeds are rebuilt daily
    hourly = registry.get("teststore").feed(added.id).options
    hourly.frequency_hours = 1
    registry.update_feed("teststore", added.id, lambda feed: setattr(feed, "options", hourly))
    assert due_stores(svc) == ["teststore"]


def test_abandoned_build_is_recovered(svc, registry, store) -> None:
    registry.set_json("teststore", "last_good", {"finished_at": time.time() - 60})
    registry.set_json("teststore", "build", {"state": "running", "started_at": time.time() - 600})
    assert due_stores(svc) == ["teststore"]
    build = registry.get_json("teststore", "build")
    assert build["state"] == "failed" and "worker" in build["error"]


def test_running_build_with_live_lock_is_left_alone(svc, registry, store) -> None:
    registry.set_json("teststore", "last_good", {"finished_at": time.time() - 60})
    registry.set_json("teststore", "build", {"state": "running", "started_at": time.time() - 600})
    with queueing.build_lock(svc, "teststore"):
        assert due_stores(svc) == []


def test_a_build_ending_while_the_tick_looks_is_not_taken_for_abandoned(
    svc, registry, store
) -> None:
    """The tick read "running"; then the build published and released its lock: not abandoned."""
    started = time.time() - 600
    registry.set_json("teststore", "build", {"state": "running", "started_at": started})
    seen = read_status(registry, "teststore")  # what the tick read while the build ran
    done = {"state": "ok", "started_at": started, "finished_at": time.time()}
    registry.set_json("teststore", "build", done)  # a build writes its outcome, then unlocks
    assert not recover_stale(svc, "teststore", seen, time.time())
    assert registry.get_json("teststore", "build") == done
