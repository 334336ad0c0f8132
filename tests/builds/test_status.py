"""Build status: what each failure is and says, the documents a build writes, the state read."""

from __future__ import annotations

import pytest
from rq.timeouts import JobTimeoutException

from feedapp.builds import queueing
from feedapp.builds.status import (
    BuildStatus,
    FeedsRefused,
    error_kind,
    explain,
    feed_diagnostics,
    feed_last_good,
    read_status,
    store_status,
)
from feedapp.feed.diagnostics import BuildDiagnostics
from feedapp.feed.mapping import Item, MappedProduct
from feedapp.feed.problems import Problem
from feedapp.feed.publishing import FeedCheckFailed, FeedCollapseRefused, PublishResult
from feedapp.jumpseller.client import ApiError
from feedapp.jumpseller.ratelimit import RateLimitTimeout
from feedapp.jumpseller.tokens import StoreRevoked, TokenError
from feedapp.stores import StoreRegistry

CODE = "teststore"
API = ApiError(f"Store '{CODE}': Jumpseller answered 403 to products.json; check the scopes.")
TOKEN = TokenError(f"Store '{CODE}': Jumpseller did not answer the token refresh; retried later.")
REVOKED = StoreRevoked(f"Store '{CODE}': the app was removed; the merchant must reinstall it.")
RATE = RateLimitTimeout(f"Store '{CODE}': no request slot within 600s.")
CHECK = FeedCheckFailed(CODE, "the written feed is cut short at item 12.")
COLLAPSE = FeedCollapseRefused(CODE, 1000, 10)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (API, "api"),
        (TOKEN, "token"),
        (REVOKED, "revoked"),
        (RATE, "rate_limit"),
        (CHECK, "check"),
        (COLLAPSE, "collapse"),
        (JobTimeoutException("Task exceeded maximum timeout value (1800 seconds)"), "timeout"),
        (KeyError("access_token"), "unexpected"),
    ],
)
def test_each_failure_has_its_kind(exc: BaseException, kind: str) -> None:
    assert error_kind(exc) == kind


@pytest.mark.parametrize("exc", [API, TOKEN, REVOKED, RATE])
def test_failures_written_for_people_are_told_as_they_are(exc: BaseException) -> None:
    assert explain(exc, CODE) == str(exc)


@pytest.mark.parametrize("exc", [CHECK, COLLAPSE])
def test_a_refused_feed_is_told_without_the_store_prefix(exc: FeedCheckFailed) -> None:
    assert explain(exc, CODE) == exc.message and not explain(exc, CODE).startswith(CODE)


def test_a_timeout_names_the_store_and_says_the_old_feed_stays() -> None:
    message = explain(JobTimeoutException("Task exceeded maximum timeout value"), CODE)
    assert f"Store '{CODE}'" in message and "job timeout" in message
    assert "previous feed is still served" in message


def test_an_unexpected_failure_names_its_type_but_never_its_text() -> None:
    message = explain(KeyError("refresh-token-1234"), CODE)
    assert f"Store '{CODE}'" in message and "KeyError" in message and "worker log" in message
    assert "refresh-token-1234" not in message


# -- the documents a build writes ------------------------------------------------------------
def mapped_products() -> list[MappedProduct]:
    """Two products: one written with a warning, one left out with an error."""
    item = Item("1", [("id", "1"), ("title", "Mesa")])
    warning = Problem("description_missing", "warning", "1", None, "1", "Mesa")
    error = Problem("price_invalid", "error", "2", None, "2", "Silla", "-5")
    return [MappedProduct([item], [warning]), MappedProduct([], [error])]


def published(items: int, build_id: str = "b1", forced: bool = False) -> PublishResult:
    """What a publish returns for a feed of `items` items."""
    return PublishResult(
        items=items,
        previous_items=None,
        build_id=build_id,
        published_at="2030-01-01T00:00:00+00:00",
        sha256="0" * 64,
        etag='"' + "0" * 32 + '"',
        size=100,
        gz_size=50,
        forced=forced,
    )


def succeed(registry: StoreRegistry, build_id: str = "b1") -> BuildDiagnostics:
    """Run one successful build's status writes; its diagnostics."""
    diagnostics = BuildDiagnostics()
    for mapped in mapped_products():
        diagnostics.add(mapped)
    status = BuildStatus(registry, CODE)
    status.started(build_id, 1000.0)
    status.feed_published("1", published(1, build_id), diagnostics, 12.3456)
    status.succeeded(12.3456, 7, 1, 2)
    return diagnostics


def test_a_build_writes_started_progress_and_success(registry: StoreRegistry, store) -> None:
    status = BuildStatus(registry, CODE)
    status.started("b1", 1000.0)
    assert registry.get_json(CODE, "build") == {
        "state": "running",
        "build_id": "b1",
        "started_at": 1000.0,
        "finished_at": None,
        "pages_done": 0,
        "pages_total": None,
        "items": 0,
        "products": 0,
        "error": None,
        "feeds": {"1": {"state": "running"}},
    }
    status.progress({"pages_done": 2, "pages_total": 5, "items": 150, "products": 100})
    build = registry.get_json(CODE, "build")
    assert (build["state"], build["pages_done"], build["pages_total"]) == ("running", 2, 5)
    assert (build["items"], build["products"], build["build_id"]) == (150, 100, "b1")
    assert feed_last_good(registry, CODE, "1") == {}  # nothing is good until it is published

    diagnostics = BuildDiagnostics()
    for mapped in mapped_products():
        diagnostics.add(mapped)
    status.feed_published("1", published(1), diagnostics, 12.3456)
    assert registry.get_json(CODE, "build")["feeds"]["1"] == {
        "state": "ok",
        "items": 1,
        "products": 2,
        "left_out": 1,
        "published_at": "2030-01-01T00:00:00+00:00",
        "problems": {"price_invalid": 1, "description_missing": 1},
        "error": None,
    }
    last_good = registry.get_json(CODE, "last_good:1")
    assert last_good["finished_at"] >= 1000.0
    assert {k: v for k, v in last_good.items() if k != "finished_at"} == {
        "build_id": "b1",
        "duration": 12.346,
        "items": 1,
        "products": 2,
        "left_out": 1,
        "forced": False,
        "published_at": "2030-01-01T00:00:00+00:00",
    }
    assert registry.get_json(CODE, "diagnostics:1") == diagnostics.to_dict()
    status.succeeded(12.3456, 7, 1, 2)
    build = registry.get_json(CODE, "build")
    assert build["state"] == "ok" and build["error"] is None
    assert build["finished_at"] >= last_good["finished_at"] and build["duration"] == 12.346
    assert (build["items"], build["products"], build["requests"]) == (1, 2, 7)


def test_a_failed_build_writes_why_and_keeps_the_last_good_one(
    registry: StoreRegistry, store
) -> None:
    succeed(registry)
    last_good = feed_last_good(registry, CODE, "1")
    status = BuildStatus(registry, CODE)
    status.started("b2", 2000.0)
    status.progress({"pages_done": 1, "pages_total": 3})
    status.failed(API, 4.0)
    build = registry.get_json(CODE, "build")
    assert (build["state"], build["build_id"], build["pages_done"]) == ("failed", "b2", 1)
    assert build["error"] == str(API) and build["error_kind"] == "api"
    assert build["refused"] is False and build["collapse"] is None and build["duration"] == 4.0
    assert build["feeds"]["1"] == {"state": "failed", "error": str(API), "error_kind": "api"}
    assert feed_last_good(registry, CODE, "1") == last_good

    status.started("b3", 3000.0)
    status.failed(COLLAPSE, 1.0)
    build = registry.get_json(CODE, "build")
    assert build["refused"] is True and build["error_kind"] == "collapse"
    assert build["collapse"] == {"old": 1000, "new": 10}
    assert build["error"] == COLLAPSE.message


# -- the state read back ---------------------------------------------------------------------
def test_a_store_never_built(svc, store) -> None:
    status = store_status(svc, CODE)
    assert status["store"] == CODE and status["state"] == "never"
    assert status["items"] is None and status["age_seconds"] is None
    assert status["progress"] is None and status["error"] is None and status["job"] is None
    assert status["problems"] == {}


def test_a_queued_build(svc, store) -> None:
    assert queueing.request_build(svc, CODE, reason="test") == "queued"
    status = store_status(svc, CODE)
    assert status["state"] == "queued" and status["job"]["status"] == "queued"


def test_a_running_build_shows_its_progress(svc, store) -> None:
    succeed(svc.registry)
    with queueing.build_lock(svc, CODE) as acquired:
        assert acquired
        status = BuildStatus(svc.registry, CODE)
        status.started("b2", 2000.0)
        status.progress({"pages_done": 2, "pages_total": 5})
        running = store_status(svc, CODE)
    assert running["state"] == "running" and running["started_at"] == 2000.0
    assert running["progress"] == {"pages_done": 2, "pages_total": 5}
    assert running["items"] == 1  # the feed served meanwhile is the last good one
    # The worker died mid-build: its lock is gone, the status still says running.
    abandoned = store_status(svc, CODE)
    assert abandoned["state"] == "failed" and abandoned["progress"] is None


def test_a_good_build_gives_its_age_and_problems(svc, store) -> None:
    succeed(svc.registry)
    finished = feed_last_good(svc.registry, CODE, "1")["finished_at"]
    status = store_status(svc, CODE, now=finished + 90.04)
    assert status["state"] == "ok" and status["age_seconds"] == 90.0
    assert (status["items"], status["products"], status["left_out"]) == (1, 2, 1)
    assert status["problems"] == {"price_invalid": 1, "description_missing": 1}
    assert status["error"] is None and status["collapse"] is None and status["error_kind"] is None


def test_a_failed_build_gives_the_error_and_the_collapse(svc, store) -> None:
    succeed(svc.registry)
    status = BuildStatus(svc.registry, CODE)
    status.started("b2", 2000.0)
    status.failed(COLLAPSE, 1.0)
    failed = store_status(svc, CODE)
    assert failed["state"] == "failed" and failed["error_kind"] == "collapse"
    assert failed["error"] == COLLAPSE.message
    assert failed["collapse"] == {"old": 1000, "new": 10}
    assert failed["items"] == 1  # Google still gets the last good feed
    succeed(svc.registry, "b3")
    recovered = store_status(svc, CODE)
    assert recovered["state"] == "ok"
    assert recovered["collapse"] is None and recovered["error"] is None


# -- several feeds -----------------------------------------------------------------------------
def test_refused_feeds_of_a_store_are_named_and_keep_the_first_ones_kind() -> None:
    refused = FeedsRefused(CODE, {"2": ("Brasil (pt)", COLLAPSE), "3": ("Perú (es)", CHECK)})
    assert error_kind(refused) == "collapse"
    message = explain(refused, CODE)
    assert message.startswith(f'Feed "Brasil (pt)": {COLLAPSE.message} Feed "Perú (es)": ')
    assert message.endswith("The store's other feeds were published.")


def two_feeds(svc) -> None:
    """The test store gets a second feed, for Brazil in Portuguese."""
    svc.registry.add_feed(CODE, "Brasil (pt)", "pt", "BR")


def test_a_refused_feed_fails_alone_while_the_others_are_published(svc, store) -> None:
    two_feeds(svc)
    diagnostics = BuildDiagnostics()
    for mapped in mapped_products():
        diagnostics.add(mapped)
    status = BuildStatus(svc.registry, CODE, ["1", "2"])
    status.started("b1", 1000.0)
    status.feed_published("1", published(1), diagnostics, 3.0)
    status.feed_refused("2", COLLAPSE, diagnostics)
    status.failed(FeedsRefused(CODE, {"2": ("Brasil (pt)", COLLAPSE)}), 3.0)

    current = store_status(svc, CODE)
    assert current["state"] == "failed" and current["error_kind"] == "collapse"
    assert current["collapse"] == {"old": 1000, "new": 10}
    assert current["items"] == 1 and current["problems"] == {
        "price_invalid": 1,
        "description_missing": 1,
    }
    first, second = current["feeds"]
    assert (first["id"], first["state"], first["refused"], first["error"]) == (
        "1",
        "ok",
        False,
        None,
    )
    assert first["items"] == 1 and first["published_at"] == "2030-01-01T00:00:00+00:00"
    assert (second["id"], second["name"], second["language"], second["country"]) == (
        "2",
        "Brasil (pt)",
        "pt",
        "BR",
    )
    assert second["state"] == "failed" and second["refused"] is True
    assert second["error"] == COLLAPSE.message and second["error_kind"] == "collapse"
    assert second["collapse"] == {"old": 1000, "new": 10}
    assert second["items"] is None and second["problems"] == {}  # nothing of it is live
    assert feed_last_good(svc.registry, CODE, "2") == {}
    assert feed_diagnostics(svc.registry, CODE, "2") is None
    build = svc.registry.get_json(CODE, "build")["feeds"]["2"]
    assert build["state"] == "refused" and build["items"] == 1  # what the refused build had


def test_a_feed_added_since_the_last_build_was_never_built(svc, store) -> None:
    succeed(svc.registry)
    two_feeds(svc)
    first, second = store_status(svc, CODE)["feeds"]
    assert first["state"] == "ok" and second["state"] == "never"
    assert read_status(svc.registry, CODE, ["1", "2"])["feeds"]["2"] == {}


def test_a_record_from_before_feeds_per_market_reads_as_its_first_feed(svc, store) -> None:
    """The store-wide documents of an older build are the first feed's until it is rebuilt."""
    diagnostics = BuildDiagnostics()
    for mapped in mapped_products():
        diagnostics.add(mapped)
    svc.registry.set_json(CODE, "build", {"state": "ok", "finished_at": 990.0})
    svc.registry.set_json(CODE, "last_good", {"finished_at": 990.0, "items": 1, "products": 2})
    svc.registry.set_json(CODE, "diagnostics", diagnostics.to_dict())
    two_feeds(svc)
    current = store_status(svc, CODE, now=1000.0)
    assert (current["state"], current["items"], current["age_seconds"]) == ("ok", 1, 10.0)
    first, second = current["feeds"]
    assert first["state"] == "ok" and first["problems"]["price_invalid"] == 1
    assert second["state"] == "never" and second["items"] is None
    assert feed_diagnostics(svc.registry, CODE, "2") is None
    succeed(svc.registry, "b2")  # the first per-feed build takes over from the old documents
    assert feed_last_good(svc.registry, CODE, "1")["build_id"] == "b2"
