"""Atomic publish of a written feed, so Google only ever fetches a whole, checked snapshot."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import time
import zlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from lxml import etree

from feedapp.feed.segments import LAYOUT_NAME, LAYOUT_TMP_SUFFIX, Layout
from feedapp.feed.xmlfeed import (
    FEED_NAME,
    FIRST_FEED,
    GZ_NAME,
    GZ_TMP_SUFFIX,
    TMP_SUFFIX,
    PathLike,
    Written,
    store_dir,
)

SIDECAR_NAME = "feed.json"
#: Temp files older than this are leftovers of failed or killed builds.
STALE_TMP_SECONDS = 3600
_CHUNK = 1 << 20


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
    feed_id: str = FIRST_FEED,
    written: Written | None = None,
) -> PublishResult:
    """Check the temp feed and swap it in whole, or refuse and leave the live feed untouched.

    `written`: the writer's account of the file and its gzip copy; the file read back must match
    it. Without one, the copy is made here.
    """
    folder = store_dir(feeds_dir, store_code, feed_id)
    tmp = Path(tmp_path)
    if tmp.parent.resolve() != folder.resolve() or not tmp.name.endswith(TMP_SUFFIX):
        raise ValueError(f"{tmp} is not a feed temp file of store {store_code}.")
    build_id = tmp.name.removesuffix(TMP_SUFFIX)
    gz_tmp = folder / f"{build_id}{GZ_TMP_SUFFIX}"
    layout_tmp = folder / f"{build_id}{LAYOUT_TMP_SUFFIX}"
    try:
        previous = _read_sidecar(folder).get("items")
        collapsed = bool(previous) and item_count * 2 < previous
        if collapsed and not force:
            raise FeedCollapseRefused(store_code, previous, item_count)
        if written is None or written.gz_path != gz_tmp:
            sha256, size, gz_size = _check_and_compress(store_code, tmp, gz_tmp, item_count)
            (folder / LAYOUT_NAME).unlink(missing_ok=True)
        else:
            sha256, size, gz_size = _check_written(store_code, tmp, written, item_count)
            written.layout.save(layout_tmp)
        os.replace(gz_tmp, folder / GZ_NAME)
        os.replace(tmp, folder / FEED_NAME)
        if written is not None and layout_tmp.exists():
            os.replace(layout_tmp, folder / LAYOUT_NAME)
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
    except BaseException as exc:
        for path in (tmp, gz_tmp, layout_tmp):
            path.unlink(missing_ok=True)
        if isinstance(exc, FeedCheckFailed) and written is not None:
            # What was copied from the live files may be what is damaged: the next build of
            # this feed copies nothing from them, and so replaces them whole.
            (folder / LAYOUT_NAME).unlink(missing_ok=True)
        raise
    finally:
        _remove_stale_tmp(folder)


def published_feed(
    feeds_dir: PathLike, store_code: str, feed_id: str = FIRST_FEED
) -> PublishedFeed | None:
    """The last good file of a store's feed, or None before its first publish."""
    folder = store_dir(feeds_dir, store_code, feed_id)
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


def published_layout(
    feeds_dir: PathLike, store_code: str, feed_id: str = FIRST_FEED
) -> Layout | None:
    """The live feed's segments, for the next build to copy from; None unless the layout file
    describes exactly the files that are live (same publish, same sizes)."""
    live = published_feed(feeds_dir, store_code, feed_id)
    if live is None or live.gz_size is None:
        return None
    layout = Layout.load(live.xml_path.with_name(LAYOUT_NAME), live.build_id)
    if layout is None or (layout.xml_size, layout.gz_size) != (live.size, live.gz_size):
        return None
    return layout


def remove_feed_files(feeds_dir: PathLike, store_code: str, feed_id: str) -> bool:
    """Delete one feed's published files (a removed feed); False if it had none."""
    folder = store_dir(feeds_dir, store_code, feed_id)
    if feed_id != FIRST_FEED:
        existed = folder.is_dir()
        shutil.rmtree(folder, ignore_errors=True)
        return existed
    # The first feed shares the store's folder with the other feeds' subfolders.
    files = [p for p in folder.glob("*") if p.is_file()] if folder.is_dir() else []
    for path in files:
        path.unlink(missing_ok=True)
    return bool(files)


def remove_store_feeds(feeds_dir: PathLike, store_code: str) -> bool:
    """Delete everything a store has under ``feeds_dir``; False if there was nothing."""
    folder = store_dir(feeds_dir, store_code)
    if not folder.is_dir():
        return False
    shutil.rmtree(folder)
    return True


class _Tee:
    """Lets one read of the temp file feed the parser, the hash and the gzip copy."""

    def __init__(self, source: IO[bytes], copy: IO[bytes] | None) -> None:
        self._source = source
        self._copy = copy
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self._source.read(n)
        self.sha256.update(chunk)
        if self._copy is not None:
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
        _expect_items(store_code, found, expected)
        os.fsync(source.fileno())
        gz_file.flush()
        os.fsync(gz_file.fileno())
        return tee.sha256.hexdigest(), tee.size, gz_file.tell()


def _check_written(
    store_code: str, tmp: Path, written: Written, expected: int
) -> tuple[str, int, int]:
    """The check of a file written segment by segment: read back, each segment of it and of
    its gzip copy must be what the writer wrote (their CRC-32s), so the copy is a copy of what
    was checked; each segment made afresh was parsed as feed items when it was made, and each
    one copied was, by the publish that first put it live."""
    layout = written.layout
    if written.failure is not None:
        raise FeedCheckFailed(
            store_code, f"The new feed file {written.failure}; the current feed was kept."
        )
    damaged = FeedCheckFailed(
        store_code,
        "The new feed file is not what the build wrote (damaged on disk?); "
        "the current feed was kept.",
    )
    with open(tmp, "rb") as source, open(written.gz_path, "rb") as gz_file:
        fd, gz_fd = source.fileno(), gz_file.fileno()
        if os.fstat(fd).st_size != written.size or written.size != layout.xml_size:
            raise damaged
        sha256 = hashlib.sha256()
        parts = [(0, layout.head_len, layout.head_crc)]
        parts += [(s.xml_at, s.xml_len, s.xml_crc) for s in layout.segments]
        parts.append((written.size - layout.tail_len, layout.tail_len, layout.tail_crc))
        for at, length, crc in parts:
            data = os.pread(fd, length, at)
            if zlib.crc32(data) != crc:
                raise damaged
            sha256.update(data)
        gz_size = os.fstat(gz_fd).st_size
        head, tail = written.gz_head, written.gz_tail
        if gz_size != layout.gz_size or os.pread(gz_fd, len(head), 0) != head:
            raise damaged
        for segment in layout.segments:
            if zlib.crc32(os.pread(gz_fd, segment.gz_len, segment.gz_at)) != segment.gz_crc:
                raise damaged
        if os.pread(gz_fd, len(tail), gz_size - len(tail)) != tail:
            raise damaged
        _expect_items(store_code, layout.items, expected)
        os.fsync(fd)
        os.fsync(gz_fd)
        return sha256.hexdigest(), written.size, gz_size


def _expect_items(store_code: str, found: int, expected: int) -> None:
    """Refuse a file that does not hold the items its build wrote."""
    if found != expected:
        raise FeedCheckFailed(
            store_code,
            f"The new feed file holds {found} items but the build wrote {expected}; "
            "the current feed was kept.",
        )


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
