"""`flask feeds list|add|remove` and the optional FEED of url, rotate-url, status and rebuild."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig

from feedapp.builds import queueing
from feedapp.feed.publishing import publish
from feedapp.feed.xmlfeed import Channel, FeedWriter, store_dir
from feedapp.stores import Store, StoreRegistry

BASE = "http://127.0.0.1:5000/feeds"


class Item:
    """The minimal mapped item the feed writer accepts."""

    def __init__(self, n: int) -> None:
        self.id = f"sku-{n}"
        self.fields = (("id", self.id), ("title", f"Product {n}"))


def publish_feed(feeds_dir: Path, code: str, feed_id: str, count: int) -> Path:
    """Publish a small real feed for one feed of a store, as a build would; its folder."""
    channel = Channel.for_store("Test Store", "https://teststore.example.com")
    with FeedWriter(feeds_dir, code, f"b{feed_id}", channel=channel, feed_id=feed_id) as writer:
        for n in range(count):
            writer.write(Item(n))
    publish(feeds_dir, code, writer.path, count, feed_id=feed_id)
    return store_dir(feeds_dir, code, feed_id)


def lines(output: str) -> list[str]:
    """The printed lines, blank ones left out."""
    return [line for line in output.splitlines() if line.strip()]


def test_list_before_any_build(runner, store, registry) -> None:
    second = registry.add_feed("teststore", "Chile (en)", "en", "CL")
    shown = runner.invoke(args=["feeds", "list", "teststore"])
    assert shown.exit_code == 0, shown.output
    first = store.first_feed
    assert lines(shown.output) == [
        f"1    {first.name}  language es, country CL  not built yet",
        f"     {BASE}/{first.token}.xml",
        "2    Chile (en)  language en, country CL  not built yet",
        f"     {BASE}/{second.token}.xml",
    ]
    listed = runner.invoke(args=["feeds", "list", "teststore", "--json"]).output
    rows = [json.loads(line) for line in lines(listed)]
    assert [(r["id"], r["language"], r["country"], r["state"], r["items"]) for r in rows] == [
        ("1", "es", "CL", "not built", None),
        ("2", "en", "CL", "not built", None),
    ]
    assert rows[1]["url"] == f"{BASE}/{second.token}.xml" and rows[1]["name"] == "Chile (en)"
    assert rows[0]["published_at"] is None and rows[0]["build"] == "never"
    unknown = runner.invoke(args=["feeds", "list", "nope"])
    assert unknown.exit_code == 1 and "No store 'nope'" in unknown.output


def test_a_store_built_before_feeds_per_market_lists_its_first_feed_built(
    runner, store, registry
) -> None:
    registry.set_json("teststore", "last_good", {"finished_at": 86400.0, "items": 5})
    registry.set_json("teststore", "build", {"state": "ok", "finished_at": 86400.0})
    row = json.loads(runner.invoke(args=["feeds", "list", "teststore", "--json"]).output)
    assert (row["state"], row["items"]) == ("built", 5)
    assert row["published_at"] == "1970-01-02T00:00:00+00:00"


def test_add_prints_the_new_feed_and_queues_a_build(runner, store, registry, svc) -> None:
    added = runner.invoke(
        args=["feeds", "add", "teststore", "--language", "en", "--country", "us", "--name", "USA"]
    )
    assert added.exit_code == 0, added.output
    feed = registry.get("teststore").feed("2")
    assert (feed.name, feed.language, feed.country) == ("USA", "en", "US")
    assert "  id: 2\n" in added.output and f"  URL: {BASE}/{feed.token}.xml\n" in added.output
    assert "teststore: build queued." in added.output
    assert queueing.is_queued(svc, "teststore")
    unnamed = runner.invoke(args=["feeds", "add", "teststore", "--country", "AR"])
    assert unnamed.exit_code == 0, unnamed.output
    third = registry.get("teststore").feed("3")
    assert (third.name, third.language, third.country) == ("AR", "", "AR")
    assert "teststore: build already-queued." in unnamed.output


def test_add_refuses_a_bad_market_with_one_line_per_mistake(runner, store, registry) -> None:
    bad = runner.invoke(
        args=[
            "feeds",
            "add",
            "teststore",
            "--language",
            "pt",
            "--country",
            "XX",
            "--name",
            "n" * 61,
        ]
    )
    assert bad.exit_code == 1
    assert lines(bad.output) == [
        "Error: teststore: --name: Use at most 60 characters.",
        "Error: teststore: --language: Choose one of your store's languages: es, en.",
        "Error: teststore: --country: Enter the two-letter code of the country this feed "
        "sells to, e.g. CL or BR.",
    ]
    missing = runner.invoke(args=["feeds", "add", "teststore", "--language", "en"])
    assert missing.exit_code == 1 and "--country: Enter the two-letter code" in missing.output
    assert [f.id for f in registry.get("teststore").feeds] == ["1"]
    unknown = runner.invoke(args=["feeds", "add", "nope", "--country", "CL"])
    assert unknown.exit_code == 1 and "No store 'nope'" in unknown.output


def test_remove_deletes_the_feed_and_its_files_but_never_the_last(
    runner, store: Store, registry: StoreRegistry, svc
) -> None:
    second = registry.add_feed("teststore", "Chile (en)", "en", "CL")
    first_folder = publish_feed(svc.feeds_dir, "teststore", "1", 5)
    second_folder = publish_feed(svc.feeds_dir, "teststore", "2", 3)
    assert (second_folder / "feed.xml").is_file()
    removed = runner.invoke(args=["feeds", "remove", "teststore", "2", "--yes"])
    assert removed.exit_code == 0, removed.output
    assert "teststore: feed 2 (Chile (en)) removed" in removed.output
    assert not second_folder.exists() and (first_folder / "feed.xml").is_file()
    assert registry.by_feed_token(second.token) is None
    assert [f.id for f in registry.get("teststore").feeds] == ["1"]

    last = runner.invoke(args=["feeds", "remove", "teststore", "1", "--yes"])
    assert last.exit_code == 1
    assert lines(last.output) == [
        "Error: Feed '1' is the only feed of store 'teststore'. A store keeps at least one "
        "feed; add another first, or remove the store."
    ]
    assert (first_folder / "feed.xml").is_file()
    assert registry.by_feed_token(store.first_feed.token) is not None

    gone = runner.invoke(args=["feeds", "remove", "teststore", "2", "--yes"])
    assert gone.exit_code == 1 and "has no feed '2'" in gone.output
    assert "flask feeds list teststore" in gone.output
    asked = runner.invoke(args=["feeds", "remove", "teststore", "1"], input="n\n")
    assert asked.exit_code == 1 and "Remove feed 1" in asked.output


def test_url_and_rotate_url_per_feed_or_for_all(runner, store, registry) -> None:
    second = registry.add_feed("teststore", "Chile (en)", "en", "CL")
    first = store.first_feed
    every = runner.invoke(args=["feeds", "url", "teststore"])
    assert lines(every.output) == [
        f"1 {first.name}: {BASE}/{first.token}.xml",
        f"2 Chile (en): {BASE}/{second.token}.xml",
    ]
    one = runner.invoke(args=["feeds", "url", "teststore", "2"])
    assert one.output == f"{BASE}/{second.token}.xml\n"
    missing = runner.invoke(args=["feeds", "url", "teststore", "9"])
    assert missing.exit_code == 1 and "Store 'teststore' has no feed '9'" in missing.output

    rotated = runner.invoke(args=["feeds", "rotate-url", "teststore", "2"])
    assert rotated.exit_code == 0, rotated.output
    after = registry.get("teststore")
    assert after.feed("1").token == first.token and after.feed("2").token != second.token
    assert f"teststore: feed 2 (Chile (en)): new URL {BASE}/{after.feed('2').token}.xml" in (
        rotated.output
    )
    assert registry.by_feed_token(second.token)[1].id == "2"  # 48 hours of grace

    both = runner.invoke(args=["feeds", "rotate-url", "teststore"])
    assert both.exit_code == 0 and "48 hours" in both.output
    final = registry.get("teststore")
    assert final.feed("1").token != first.token
    assert final.feed("2").token != after.feed("2").token
    assert all(f"{BASE}/{f.token}.xml" in both.output for f in final.feeds)
    assert runner.invoke(args=["feeds", "rotate-url", "teststore", "9"]).exit_code == 1


def test_rebuild_with_a_feed_builds_the_store_and_says_so(runner, store, svc) -> None:
    queued = runner.invoke(args=["feeds", "rebuild", "teststore", "1"])
    assert queued.exit_code == 0, queued.output
    assert lines(queued.output) == [
        f"teststore: feed 1 ({store.first_feed.name}) is built with the store's other feeds: "
        "a build always builds all of them.",
        "teststore: queued",
    ]
    assert queueing.is_queued(svc, "teststore")
    missing = runner.invoke(args=["feeds", "rebuild", "teststore", "7"])
    assert missing.exit_code == 1 and "has no feed '7'" in missing.output


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """A small catalogue in Spanish and Portuguese."""
    return SandboxConfig(product_count=60, languages=["es", "pt"])


def test_built_feeds_in_list_and_status_then_a_refusal(runner, installed, registry, sandbox):
    code = installed.code
    pt_brazil = ["feeds", "add", code, "--language", "pt", "--country", "BR", "--name", "Brasil"]
    unknown = runner.invoke(args=pt_brazil)  # the store's languages come with its first build
    assert unknown.exit_code == 1 and "build it once first" in unknown.output
    assert runner.invoke(args=["feeds", "rebuild", code, "--sync"]).exit_code == 0
    added = runner.invoke(args=pt_brazil)
    assert added.exit_code == 0, added.output
    built = runner.invoke(args=["feeds", "rebuild", code, "--sync"])
    assert built.exit_code == 0, built.output
    assert re.search(r"  feed 1 \(.*\): \d+ items\n  feed 2 \(Brasil\): \d+ items\n", built.output)

    rows = [
        json.loads(line)
        for line in lines(runner.invoke(args=["feeds", "list", code, "--json"]).output)
    ]
    assert [(r["id"], r["language"], r["country"], r["state"]) for r in rows] == [
        ("1", "es", installed.country, "built"),
        ("2", "pt", "BR", "built"),
    ]
    assert all(r["items"] > 60 and r["published_at"] for r in rows)
    shown = lines(runner.invoke(args=["feeds", "list", code]).output)
    assert shown[2].startswith(
        f"2    Brasil  language pt, country BR  built, {rows[1]['items']} items, "
        f"last published {rows[1]['published_at']}"
    )

    status = runner.invoke(args=["feeds", "status", code])
    assert status.exit_code == 0, status.output
    assert f"  feed 2 Brasil (pt, BR): built, {rows[1]['items']} items" in status.output
    one = json.loads(runner.invoke(args=["feeds", "status", code, "2", "--json"]).output)
    assert [f["id"] for f in one["feeds"]] == ["2"] and one["feeds"][0]["items"] == rows[1]["items"]
    every = json.loads(runner.invoke(args=["feeds", "status", "--json"]).output)
    assert [f["id"] for f in every["feeds"]] == ["1", "2"]
    missing = runner.invoke(args=["feeds", "status", code, "3"])
    assert missing.exit_code == 1 and "has no feed '3'" in missing.output

    reset = {"product_count": 10, "seed": 1}
    requests.post(f"{sandbox.url}/_sandbox/stores/{code}/reset", json=reset, timeout=5)
    refused = runner.invoke(args=["feeds", "rebuild", code, "--sync"])
    assert refused.exit_code == 1 and "fewer than half" in refused.output
    after = [
        json.loads(line)
        for line in lines(runner.invoke(args=["feeds", "list", code, "--json"]).output)
    ]
    assert [r["state"] for r in after] == ["refused", "refused"]
    assert [r["items"] for r in after] == [r["items"] for r in rows]  # the live files stay
    assert "fewer than half" in after[1]["error"]
    shown = runner.invoke(args=["feeds", "list", code]).output
    assert f"refused, {rows[1]['items']} items still live, last published" in shown
    status = runner.invoke(args=["feeds", "status", code, "2"]).output
    assert "\n    last build: The new feed has " in status
