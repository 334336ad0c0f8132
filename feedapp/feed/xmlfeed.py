"""Streaming RSS writer: items go to a temp file one by one, so memory stays flat for any size."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import queue
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from lxml import etree

GOOGLE_NS = "http://base.google.com/ns/1.0"
TMP_SUFFIX = ".xml.tmp"
GZ_TMP_SUFFIX = ".xml.gz.tmp"
#: The live feed's file name, also the name inside its gzip copy.
FEED_NAME = "feed.xml"
#: Bytes handed to the compressing thread at a time.
_CHUNK = 1 << 20

_STORE_CODE = re.compile(r"[a-z0-9_-]{1,100}")
_FEED_ID = re.compile(r"[1-9][0-9]{0,3}")
#: The id of a store's first feed, the one a store had before feeds per market.
FIRST_FEED = "1"
_BUILD_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
_ATTRIBUTE = re.compile(r"[a-z][a-z0-9_]{0,79}")
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

PathLike = str | os.PathLike[str]


def xml_safe(value: str) -> str:
    """Drop the characters XML 1.0 forbids, which lxml would otherwise refuse mid-feed."""
    return _FORBIDDEN.sub("", value)


def store_dir(feeds_dir: PathLike, store_code: str, feed_id: str = FIRST_FEED) -> Path:
    """A feed's folder, once the code and id are known not to escape ``feeds_dir``.

    The store's first feed lives in the store's own folder (where a store's only feed lived before
    feeds per market, so its published files stay where they are); each other feed in a subfolder
    named by its id.
    """
    if not isinstance(store_code, str) or not _STORE_CODE.fullmatch(store_code):
        raise ValueError(
            f"Unsafe store code {store_code!r}: use lowercase letters, digits, '-' or '_'."
        )
    if not isinstance(feed_id, str) or not _FEED_ID.fullmatch(feed_id):
        raise ValueError(f"Unsafe feed id {feed_id!r}: a feed id is a number from 1 to 9999.")
    folder = Path(feeds_dir) / store_code
    return folder if feed_id == FIRST_FEED else folder / feed_id


#: A nested attribute such as Google's ``shipping``: its (sub-attribute, value) pairs, in order.
Group = tuple[tuple[str, str], ...]


class FeedItem(Protocol):
    """What the writer needs from a mapped item (``mapping.Item`` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def fields(self) -> Sequence[tuple[str, str | Group]]: ...


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


def escape_text(text: str) -> str:
    """Text as lxml writes it in an element: ``&``, ``<``, ``>`` and carriage returns escaped,
    nothing else (tests/feed/test_xmlfeed.py holds it to lxml's output on random text)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


class ItemRenderer:
    """Turns items into the exact bytes lxml would write for them inside the feed's channel, one
    item at a time, so they can be kept (the snapshot) and written into any feed file unchanged.

    An item is a flat run of ``<g:name>text</g:name>`` elements (a group one level deeper), so it
    is written here directly: lxml's element-by-element writer costs more than the mapping
    itself. The render benchmark and tests/feed/test_xmlfeed.py compare the bytes with lxml's.
    """

    def __init__(self) -> None:
        self._tags: dict[str, tuple[str, str]] = {}

    def render(self, item: FeedItem) -> bytes:
        """One ``<item>`` and its newline, omitting empty attributes.

        A value that is a tuple is a group (``Group``): one element holding a child element per
        non-empty pair, e.g. ``<g:shipping><g:country>CL</g:country>...</g:shipping>``.
        """
        parts = ["<item>"]
        for name, value in item.fields:
            if value.__class__ is not str:  # the common case skips these checks and str()
                if value is None:
                    continue
                if value.__class__ is tuple:
                    inner = self._group(name, value, item)
                    if inner:
                        start, end = self._tag(name, item)
                        parts += (start, *inner, end)
                    continue
                value = str(value)
            text = xml_safe(value)
            if text.strip():
                start, end = self._tag(name, item)
                parts += (start, escape_text(text), end)
        parts.append("</item>\n")
        return "".join(parts).encode()

    def _group(self, name: str, group: Group, item: FeedItem) -> list[str]:
        """A group's non-empty elements; a group in a group is refused, not flattened."""
        parts: list[str] = []
        for subname, value in group:
            if value is None:
                continue
            if value.__class__ is tuple:
                raise ValueError(f"Item {item.id!r}: {name}.{subname} nests a group in a group.")
            text = xml_safe(str(value))
            if text.strip():
                start, end = self._tag(subname, item)
                parts += (start, escape_text(text), end)
        return parts

    def _tag(self, name: str, item: FeedItem) -> tuple[str, str]:
        tags = self._tags.get(name)
        if tags is None:
            if not isinstance(name, str) or not _ATTRIBUTE.fullmatch(name):
                raise ValueError(f"Item {item.id!r}: {name!r} is not a Google attribute name.")
            tags = self._tags[name] = (f"<g:{name}>", f"</g:{name}>")
        return tags


def document_frame(channel: Channel) -> tuple[bytes, bytes]:
    """The bytes before the first item (declaration, ``<rss>``, the channel's header) and after
    the last, as lxml writes them."""
    buffer = io.BytesIO()
    with etree.xmlfile(buffer, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element("rss", nsmap={"g": GOOGLE_NS}, version="2.0"):
            xf.write("\n")
            with xf.element("channel"):
                for name in ("title", "link", "description"):
                    xf.write("\n")
                    with xf.element(name):
                        xf.write(xml_safe(getattr(channel, name)))
                xf.write("\n")
                xf.flush()
                head = buffer.getvalue()
    return head, buffer.getvalue()[len(head) :]


@dataclass(frozen=True)
class Written:
    """What a writer put in its temp file (digest and size, for publish to check the file read
    back against) and the compressed copy it made beside it."""

    sha256: str
    size: int
    gz_path: Path


class _Compressor:
    """Hashes and gzips what a writer writes, in a thread of its own: zlib and hashlib let go of
    the interpreter, so on a second core the compressed copy costs the build no time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sha256 = hashlib.sha256()
        self.size = 0
        self._file = open(path, "wb")
        self._gz = gzip.GzipFile(FEED_NAME, "wb", compresslevel=6, fileobj=self._file, mtime=0)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="feed-gzip", daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> None:
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= _CHUNK:
            self._send()

    def _send(self) -> None:
        self._queue.put(b"".join(self._pending))
        self._pending, self._pending_size = [], 0

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self.sha256.update(chunk)
                    self.size += len(chunk)
                    self._gz.write(chunk)
                except BaseException as exc:  # raised in the writer's thread by close()
                    self._error = exc

    def close(self) -> None:
        """Finish the copy; an error of the thread is raised here."""
        if self._pending:
            self._send()
        self._queue.put(None)
        self._thread.join()
        try:
            self._gz.close()
        finally:
            self._file.close()
        if self._error is not None:
            raise self._error

    def discard(self) -> None:
        """Stop and remove the copy (the feed it belonged to is abandoned)."""
        with contextlib.suppress(BaseException):
            self.close()
        self.path.unlink(missing_ok=True)


class FeedWriter:
    """Streams items into a temp file one at a time, so memory stays flat for any catalogue;
    beside it, the gzip copy publish will put live with it."""

    def __init__(
        self,
        feeds_dir: PathLike,
        store_code: str,
        build_id: str,
        *,
        channel: Channel,
        feed_id: str = FIRST_FEED,
        renderer: ItemRenderer | None = None,
    ) -> None:
        if not isinstance(build_id, str) or not _BUILD_ID.fullmatch(build_id):
            raise ValueError(f"Unsafe build id {build_id!r}: use letters, digits, '-' or '_'.")
        self.path = store_dir(feeds_dir, store_code, feed_id) / f"{build_id}{TMP_SUFFIX}"
        self.channel = channel
        self.count = 0
        self._renderer = renderer or ItemRenderer()
        self._out: IO[bytes] | None = None
        self._tail = b""
        self._copy: _Compressor | None = None
        self._build_id = build_id
        #: Set once the with-block ended well.
        self.written: Written | None = None

    def __enter__(self) -> FeedWriter:
        head, self._tail = document_frame(self.channel)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out = open(self.path, "wb")
        try:
            self._copy = _Compressor(self.path.with_name(f"{self._build_id}{GZ_TMP_SUFFIX}"))
            self._out.write(head)
            self._copy.write(head)
        except BaseException:
            self._discard()
            raise
        return self

    def write(self, item: FeedItem) -> None:
        """Append one ``<item>`` (see ItemRenderer.render); the file, not memory, grows."""
        self.write_xml(self._renderer.render(item))

    def write_xml(self, xml: bytes) -> None:
        """Append one item already rendered by an ItemRenderer."""
        if self._out is None:
            raise RuntimeError("FeedWriter.write() called outside its with-block")
        self._out.write(xml)
        self._copy.write(xml)
        self.count += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        out, self._out = self._out, None
        if exc_type is not None:
            self._discard(out)
            return
        try:
            out.write(self._tail)
            self._copy.write(self._tail)
            out.close()
            self._copy.close()
        except BaseException:
            self._discard(out)
            raise
        self.written = Written(self._copy.sha256.hexdigest(), self._copy.size, self._copy.path)

    def _discard(self, out: IO[bytes] | None = None) -> None:
        with contextlib.suppress(Exception):
            (out or self._out).close()
        if self._copy is not None:
            self._copy.discard()
        self.path.unlink(missing_ok=True)
