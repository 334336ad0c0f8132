"""GET|HEAD /feeds/<token>.xml(.gz): the URL Merchant Center fetches, serving the last good feed.

Conditional and range requests are werkzeug's (``send_file``). With ``FEED_SENDFILE_HEADER`` set
(e.g. ``X-Accel-Redirect``) the body is left to the reverse proxy, which streams the file from the
shared feeds volume, so a slow client never holds a Python worker. In that mode Python still answers
``If-None-Match``/``If-Modified-Since`` with 304 itself (a lookup and a stat, no body); the proxy
answers ranges and sets its own validators on the file it sends (Caddy: mtime and size), which it
also honours on later conditional requests.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, g, request, send_file
from redis.exceptions import RedisError
from werkzeug.http import unquote_etag

from feedapp.feed.publishing import PublishedFeed, published_feed
from feedapp.stores import Store
from feedapp.web.context import current_services

bp = Blueprint("serving", __name__)
log = logging.getLogger(__name__)

#: Feed tokens are ``secrets.token_urlsafe`` strings; anything else is refused before any lookup.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")
#: The proxy maps this internal prefix onto the feeds volume; it is never reachable from outside.
PROTECTED_PREFIX = "/_protected_feeds"
#: Merchant Center fetches at most daily; an hour keeps intermediaries fresh after a rebuild.
MAX_AGE = 3600
RETRY_AFTER_SECONDS = 300
XML_TYPE = "application/xml"
GZIP_TYPE = "application/gzip"


@bp.get("/feeds/<token>.xml")
def feed_xml(token: str) -> Response:
    """The feed as XML; gzip-encoded (pre-compressed file) when the client accepts it."""
    return _serve(token, as_gz_file=False)


@bp.get("/feeds/<token>.xml.gz")
def feed_gz(token: str) -> Response:
    """The gzip file itself, for clients configured with the .gz URL."""
    return _serve(token, as_gz_file=True)


@bp.after_request
def _tag_and_log(response: Response) -> Response:
    """Keep feeds out of search results and log each fetch without its secret token."""
    response.headers["X-Robots-Tag"] = "noindex"
    if request.method == "HEAD" or response.status_code == 304:
        sent = 0
    else:
        sent = g.get("feed_offloaded_bytes", response.content_length or 0)
    log.info(
        "feed fetch store=%s status=%s bytes=%s encoding=%s agent=%r",
        g.get("feed_store", "-"),
        response.status_code,
        sent,
        response.headers.get("Content-Encoding", "identity"),
        request.user_agent.string[:200],
    )
    return response


def _serve(token: str, as_gz_file: bool) -> Response:
    if not TOKEN_RE.fullmatch(token):
        return _text("No feed at this address.", 404)
    try:
        found = current_services().registry.by_feed_token(token)
    except RedisError as exc:
        log.error("feed fetch: Redis unavailable (%s); answered 503", exc)
        return _text("The feed is temporarily unavailable.", 503, retry_after=60)
    if found is None:
        return _text("No feed at this address.", 404)
    store, store_feed = found
    g.feed_store = f"{store.code}/{store_feed.id}"
    if store.feed_protected and not _authorized(store):
        response = _text("This feed needs a username and password.", 401)
        response.headers["WWW-Authenticate"] = 'Basic realm="feed"'
        return response
    if not store.installed:
        return _text("This store removed the app; its feed is no longer published.", 410)
    feed = published_feed(current_services().feeds_dir, store.code, store_feed.id)
    if feed is None or (as_gz_file and feed.gz_path is None):
        return _text(
            "This store's feed has not been built yet; try again in a few minutes.",
            503,
            retry_after=RETRY_AFTER_SECONDS,
        )
    gzip_encoded = not as_gz_file and feed.gz_path is not None and _accepts_gzip()
    use_gz = as_gz_file or gzip_encoded
    response = _representation(feed, use_gz, as_gz_file)
    if gzip_encoded:
        response.headers["Content-Encoding"] = "gzip"
    if not as_gz_file:
        response.vary.add("Accept-Encoding")
    if store.feed_protected:
        # Authenticated responses must not sit in shared caches.
        response.cache_control.public = None
        response.cache_control.private = True
    return response


def _representation(feed: PublishedFeed, use_gz: bool, as_gz_file: bool) -> Response:
    """The chosen file, streamed by werkzeug or handed to the proxy; 304/206/416 as asked."""
    path = feed.gz_path if use_gz else feed.xml_path
    # Publish writes a strong sha256-based tag; its fallback (size + mtime_ns of a file that is
    # only ever replaced whole) identifies the bytes just as well, so both are sent as strong.
    etag = unquote_etag(feed.etag)[0] + ("-gz" if use_gz else "")
    mimetype = GZIP_TYPE if as_gz_file else XML_TYPE
    header = current_services().config.FEED_SENDFILE_HEADER
    if not header:
        return send_file(
            path,
            mimetype=mimetype,
            download_name=path.name if as_gz_file else "feed.xml",
            conditional=True,
            etag=etag,
            last_modified=feed.mtime,
            max_age=MAX_AGE,
        )
    response = Response(b"", mimetype=mimetype)
    response.set_etag(etag)
    response.last_modified = feed.mtime
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.make_conditional(request)
    if response.status_code != 304:
        inside = path.relative_to(current_services().feeds_dir).as_posix()
        response.headers[header] = f"{PROTECTED_PREFIX}/{inside}"
        g.feed_offloaded_bytes = feed.gz_size if use_gz else feed.size
    return response


def _authorized(store: Store) -> bool:
    """The fetch sent this feed's Basic credentials (checked by the store, in constant time)."""
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return False
    return store.feed_credentials_match(auth.username or "", auth.password or "")


def _accepts_gzip() -> bool:
    return request.accept_encodings.quality("gzip") > 0


def _text(body: str, status: int, retry_after: int | None = None) -> Response:
    response = Response(body + "\n", status=status, mimetype="text/plain")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    response.cache_control.no_store = True
    return response
