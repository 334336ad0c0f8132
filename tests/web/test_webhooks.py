"""Product webhooks: signed deliveries queue one debounced build; builds keep hooks registered."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import requests
from feedapp_dev.sandbox.catalogue import product_id
from live_servers import AppServer
from processes import Process, process_env, wait_for
from rq.job import Job
from rq.registry import FinishedJobRegistry, ScheduledJobRegistry

from feedapp import create_app
from feedapp.builds import builder, queueing
from feedapp.feed.publishing import published_feed
from feedapp.jumpseller.client import make_client
from feedapp.jumpseller.hooks import (
    MAX_BODY,
    PATH,
    PRODUCT_EVENTS,
    ensure_hooks,
    register_hooks,
    signature,
)
from feedapp.stores import Store

HOOK_SCOPES = "read_products read_store read_hooks write_hooks"
BODY = json.dumps({"product": {"id": 100000, "name": "Edited"}}).encode()


def deliver(client, body: bytes = BODY, *, event: str = "product_updated", **headers: str):
    """POST a delivery as Jumpseller sends it; headers default to a good signature for teststore."""
    sent = {
        "Content-Type": "application/json",
        "Jumpseller-Event": event,
        "Jumpseller-Store-Code": "teststore",
        "Jumpseller-Hmac-Sha256": signature(body, "hooks-789"),
        **headers,
    }
    return client.post(PATH, data=body, headers={k: v for k, v in sent.items() if v is not None})


def scheduled(redis) -> ScheduledJobRegistry:
    return ScheduledJobRegistry(queueing.QUEUE, connection=redis)


def nothing_queued(svc) -> bool:
    return (
        not queueing.is_queued(svc, "teststore")
        and queueing.queue(svc.redis).count == 0
        and scheduled(svc.redis).count == 0
    )


# -- the endpoint ----------------------------------------------------------------------------
def test_signed_delivery_queues_one_build_after_the_debounce(client, svc, store) -> None:
    reply = deliver(client)  # no CSRF token: the route is not a form
    assert reply.status_code == 200
    assert queueing.is_queued(svc, "teststore")
    assert queueing.queue(svc.redis).count == 0  # not runnable yet: it waits for the debounce
    (job_id,) = scheduled(svc.redis).get_job_ids()
    due = scheduled(svc.redis).get_scheduled_time(job_id)
    debounce = svc.config.WEBHOOK_DEBOUNCE_SECONDS
    assert debounce == 2  # the default: what batching a burst needs, no more
    assert debounce - 1 < (due - datetime.now(UTC)).total_seconds() <= debounce
    for event in (*PRODUCT_EVENTS, "product_updated"):  # repeats and a burst of edits
        assert deliver(client, event=event).status_code == 200
    assert scheduled(svc.redis).get_job_ids() == [job_id]
    assert queueing.queue(svc.redis).count == 0
    # Each different delivery is kept for the update, in order; the repeats are not.
    kept = svc.redis.lrange(svc.keys.webhook_events("teststore"), 0, -1)
    unique = ["product_updated", *(e for e in PRODUCT_EVENTS if e != "product_updated")]
    assert [k.partition(b"\n")[0].decode() for k in kept] == unique
    assert svc.redis.get(svc.keys.build_wanted("teststore")) == b"update"


@pytest.mark.parametrize(
    "headers",
    [
        {"Jumpseller-Hmac-Sha256": signature(BODY + b" ", "hooks-789")},  # body changed
        {"Jumpseller-Hmac-Sha256": "not base64 at all"},
        {"Jumpseller-Hmac-Sha256": None},
        {"Jumpseller-Hmac-Sha256": signature(BODY, "other-token")},  # the other store's token
        {"Jumpseller-Store-Code": "otherstore"},  # signed for teststore, claims otherstore
        {"Jumpseller-Store-Code": "nostore"},
        {"Jumpseller-Store-Code": "../TESTSTORE"},
        {"Jumpseller-Store-Code": None},
    ],
)
def test_unverified_deliveries_are_refused(client, svc, store, registry, headers, caplog) -> None:
    registry.save(Store(code="otherstore", hooks_token="other-token", scopes=HOOK_SCOPES))
    with caplog.at_level(logging.WARNING, logger="feedapp.web.webhooks"):
        reply = deliver(client, **headers)
    assert reply.status_code == 401
    assert b"hooks-789" not in reply.data and b"other-token" not in reply.data
    assert nothing_queued(svc) and not queueing.is_queued(svc, "otherstore")
    (record,) = caplog.records
    message = record.getMessage()
    assert "product_updated" in message
    assert repr(headers.get("Jumpseller-Store-Code", "teststore") or "") in message
    assert "hooks-789" not in message and "other-token" not in message and "Edited" not in message


def test_uninstalled_store_answers_gone(client, svc, store, registry) -> None:
    registry.mark_uninstalled("teststore", "test")
    assert deliver(client).status_code == 410
    assert nothing_queued(svc)


def test_body_too_large_is_refused_unread(client, svc, store) -> None:
    body = b"x" * (MAX_BODY + 1)
    assert deliver(client, body).status_code == 413
    assert nothing_queued(svc)
    small = json.dumps({"product": {"description": "x" * (MAX_BODY - 100)}}).encode()
    assert deliver(client, small).status_code == 200  # just under the cap is fine


def test_other_events_are_acknowledged_and_ignored(client, svc, store) -> None:
    for event in ("order_paid", "customer_created", ""):
        assert deliver(client, event=event).status_code == 200
    assert nothing_queued(svc)


# -- delayed builds --------------------------------------------------------------------------
def test_an_immediate_request_pulls_a_delayed_build_forward(svc, store) -> None:
    assert queueing.request_build(svc, "teststore", delay=60) == "queued"
    (job_id,) = scheduled(svc.redis).get_job_ids()
    assert queueing.request_build(svc, "teststore", delay=60) == "already-queued"
    assert queueing.queue(svc.redis).count == 0
    assert queueing.request_build(svc, "teststore", reason="rebuild now") == "already-queued"
    assert queueing.queue(svc.redis).job_ids == [job_id]  # the same job, runnable now
    assert scheduled(svc.redis).count == 0
    assert queueing.request_build(svc, "teststore") == "already-queued"
    assert queueing.queue(svc.redis).job_ids == [job_id]


def test_a_delayed_request_during_a_build_asks_for_one_follow_up(svc, store) -> None:
    with queueing.build_lock(svc, "teststore") as acquired:
        assert acquired
        assert queueing.request_build(svc, "teststore", delay=60) == "dirty"
    assert queueing.queue(svc.redis).count == 1  # the follow-up runs as soon as the build ends


# -- hook registration against the sandbox ---------------------------------------------------
@pytest.fixture
def hooked(svc, sandbox) -> Store:
    """The sandbox store installed with the hook scopes."""
    from feedapp.jumpseller.installation import complete_install

    return complete_install(svc, sandbox.authorize(scope=HOOK_SCOPES))


def sandbox_hooks(sandbox, code: str) -> list[dict]:
    with sandbox.state.lock:
        return list(sandbox.state.store(code).hooks.values())


def test_install_keeps_the_hooks_token(hooked, sandbox) -> None:
    with sandbox.state.lock:
        assert hooked.hooks_token == sandbox.state.store(hooked.code).hooks_token
    assert hooked.scopes == HOOK_SCOPES


def test_registration_creates_the_missing_hooks_once(svc, hooked, sandbox) -> None:
    with sandbox.state.lock:
        sandbox.state.store(hooked.code).add_hook("order_paid", "https://crm.example.com/x")
    url = "https://feeds.example.com/webhooks/jumpseller"
    client = make_client(svc, hooked.code)
    try:
        assert register_hooks(client, url) == list(PRODUCT_EVENTS)
        assert register_hooks(client, url) == []
        hooks = sandbox_hooks(sandbox, hooked.code)
        assert sorted((h["event"], h["url"]) for h in hooks) == sorted(
            [("order_paid", "https://crm.example.com/x"), *((e, url) for e in PRODUCT_EVENTS)]
        )
        gone = next(h for h in hooks if h["event"] == "product_deleted")
        with sandbox.state.lock:
            del sandbox.state.store(hooked.code).hooks[gone["id"]]  # the merchant removed one
        assert register_hooks(client, url) == ["product_deleted"]
    finally:
        client.close()


def test_builds_register_hooks_and_refresh_the_hooks_token(svc, hooked, sandbox) -> None:
    with sandbox.state.lock:
        sandbox.state.store(hooked.code).hooks_token = "rotated-hooks-token"
    assert builder.build_feed(svc, hooked.code).items > 0
    assert svc.registry.get(hooked.code).hooks_token == "rotated-hooks-token"
    url = f"{svc.config.PUBLIC_URL}{PATH}"
    assert sorted(h["event"] for h in sandbox_hooks(sandbox, hooked.code)) == sorted(PRODUCT_EVENTS)
    assert {h["url"] for h in sandbox_hooks(sandbox, hooked.code)} == {url}
    builder.build_feed(svc, hooked.code)
    assert len(sandbox_hooks(sandbox, hooked.code)) == 4


def test_registration_is_skipped_without_write_hooks(svc, installed, sandbox) -> None:
    before = sandbox.state.snapshot()["requests"]
    client = make_client(svc, installed.code)
    try:
        ensure_hooks(svc, installed, client)
    finally:
        client.close()
    assert client.requests == 0 and sandbox.state.snapshot()["requests"] == before
    assert builder.build_feed(svc, installed.code).items > 0
    assert sandbox_hooks(sandbox, installed.code) == []


def test_a_refused_registration_never_fails_the_build(svc, installed, sandbox, caplog) -> None:
    store = svc.registry.get(installed.code)
    store.scopes = HOOK_SCOPES  # the record claims scopes the token lacks: Jumpseller answers 403
    svc.registry.save(store)
    with caplog.at_level(logging.WARNING, logger="feedapp.web.webhooks"):
        assert builder.build_feed(svc, installed.code).items > 0
    assert any("webhooks not registered" in r.getMessage() for r in caplog.records)
    assert sandbox_hooks(sandbox, installed.code) == []


# -- end to end ------------------------------------------------------------------------------
@pytest.fixture
def app_server() -> Iterator[AppServer]:
    server = AppServer("127.0.0.1")
    yield server
    server.stop()


@pytest.mark.slow
def test_product_edit_reaches_the_feed_through_a_webhook(
    live_config,
    redis,
    sandbox,
    app_server: AppServer,
    tmp_path,
) -> None:
    live_config.PUBLIC_URL = app_server.url
    live_config.WEBHOOK_DEBOUNCE_SECONDS = 1.0
    app = create_app(live_config, redis=redis)
    app_server.serve(app)
    svc = app.extensions["feedapp"]
    from feedapp.jumpseller.installation import complete_install

    code = complete_install(svc, sandbox.authorize(scope=HOOK_SCOPES)).code
    worker = Process(["worker"], process_env(live_config), tmp_path / "worker.log")
    finished = FinishedJobRegistry(queueing.QUEUE, connection=redis)

    def wait(check: Callable[[], object], what: str) -> None:
        try:
            wait_for(check, 60, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nworker log:\n{worker.log.read_text()[-3000:]}") from None

    try:
        queueing.request_build(svc, code, reason="first feed")  # its build registers the hooks
        # A build publishes, then checks the hooks, then its job ends: wait for the job's end.
        wait(lambda: finished.count == 1, "the first build's job to finish")
        assert published_feed(svc.feeds_dir, code)
        assert {h["url"] for h in sandbox_hooks(sandbox, code)} == {app_server.url + PATH}

        marker = f"Webhook edit {secrets.token_hex(4)}"
        edited_at = time.time()
        reply = requests.post(
            f"{sandbox.url}/_sandbox/stores/{code}/products/{product_id(0)}",
            json={"name": marker},
            timeout=10,
        )
        assert reply.status_code == 200

        def edit_published() -> bool:
            feed = published_feed(svc.feeds_dir, code)
            return feed is not None and marker.encode() in feed.xml_path.read_bytes()

        wait(edit_published, f"{marker!r} in the published feed")
        wait(lambda: finished.count == 2, "the webhook build's job to finish")
        assert float(svc.registry.get_json(code, "build")["started_at"]) > edited_at
        reasons = [Job.fetch(j, connection=redis).meta["reason"] for j in finished.get_job_ids()]
        assert sorted(reasons) == ["first feed", "webhook product_updated"]
        assert not queueing.is_queued(svc, code) and queueing.queue(redis).count == 0
        assert not queueing.is_running(svc, code) and scheduled(redis).count == 0
        # The sandbox logs a delivery once it has read the reply, in a thread of its own.
        wait_for(lambda: sandbox.state.snapshot()["webhooks"], 10, "the delivery's outcome")
        log = sandbox.state.snapshot()["webhooks"]
        assert [(e["event"], e.get("status")) for e in log] == [("product_updated", 200)]
    finally:
        worker.stop()


@pytest.mark.slow
def test_a_delivery_replayed_is_one_build_request_and_no_extra_api_call(
    live_config, redis, sandbox, tmp_path
) -> None:
    """Five copies before the update, five during it, five after: one update, one request.

    The reference is a full build asked for directly, which fills the store's snapshot. The
    delivery carries part of a product, so its update reads that product once
    (``products/{id}.json``, in the one language in use) and nothing else; the replays cost no
    request at all (no follow-up build).
    """
    live_config.WEBHOOK_DEBOUNCE_SECONDS = 1.0
    app = create_app(live_config, redis=redis)
    svc = app.extensions["feedapp"]
    client = app.test_client()
    from feedapp.jumpseller.installation import complete_install

    # A build of a few seconds, so replays land in it; set before the install, whose reply tells
    # the limiter these limits (a change after it would cost the first build a 429 and a retry).
    sandbox.state.change_config({"per_second": 4})
    store = complete_install(svc, sandbox.authorize())
    code = store.code
    worker = Process(["worker"], process_env(live_config), tmp_path / "worker.log")
    finished = FinishedJobRegistry(queueing.QUEUE, connection=redis)
    body = json.dumps({"product": {"id": product_id(0), "name": "Replayed"}}).encode()
    headers = {
        "Content-Type": "application/json",
        "Jumpseller-Event": "product_updated",
        "Jumpseller-Store-Code": code,
        "Jumpseller-Hmac-Sha256": signature(body, store.hooks_token),
    }

    def requests_made() -> int:
        return int(sandbox.state.snapshot()["requests"])

    def replay(times: int) -> None:
        for _ in range(times):
            assert client.post(PATH, data=body, headers=headers).status_code == 200
            assert not redis.exists(svc.keys.build_dirty(code)), "a replay asked for a follow-up"

    try:
        before = requests_made()
        queueing.request_build(svc, code, reason="reference")
        wait_for(lambda: finished.count == 1, 60, "the reference build")
        one_build = requests_made() - before
        assert one_build > 0

        before = requests_made()
        replay(5)
        assert queueing.is_queued(svc, code) and scheduled(redis).count == 1
        wait_for(
            lambda: queueing.is_running(svc, code) or finished.count == 2,
            30,
            "the delivery's update to start",
        )
        replay(5)
        wait_for(lambda: finished.count == 2, 60, "the delivery's update")
        assert not queueing.is_queued(svc, code) and queueing.queue(redis).count == 0
        assert scheduled(redis).count == 0
        assert requests_made() - before == 1 < one_build
        assert sandbox.state.snapshot()["rate_limited"] == 0  # no retry blurs the comparison
        replay(5)
        assert not queueing.is_queued(svc, code) and queueing.queue(redis).count == 0
        assert scheduled(redis).count == 0
        assert requests_made() - before == 1
        reasons = [Job.fetch(j, connection=redis).meta["reason"] for j in finished.get_job_ids()]
        assert sorted(reasons) == ["reference", "webhook product_updated"]
    finally:
        worker.stop()
