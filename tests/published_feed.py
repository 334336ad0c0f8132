"""A small real feed on disk and a Merchant-Center-like fetch of it, for the feed-password tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feedapp.feed.publishing import publish
from feedapp.feed.xmlfeed import Channel, FeedWriter
from feedapp.stores import Store


@dataclass(frozen=True)
class Item:
    """The minimal mapped item the feed writer accepts."""

    id: str
    fields: tuple[tuple[str, str], ...]


def publish_feed(feeds_dir: Path, code: str, count: int = 20) -> Path:
    """Write and publish a feed the way a worker does; returns the published feed.xml."""
    channel = Channel.for_store("Test Store", "https://teststore.example.com")
    with FeedWriter(feeds_dir, code, "b1", channel=channel) as writer:
        for n in range(count):
            writer.write(Item(f"sku-{n}", (("id", f"sku-{n}"), ("title", f"Product {n}"))))
    publish(feeds_dir, code, writer.path, count)
    return Path(feeds_dir) / code / "feed.xml"


def fetch(client: FlaskClient, store: Store, auth: tuple[str, str] | None = None) -> TestResponse:
    """GET the store's feed URL through the real route, read whole (no file left open)."""
    return client.get(f"/feeds/{store.first_feed.token}.xml", auth=auth, buffered=True)
