"""Streaming RSS writer and atomic publish, so Google only ever fetches a whole, checked feed."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

from lxml import etree

GOOGLE_NS = "http://base.google.com/ns/1.0"
FEED_NAME = "feed.xml"
GZ_NAME = "feed.xml.gz"
SIDECAR_NAME = "feed.json"
TMP_SUFFIX = ".xml.tmp"
#: Temp files older than this are leftovers of failed or killed builds.
STALE_TMP_SECONDS = 3600
#: Items between flushes of lxml's buffer into the file.
FLUSH_EVERY = 500
_CHUNK = 1 << 20

_STORE_CODE = re.compile(r"[a-z0-9_-]{1,100}")
_BUILD_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
_ATTRIBUTE = re.compile(r"[a-z][a-z0-9_]{0,79}")
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

PathLike = str | os.PathLike[str]


def xml_safe(value: str) -> str:
    """Drop the characters XML 1.0 forbids, which lxml would otherwise refuse mid-feed."""
    return _FORBIDDEN.sub("", value)


def store_dir(feeds_dir: PathLike, store_code: str) -> Path:
    """The store's feed folder, once the code is known not to escape ``feeds_dir``."""
    if not isinstance(store_code, str) or not _STORE_CODE.fullmatch(store_code):
        raise ValueError(
            f"Unsafe store code {store_code!r}: use lowercase letters, digits, '-' or '_'."
        )
    return Path(feeds_dir) / store_code


class FeedItem(Protocol):
    """What the writer needs from a mapped item (``mapping.Item`` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def fields(self) -> Sequence[tuple[str, str]]: ...


@dataclass(frozen=True)
class Channel:
    """The RSS channel header, which tells Merchant Center whose feed this is."""

    title: str
    link: str
    description: str

    @classmethod
    def for_store(cls, name: str, url: str) -> Channel:
        """The usual header for a store: its name, its URL and a plain description."""
        return cls(title=name, link=url, description=f"Google Shopping feed for {name}")


class FeedWriter:
    """Streams items into a temp file one at a time, so memory stays flat for any catalogue."""

    def __init__(
        self, feeds_dir: PathLike, store_code: str, build_id: str, *, channel: Channel
    ) -> None:
        if not isinstance(build_id, str) or not _BUILD_ID.fullmatch(build_id):
            raise ValueError(f"Unsafe build id {build_id!r}: use letters, digits, '-' or '_'.")
        self.path = store_dir(feeds_dir, store_code) / f"{build_id}{TMP_SUFFIX}"
        self.channel = channel
        self.count = 0
        self._stack = contextlib.ExitStack()
        self._xf = None
        self._tags: dict[str, str] = {}

    def __enter__(self) -> FeedWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            out = self._stack.enter_context(open(self.path, "wb"))
            xf = self._stack.enter_context(etree.xmlfile(out, encoding="UTF-8"))
            xf.write_declaration()
            self._stack.enter_context(xf.element("rss", nsmap={"g": GOOGLE_NS}, version="2.0"))
            xf.write("\n")
            self._stack.enter_context(xf.element("channel"))
            for name in ("title", "link", "description"):
                xf.write("\n")
                with xf.element(name):
                    xf.write(xml_safe(getattr(self.channel, name)))
            xf.write("\n")
        except BaseException as exc:
            self._discard(type(exc), exc, exc.__traceback__)
            raise
        self._xf = xf
        return self

    def write(self, item: FeedItem) -> None:
        """Append one ``<item>``, omitting empty attributes; the file, not memory, grows."""
        xf = self._xf
        if xf is None:
            raise RuntimeError("FeedWriter.write() called outside its with-block")
        children = []
        for name, value in item.fields:
            if value is None:
                continue
            text = xml_safe(str(value))
            if text.strip():
                children.append((self._tag(name, item), text))
        with xf.element("item"):
            for tag, text in children:
                with xf.element(tag):
                    xf.write(text)
        xf.write("\n")
        self.count += 1
        if self.count % FLUSH_EVERY == 0:
            xf.flush()

    def __exit__(self, exc_type, exc, tb) -> None:
        self._xf = None
        if exc_type is not None:
            self._discard(exc_type, exc, tb)
            return
        try:
            self._stack.close()
        except BaseException:
            self.path.unlink(missing_ok=True)
            raise

    def _tag(self, name: str, item: FeedItem) -> str:
        tag = self._tags.get(name)
        if tag is None:
            if not isinstance(name, str) or not _ATTRIBUTE.fullmatch(name):
                raise ValueError(f"Item {item.id!r}: {name!r} is not a Google attribute name.")
            tag = self._tags[name] = f"{{{GOOGLE_NS}}}{name}"
        return tag

    def _discard(self, exc_type, exc, tb) -> None:
        with contextlib.suppress(Exception):
            self._stack.__exit__(exc_type, exc, tb)
        self.path.unlink(missing_ok=True)


class FeedRefused(Exception):
    """A build that must not replace the live feed; ``message`` can be shown to the merchant."""

    def __init__(self, store_code: str, message: str) -> None:
        super().__init__(f"{store_code}: {message}")
        self.store_code = store_code
        self.message = message


class FeedCheckFailed(FeedRefused):
    """The temp file is not a whole, well-formed feed with the item count the build wrote."""


class FeedCollapseRefused(FeedRefused):
    """The new feed lost more than half the items of the live one: likely a fault, not a sale."""

    def __init__(self, store_code: str, old: int, new: int) -> None:
        super().__init__(
            store_code,
            f"The new feed has {new} items, fewer than half of the {old} items in the feed "
            "Google has now, so the current feed was kept. If you really removed those "
            "products, rebuild and confirm to publish the smaller feed.",
        )
        self.old = old
        self.new = new


@dataclass(frozen=True)
class PublishResult:
    """What a publish put live, for the build status; ``forced`` means a collapse was overridden."""

    items: int
    previous_items: int | None
    build_id: str
    published_at: str
    sha256: str
    etag: str
    size: int
    gz_size: int
    forced: bool


@dataclass(frozen=True)
class PublishedFeed:
    """The live feed as the public route and status page see it (sidecar fields None if stale)."""

    xml_path: Path
    gz_path: Path | None
    items: int | None
    published_at: str | None
    build_id: str | None
    etag: str
    size: int
    gz_size: int | None
    mtime: float


def publish(
    feeds_dir: PathLike,
    store_code: str,
    tmp_path: PathLike,
    item_count: int,
    *,
    force: bool = False,
) -> PublishResult:
    """Check the temp feed and swap it in whole, or refuse and leave the live feed untouched."""
    folder = store_dir(feeds_dir, store_code)
    tmp = Path(tmp_path)
    if tmp.parent.resolve() != folder.resolve() or not tmp.name.endswith(TMP_SUFFIX):
        raise ValueError(f"{tmp} is not a feed temp file of store {store_code}.")
    build_id = tmp.name.removesuffix(TMP_SUFFIX)
    gz_tmp = folder / f"{build_id}.xml.gz.tmp"
    try:
        previous = _read_sidecar(folder).get("items")
        collapsed = bool(previous) and item_count * 2 < previous
        if collapsed and not force:
            raise FeedCollapseRefused(store_code, previous, item_count)
        sha256, size, gz_size = _check_and_compress(store_code, tmp, gz_tmp, item_count)
        os.replace(gz_tmp, folder / GZ_NAME)
        os.replace(tmp, folder / FEED_NAME)
        _fsync_dir(folder)
        result = PublishResult(
            items=item_count,
            previous_items=previous,
            build_id=build_id,
            published_at=datetime.now(UTC).isoformat(timespec="seconds"),
            sha256=sha256,
            etag=f'"{sha256[:32]}"',
            size=size,
            gz_size=gz_size,
            forced=collapsed,
        )
        record = asdict(result) | {"mtime_ns": (folder / FEED_NAME).stat().st_mtime_ns}
        _write_json_atomically(folder / SIDECAR_NAME, record, folder / f"feed.json.{build_id}.tmp")
        return result
    except BaseException:
        tmp.unlink(missing_ok=True)
        gz_tmp.unlink(missing_ok=True)
        raise
    finally:
        _remove_stale_tmp(folder)


def published_feed(feeds_dir: PathLike, store_code: str) -> PublishedFeed | None:
    """The last good feed of a store, or None before its first publish."""
    folder = store_dir(feeds_dir, store_code)
    xml_path = folder / FEED_NAME
    try:
        stat = xml_path.stat()
    except FileNotFoundError:
        return None
    info = _read_sidecar(folder)
    if (info.get("size"), info.get("mtime_ns")) != (stat.st_size, stat.st_mtime_ns):
        info = {}  # the sidecar describes an earlier file: a publish died before updating it
    gz_path: Path | None = folder / GZ_NAME
    try:
        gz_size: int | None = gz_path.stat().st_size
    except FileNotFoundError:
        gz_path, gz_size = None, None
    return PublishedFeed(
        xml_path=xml_path,
        gz_path=gz_path,
        items=info.get("items"),
        published_at=info.get("published_at"),
        build_id=info.get("build_id"),
        etag=info.get("etag") or f'W/"{stat.st_size:x}-{stat.st_mtime_ns:x}"',
        size=stat.st_size,
        gz_size=gz_size,
        mtime=stat.st_mtime,
    )


def remove_store_feeds(feeds_dir: PathLike, store_code: str) -> bool:
    """Delete everything a store has under ``feeds_dir``; False if there was nothing."""
    folder = store_dir(feeds_dir, store_code)
    if not folder.is_dir():
        return False
    shutil.rmtree(folder)
    return True


class _Tee:
    """Lets one read of the temp file feed the parser, the hash and the gzip copy."""

    def __init__(self, source: IO[bytes], copy: IO[bytes]) -> None:
        self._source = source
        self._copy = copy
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self._source.read(n)
        self.sha256.update(chunk)
        self._copy.write(chunk)
        self.size += len(chunk)
        return chunk


def _check_and_compress(
    store_code: str, tmp: Path, gz_tmp: Path, expected: int
) -> tuple[str, int, int]:
    with open(tmp, "rb") as source, open(gz_tmp, "wb") as gz_file:
        with gzip.GzipFile(FEED_NAME, "wb", compresslevel=6, fileobj=gz_file, mtime=0) as gz:
            tee = _Tee(source, gz)
            found = _count_items(store_code, tee)
            while tee.read(_CHUNK):
                pass
        if found != expected:
            raise FeedCheckFailed(
                store_code,
                f"The new feed file holds {found} items but the build wrote {expected}; "
                "the current feed was kept.",
            )
        os.fsync(source.fileno())
        gz_file.flush()
        os.fsync(gz_file.fileno())
        return tee.sha256.hexdigest(), tee.size, gz_file.tell()


def _count_items(store_code: str, source: _Tee) -> int:
    count = 0
    events = etree.iterparse(
        source, events=("end",), tag="item", resolve_entities=False, no_network=True
    )
    try:
        for _, element in events:
            parent = element.getparent()
            if parent is None or parent.tag != "channel":
                raise FeedCheckFailed(store_code, "The new feed has an item outside its channel.")
            count += 1
            element.clear()
            while element.getprevious() is not None:
                del parent[0]
        root = events.root
    except etree.XMLSyntaxError as exc:
        raise FeedCheckFailed(
            store_code, f"The new feed file is not valid XML ({exc}); the current feed was kept."
        ) from exc
    if root is None or root.tag != "rss" or root.find("channel") is None:
        raise FeedCheckFailed(store_code, "The new feed file is not an RSS feed with a channel.")
    return count


def _read_sidecar(folder: Path) -> dict:
    try:
        with open(folder / SIDECAR_NAME, encoding="utf-8") as f:
            data = json.load(f)
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json_atomically(path: Path, data: dict, tmp: Path) -> None:
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, sort_keys=True, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_tmp(folder: Path) -> None:
    cutoff = time.time() - STALE_TMP_SECONDS
    for path in folder.glob("*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
