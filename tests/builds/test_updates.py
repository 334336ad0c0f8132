"""Webhook updates: product events applied to the snapshot give every feed the bytes a full build
of the final catalogue gives, whatever order and however often the deliveries come, and a worker
killed halfway or a lost snapshot costs time, never correctness (real Redis, real workers, the
sandbox over HTTP, signed deliveries to the app's own route)."""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
from pathlib import Path

import pytest
from feedapp_dev.sandbox import SandboxConfig
from feedapp_dev.sandbox.catalogue import timestamp
from google_rules import feed_items
from processes import wait_for
from rq.job import Job
from rq.registry import FinishedJobRegistry

from feedapp import create_app
from feedapp.builds import builder, queueing
from feedapp.builds.snapshot import Snapshot
from feedapp.builds.status import feed_diagnostics
from feedapp.feed.publishing import published_feed
from feedapp.jumpseller.hooks import PATH, signature

RULES = Path(__file__).resolve().parent.parent / "data" / "rules-example.json"
LANGUAGES = SandboxConfig(product_count=300, languages=["es", "pt"])


def set_up_feeds(svc, code: str) -> list[str]:
    """Three feeds: Spanish for Chile with the README's rules, Portuguese, Spanish for Peru."""

    def chile(feed) -> None:
        feed.name, feed.language, feed.country = "Chile (es)", "es", "CL"
        feed.rules = json.loads(RULES.read_text())

    svc.registry.update_feed(code, "1", chile)
    brasil = svc.registry.add_feed(code, "Brasil (pt)", "pt", "BR")
    peru = svc.registry.add_feed(code, "Perú", "", "PE")
    return ["1", brasil.id, peru.id]


def snapshot_of(svc, code: str) -> dict[str, dict]:
    """What every feed of the store serves now, and its problem list."""
    feeds = {}
    for feed in svc.registry.get(code).feeds:
        live = published_feed(svc.feeds_dir, code, feed.id)
        feeds[feed.id] = {
            "xml": live.xml_path.read_bytes(),
            "gz": live.gz_path.read_bytes(),
            "problems": feed_diagnostics(svc.registry, code, feed.id),
        }
    return feeds


def full_build_from_scratch(svc, code: str) -> dict[str, dict]:
    """Every feed as a full build of today's catalogue makes it, with no snapshot to start from."""
    (svc.feeds_dir / code / "snapshot.sqlite").unlink()
    result = queueing.run_with_lock(svc, code, lambda: builder.build_feed(svc, code))
    assert isinstance(result, builder.BuildResult)
    return snapshot_of(svc, code)


def assert_same_feeds(updated: dict[str, dict], full: dict[str, dict]) -> None:
    """Byte for byte, every feed and its gzip copy; and the same problems listed."""
    assert updated.keys() == full.keys()
    for feed_id in full:
        assert updated[feed_id]["xml"] == full[feed_id]["xml"], f"feed {feed_id} differs"
        assert gzip.decompress(updated[feed_id]["gz"]) == updated[feed_id]["xml"], feed_id
        assert updated[feed_id]["gz"] == full[feed_id]["gz"], f"feed {feed_id}'s copy differs"
        assert updated[feed_id]["problems"] == full[feed_id]["problems"], feed_id


class Deliveries:
    """Signed deliveries to the app's webhook route, as Jumpseller posts them."""

    def __init__(self, live_config, svc, code: str) -> None:
        self.client = create_app(live_config, redis=svc.redis).test_client()
        self.code = code
        self.token = svc.registry.get(code).hooks_token

    def send(self, event: str, product: dict) -> None:
        body = json.dumps({"product": product}).encode()
        headers = {
            "Content-Type": "application/json",
            "Jumpseller-Event": event,
            "Jumpseller-Store-Code": self.code,
            "Jumpseller-Hmac-Sha256": signature(body, self.token),
        }
        assert self.client.post(PATH, data=body, headers=headers).status_code == 200


def items(feed: dict) -> list[tuple[str, dict]]:
    """A served feed's items as (id, attributes), read by the suite's own parser."""
    return [(item["id"][0], item) for item in feed_items(feed["xml"])]


def next_second() -> None:
    """Wait for the clock's second to change, so the next edit's updated_at is later."""
    now = timestamp(time.time())
    wait_for(lambda: timestamp(time.time()) != now, 3, "the next second", every=0.02)


def served(sandbox) -> int:
    """API requests the sandbox answered so far."""
    stats = sandbox.state.snapshot()
    return int(stats["requests"]) - int(stats["rate_limited"])


def results(svc) -> list[dict]:
    """The return values of the finished build jobs, oldest first."""
    registry = FinishedJobRegistry(queueing.QUEUE, connection=svc.redis)
    jobs = [Job.fetch(j, connection=svc.redis) for j in registry.get_job_ids()]
    return [job.return_value() for job in sorted(jobs, key=lambda j: j.ended_at)]


def first_build(svc, code: str, start) -> None:
    """A worker, and the store's first full build through it."""
    start("worker")
    assert queueing.request_build(svc, code, reason="first build") == "queued"
    wait_for(lambda: len(results(svc)) == 1, 120, "the first build")


@pytest.mark.slow
@pytest.mark.parametrize("sandbox_config", [LANGUAGES])
def test_edits_delivered_in_any_order_give_the_bytes_of_a_full_build(
    svc, installed, sandbox, start, live_config
) -> None:
    code = installed.code
    set_up_feeds(svc, code)
    live_config.WEBHOOK_DEBOUNCE_SECONDS = 1.0
    first_build(svc, code, start)
    deliveries = Deliveries(live_config, svc, code)
    with sandbox.state.lock:
        shop = sandbox.state.store(code)
        renamed, restocked, deleted, translated, repriced = shop.ids[3:8]
        old = shop.product(renamed)
        a1 = shop.edit(renamed, {"name": "Primera edición"})
        b = shop.edit(restocked, {"stock": 0, "stock_unlimited": False})
        gone = shop.delete(deleted)
        e = shop.edit(translated, {"locale": "pt", "name": "Nome novo em português"})
        image = [{"url": "https://images.example.com/nuevo.jpg"}]
        created = shop.add({"name": "Producto nuevo", "price": 15990, "stock": 4, "images": image})
    next_second()
    with sandbox.state.lock:
        a2 = shop.edit(renamed, {"name": "Segunda edición", "price": 54990})
        c = shop.edit(repriced, {"price": 1990, "compare_at_price": 2990})
    assert a1["updated_at"] < a2["updated_at"]
    before = served(sandbox)
    # Newer before older, a deletion before an older edit of the same product, repeats.
    for event, product in (
        ("product_created", created),
        ("product_updated", a2),
        ("product_updated", b),
        ("product_stock_updated", b),
        ("product_deleted", gone),
        ("product_updated", a1),  # older than a2: ignored
        ("product_updated", {**gone, "name": "Revived"}),  # from before the deletion: ignored
        ("product_updated", e),
        ("product_updated", c),
        ("product_updated", a2),  # a repeat: the route drops it
        ("product_updated", b),
    ):
        deliveries.send(event, product)
    wait_for(lambda: len(results(svc)) == 2, 60, "the update")
    asked = served(sandbox) - before
    updated = snapshot_of(svc, code)
    result = results(svc)[-1]
    assert [f["refused"] for f in result["feeds"]] == [None, None, None]

    # The Spanish payloads are taken as they are; Portuguese needs one read per changed product
    # (created, a2, b, e, c: five), nothing for the deletion or the ignored deliveries.
    assert asked == result["requests"] == 5, asked
    titles = {pid.split("-")[0]: item["title"][0] for pid, item in items(updated["1"])}
    assert "Segunda edición" in titles[str(renamed)] and old["name"] not in titles[str(renamed)]
    assert str(deleted) not in titles and "Revived" not in updated["1"]["xml"].decode()
    assert "Primera edición" not in updated["1"]["xml"].decode()
    assert str(created["id"]) in titles
    pt_titles = {pid.split("-")[0]: item["title"][0] for pid, item in items(updated["2"])}
    assert "Nome novo em português" in pt_titles[str(translated)]

    assert_same_feeds(updated, full_build_from_scratch(svc, code))


@pytest.mark.slow
@pytest.mark.parametrize("sandbox_config", [LANGUAGES])
def test_a_worker_killed_mid_update_leaves_the_feed_and_the_snapshot_whole(
    svc, installed, sandbox, start, live_config
) -> None:
    code = installed.code
    set_up_feeds(svc, code)
    live_config.WEBHOOK_DEBOUNCE_SECONDS = 0.5
    first_build(svc, code, start)
    served_before = snapshot_of(svc, code)
    path = svc.feeds_dir / code / "snapshot.sqlite"
    with Snapshot.open(svc.feeds_dir, code) as snap:
        kept = {lang: snap.known(lang) for lang in ("", "pt")}
    deliveries = Deliveries(live_config, svc, code)
    with sandbox.state.lock:
        shop = sandbox.state.store(code)
        edited = [shop.edit(pid, {"name": f"Editado {pid}"}) for pid in shop.ids[10:13]]
    # The Portuguese reads answer after 15 s: the worker is killed while it waits for one.
    sandbox.state.change_config({"latency_ms": 15_000})
    worker = start("worker")
    before = served(sandbox)
    for product in edited:
        deliveries.send("product_updated", product)
    wait_for(lambda: served(sandbox) > before, 30, "the update to be waiting for Jumpseller")
    assert queueing.is_running(svc, code)
    worker.kill()

    assert snapshot_of(svc, code) == served_before, "the killed update changed a served feed"
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    with Snapshot.open(svc.feeds_dir, code) as snap:
        assert {lang: snap.known(lang) for lang in ("", "pt")} == kept
    assert svc.redis.llen(svc.keys.webhook_events(code)) == 3, "the events were lost"

    # The next update repairs it: the kept events applied, every feed as a full build makes it.
    sandbox.state.change_config({"latency_ms": 0})
    start("worker")
    wait_for(lambda: not queueing.is_running(svc, code), 30, "the killed worker's lock to expire")
    queueing.request_build(svc, code, reason="after the kill", mode="update")
    wait_for(lambda: len(results(svc)) == 2, 60, "the repairing update")
    assert svc.redis.llen(svc.keys.webhook_events(code)) == 0
    updated = snapshot_of(svc, code)
    assert "Editado" in updated["1"]["xml"].decode()
    assert_same_feeds(updated, full_build_from_scratch(svc, code))


@pytest.mark.slow
@pytest.mark.parametrize("sandbox_config", [SandboxConfig(product_count=2000)])
def test_an_edit_remakes_only_its_segment_and_copies_the_rest_of_the_live_feed(
    svc, installed, sandbox, start, live_config
) -> None:
    """A large feed takes an edit without being rewritten: the update makes the one segment
    holding the edited product and copies every other one from the live files, and publishes
    the bytes a full build of the final catalogue publishes."""
    code = installed.code
    live_config.WEBHOOK_DEBOUNCE_SECONDS = 0.5
    first_build(svc, code, start)
    first = results(svc)[0]["segments"]
    assert first["made"] > 20 and first["copied"] == 0
    deliveries = Deliveries(live_config, svc, code)
    with sandbox.state.lock:
        shop = sandbox.state.store(code)
        product = shop.edit(shop.ids[1000], {"name": "Editado en su segmento"})
    deliveries.send("product_updated", product)
    wait_for(lambda: len(results(svc)) == 2, 60, "the update")
    segments = results(svc)[-1]["segments"]
    assert segments == {"made": 1, "copied": first["made"] - 1}, segments
    updated = snapshot_of(svc, code)
    assert "Editado en su segmento" in updated["1"]["xml"].decode()
    assert_same_feeds(updated, full_build_from_scratch(svc, code))


@pytest.mark.slow
@pytest.mark.parametrize("sandbox_config", [SandboxConfig(product_count=250)])
def test_an_update_without_its_snapshot_is_a_full_build(
    svc, installed, sandbox, start, live_config
) -> None:
    code = installed.code
    live_config.WEBHOOK_DEBOUNCE_SECONDS = 0.5
    first_build(svc, code, start)
    (svc.feeds_dir / code / "snapshot.sqlite").unlink()
    deliveries = Deliveries(live_config, svc, code)
    with sandbox.state.lock:
        shop = sandbox.state.store(code)
        product = shop.edit(shop.ids[0], {"name": "Tras perder la instantánea"})
    before = served(sandbox)
    deliveries.send("product_updated", product)
    wait_for(lambda: len(results(svc)) == 2, 60, "the update")
    result = results(svc)[-1]
    assert result["products"] == 250 and served(sandbox) - before > 3  # it paged everything
    assert svc.redis.llen(svc.keys.webhook_events(code)) == 0
    updated = snapshot_of(svc, code)
    assert "Tras perder la instantánea" in updated["1"]["xml"].decode()
    assert_same_feeds(updated, full_build_from_scratch(svc, code))


@pytest.mark.slow
@pytest.mark.parametrize("sandbox_config", [LANGUAGES])
def test_a_settings_change_renders_every_feed_again_without_asking_jumpseller(
    svc, installed, sandbox, start, live_config
) -> None:
    code = installed.code
    feed_ids = set_up_feeds(svc, code)
    first_build(svc, code, start)
    before_change = snapshot_of(svc, code)

    def retitle(feed) -> None:
        feed.options.title_pattern = "{brand} | {name}"

    svc.registry.update_feed(code, feed_ids[1], retitle)  # what the page's save does, then:
    before = served(sandbox)
    assert queueing.request_build(svc, code, reason="settings changed", mode="render") == "queued"
    wait_for(lambda: len(results(svc)) == 2, 60, "the re-render")
    assert served(sandbox) == before, "a settings change asked Jumpseller"
    rendered = snapshot_of(svc, code)
    assert rendered[feed_ids[1]]["xml"] != before_change[feed_ids[1]]["xml"]
    assert " | " in items(rendered[feed_ids[1]])[0][1]["title"][0]
    for other in (feed_ids[0], feed_ids[2]):
        assert rendered[other]["xml"] == before_change[other]["xml"]
    assert_same_feeds(rendered, full_build_from_scratch(svc, code))
