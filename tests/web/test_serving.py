"""The public feed URL: what Merchant Center (and any HTTP cache between) sees."""

from __future__ import annotations

import gzip
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from werkzeug.http import http_date, parse_date
from werkzeug.test import TestResponse

from feedapp import create_app
from feedapp.feed.publishing import publish
from feedapp.feed.xmlfeed import Channel, FeedWriter
from feedapp.stores import OLD_FEED_TOKEN_GRACE, Store, StoreRegistry
from feedapp.web import serving


@dataclass(frozen=True)
class Item:
    """The minimal mapped item the feed writer accepts."""

    id: str
    fields: tuple[tuple[str, str], ...]


def publish_feed(feeds_dir: Path, code: str, count: int = 300, build_id: str = "b1") -> Path:
    """Build and publish a real feed the way a worker does; returns the store's folder."""
    channel = Channel.for_store("Test Store", "https://teststore.example.com")
    with FeedWriter(feeds_dir, code, build_id, channel=channel) as writer:
        for n in range(count):
            writer.write(
                Item(
                    f"sku-{n}",
                    (("id", f"sku-{n}"), ("title", f"Product {n} ñ"), ("price", f"{1000 + n} CLP")),
                )
            )
    publish(feeds_dir, code, writer.path, count)
    return Path(feeds_dir) / code


class BufferedClient(FlaskClient):
    """Reads each response whole and closes it, as a WSGI server does, so no file stays open."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def with_public(app: Flask) -> Flask:
    """The app with a buffered test client."""
    app.test_client_class = BufferedClient
    return app


@pytest.fixture
def app(app: Flask) -> Flask:
    """The conftest app, ready for feed fetches."""
    return with_public(app)


@pytest.fixture
def folder(app: Flask, store: Store) -> Path:
    """The test store with a published feed."""
    return publish_feed(app.extensions["feedapp"].feeds_dir, store.code)


def url(store: Store, suffix: str = ".xml") -> str:
    return f"/feeds/{store.first_feed.token}{suffix}"


def test_get_serves_the_published_file_with_validators(client, store, folder) -> None:
    resp = client.get(url(store))
    assert resp.status_code == 200
    assert resp.data == (folder / "feed.xml").read_bytes()
    assert resp.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert "Content-Encoding" not in resp.headers
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["X-Robots-Tag"] == "noindex"
    assert "Accept-Encoding" in resp.headers["Vary"]
    assert resp.cache_control.public and resp.cache_control.max_age == serving.MAX_AGE
    etag, weak = resp.get_etag()
    assert etag and not weak
    assert resp.last_modified is not None


def test_head_has_the_same_headers_and_no_body(client, store, folder) -> None:
    got = client.get(url(store))
    head = client.head(url(store))
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == str((folder / "feed.xml").stat().st_size)
    for name in (
        "Content-Type",
        "ETag",
        "Last-Modified",
        "Cache-Control",
        "Accept-Ranges",
        "Vary",
        "X-Robots-Tag",
    ):
        assert head.headers[name] == got.headers[name], name


def test_if_none_match_gives_304_until_the_feed_changes(app, client, store, folder) -> None:
    first = client.get(url(store))
    again = client.get(url(store), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]

    publish_feed(app.extensions["feedapp"].feeds_dir, store.code, count=301, build_id="b2")
    changed = client.get(url(store), headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert changed.data == (folder / "feed.xml").read_bytes()


def test_if_modified_since(client, store, folder) -> None:
    first = client.get(url(store))
    same = client.get(url(store), headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert same.status_code == 304
    older = http_date(parse_date(first.headers["Last-Modified"]).timestamp() - 3600)
    assert client.get(url(store), headers={"If-Modified-Since": older}).status_code == 200


def test_range_request_returns_those_bytes(client, store, folder) -> None:
    body = (folder / "feed.xml").read_bytes()
    resp = client.get(url(store), headers={"Range": "bytes=10-99"})
    assert resp.status_code == 206
    assert resp.data == body[10:100]
    assert resp.headers["Content-Range"] == f"bytes 10-99/{len(body)}"


def test_unsatisfiable_range_is_416(client, store, folder) -> None:
    size = (folder / "feed.xml").stat().st_size
    resp = client.get(url(store), headers={"Range": f"bytes={size + 10}-"})
    assert resp.status_code == 416
    assert resp.headers["Content-Range"] == f"bytes */{size}"


def test_gzip_when_the_client_accepts_it(client, store, folder) -> None:
    plain = client.get(url(store))
    resp = client.get(url(store), headers={"Accept-Encoding": "gzip, deflate, br"})
    assert resp.status_code == 200
    assert resp.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in resp.headers["Vary"]
    assert resp.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert resp.data == (folder / "feed.xml.gz").read_bytes()
    assert gzip.decompress(resp.data) == (folder / "feed.xml").read_bytes()
    assert resp.headers["ETag"] != plain.headers["ETag"]
    # A validator of one representation never revalidates the other.
    cross = client.get(
        url(store), headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]}
    )
    assert cross.status_code == 200
    ranged = client.get(url(store), headers={"Accept-Encoding": "gzip", "Range": "bytes=0-1"})
    assert ranged.status_code == 206 and ranged.data == b"\x1f\x8b"


@pytest.mark.parametrize("accept", [None, "gzip;q=0", "br, identity"])
def test_no_gzip_when_the_client_does_not_accept_it(client, store, folder, accept) -> None:
    headers = {"Accept-Encoding": accept} if accept else {}
    resp = client.get(url(store), headers=headers)
    assert "Content-Encoding" not in resp.headers
    assert resp.data == (folder / "feed.xml").read_bytes()


def test_gz_url_serves_the_gzip_file_as_is(client, store, folder) -> None:
    resp = client.get(url(store, ".xml.gz"), headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in resp.headers
    assert resp.data == (folder / "feed.xml.gz").read_bytes()
    assert gzip.decompress(resp.data) == (folder / "feed.xml").read_bytes()
    again = client.get(url(store, ".xml.gz"), headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("suffix", [".xml", ".xml.gz"])
def test_unknown_token_is_404(client, folder, suffix) -> None:
    resp = client.get(f"/feeds/{'A' * 43}{suffix}")
    assert resp.status_code == 404
    assert resp.mimetype == "text/plain"


def test_garbage_token_is_404_without_asking_redis(config) -> None:
    unreachable = Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    client = with_public(create_app(config, redis=unreachable)).test_client()
    for token in ("short", "x" * 129, "bad*token.with.dots", "%00" * 20):
        assert client.get(f"/feeds/{token}.xml").status_code == 404, token
    # A well-shaped token does reach Redis, which is down here: a retryable 503, not a 500.
    down = client.get(f"/feeds/{'A' * 43}.xml")
    assert down.status_code == 503 and down.headers["Retry-After"]


def test_uninstalled_store_is_410(client, registry, store, folder) -> None:
    registry.mark_uninstalled(store.code, "app removed")
    resp = client.get(url(store))
    assert resp.status_code == 410
    assert resp.mimetype == "text/plain"
    assert b"removed" in resp.data


def test_feed_never_built_is_503_with_retry_after(client, store) -> None:
    for suffix in (".xml", ".xml.gz"):
        resp = client.get(url(store, suffix))
        assert resp.status_code == 503
        assert resp.headers["Retry-After"] == str(serving.RETRY_AFTER_SECONDS)


def test_rotated_url_keeps_the_old_one_for_48_hours(
    client, redis: Redis, registry: StoreRegistry, store, folder
) -> None:
    old = store.first_feed.token
    new = registry.rotate_feed_token(store.code, "1").token
    assert new != old
    assert client.get(f"/feeds/{old}.xml").status_code == 200
    assert client.get(f"/feeds/{new}.xml").status_code == 200

    old_key = registry.keys.feed_token(old)
    assert OLD_FEED_TOKEN_GRACE == 48 * 3600
    assert OLD_FEED_TOKEN_GRACE - 60 < redis.ttl(old_key) <= OLD_FEED_TOKEN_GRACE
    assert redis.ttl(registry.keys.feed_token(new)) == -1

    redis.pexpire(old_key, 1)  # the grace period runs out
    time.sleep(0.01)
    assert client.get(f"/feeds/{old}.xml").status_code == 404
    assert client.get(f"/feeds/{new}.xml").status_code == 200


def test_basic_auth_when_the_store_sets_credentials(client, registry, store, folder) -> None:
    given = registry.protect_feed(store.code)
    for auth in (None, (given.username, "wrong"), ("other", given.password), ("", "")):
        resp = client.get(url(store), auth=auth)
        assert resp.status_code == 401, auth
        assert resp.headers["WWW-Authenticate"] == 'Basic realm="feed"'
        assert b"<rss" not in resp.data
    resp = client.get(url(store), auth=(given.username, given.password))
    assert resp.status_code == 200
    assert resp.data == (folder / "feed.xml").read_bytes()
    assert resp.cache_control.private and not resp.cache_control.public


def test_offload_to_the_proxy(app, client, store, folder) -> None:
    app.extensions["feedapp"].config.FEED_SENDFILE_HEADER = "X-Accel-Redirect"
    direct = {"ETag": None}
    cases = [
        (".xml", {}, "feed.xml", "application/xml; charset=utf-8", None),
        (
            ".xml",
            {"Accept-Encoding": "gzip"},
            "feed.xml.gz",
            "application/xml; charset=utf-8",
            "gzip",
        ),
        (".xml.gz", {}, "feed.xml.gz", "application/gzip", None),
    ]
    for suffix, headers, name, ctype, encoding in cases:
        resp = client.get(url(store, suffix), headers=headers)
        assert resp.status_code == 200
        assert resp.data == b""
        internal = resp.headers["X-Accel-Redirect"]
        assert internal == f"{serving.PROTECTED_PREFIX}/{store.code}/{name}"
        # The proxy mounts the feeds volume at the prefix: the path names the real file.
        served = app.extensions["feedapp"].feeds_dir / internal.removeprefix(
            serving.PROTECTED_PREFIX + "/"
        )
        assert served.read_bytes() == (folder / name).read_bytes()
        assert resp.headers["Content-Type"] == ctype
        assert resp.headers.get("Content-Encoding") == encoding
        assert resp.headers["Last-Modified"] and resp.cache_control.max_age == serving.MAX_AGE
        assert resp.get_etag()[0]
        direct["ETag"] = direct["ETag"] or resp.headers["ETag"]

    not_modified = client.get(url(store), headers={"If-None-Match": direct["ETag"]})
    assert not_modified.status_code == 304
    assert "X-Accel-Redirect" not in not_modified.headers

    app.extensions["feedapp"].config.FEED_SENDFILE_HEADER = ""
    assert client.get(url(store)).headers["ETag"] == direct["ETag"]


def test_fetch_is_logged_without_the_token(client, store, folder, caplog) -> None:
    caplog.set_level(logging.INFO, logger="feedapp.web.serving")
    client.get(url(store), headers={"User-Agent": "Googlebot/2.1"})
    lines = [r.getMessage() for r in caplog.records if r.name == "feedapp.web.serving"]
    assert len(lines) == 1
    assert "store=teststore" in lines[0] and "status=200" in lines[0]
    assert "Googlebot/2.1" in lines[0]
    assert f"bytes={(folder / 'feed.xml').stat().st_size}" in lines[0]
    assert store.first_feed.token not in caplog.text
