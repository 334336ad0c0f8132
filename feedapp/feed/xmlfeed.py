"""Streaming RSS writer: items go to a temp file a segment at a time (feedapp/feed/segments.py),
so memory stays flat for any size."""

from __future__ import annotations

import contextlib
import io
import os
import re
import zlib
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from lxml import etree

from feedapp.feed.segments import (
    GZIP_HEAD,
    MAX_BYTES,
    Layout,
    Made,
    Piece,
    Segment,
    crc32_combine,
    deflate,
    gzip_end,
    make,
    segment_ident,
)

GOOGLE_NS = "http://base.google.com/ns/1.0"
TMP_SUFFIX = ".xml.tmp"
GZ_TMP_SUFFIX = ".xml.gz.tmp"
#: The live feed's file name, also the name inside its gzip copy.
FEED_NAME = "feed.xml"
#: The live feed's gzip copy.
GZ_NAME = "feed.xml.gz"

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


#: Elements an ItemRenderer keeps; past this it starts afresh (some megabytes at most: a
#: description, the longest value, is cut to 5,000 characters).
_KEPT_ELEMENTS = 2048


class ItemRenderer:
    """Turns items into the exact bytes lxml would write for them inside the feed's channel, one
    item at a time, so they can be kept (the snapshot) and written into any feed file unchanged.

    An item is a flat run of ``<g:name>text</g:name>`` elements (a group one level deeper), so it
    is written here directly: lxml's element-by-element writer costs more than the mapping
    itself. The render benchmark and tests/feed/test_xmlfeed.py compare the bytes with lxml's.
    """

    def __init__(self) -> None:
        self._tags: dict[str, tuple[str, str]] = {}
        #: Each (name, text) pair's element as written ("" for blank text): an item's values
        #: repeat across its siblings (description, link, brand) and across the catalogue
        #: (condition, availability, prices), so most elements are looked up, not escaped again.
        self._elements: dict[tuple[str, str], str] = {}

    def render(self, item: FeedItem) -> bytes:
        """One ``<item>`` and its newline, omitting empty attributes.

        A value that is a tuple is a group (``Group``): one element holding a child element per
        non-empty pair, e.g. ``<g:shipping><g:country>CL</g:country>...</g:shipping>``.
        """
        parts = ["<item>"]
        elements = self._elements
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
            element = elements.get((name, value))
            if element is None:
                element = self._element(name, value, item)
            parts.append(element)
        parts.append("</item>\n")
        return "".join(parts).encode()

    def _element(self, name: str, value: str, item: FeedItem) -> str:
        """One attribute's element ("" when its text is blank), kept for the next item."""
        # Every character XML forbids is unprintable: printable text needs no cleaning.
        text = value if value.isprintable() else xml_safe(value)
        element = ""
        if text.strip():
            start, end = self._tags.get(name) or self._tag(name, item)
            element = f"{start}{escape_text(text)}{end}"
        if len(self._elements) >= _KEPT_ELEMENTS:
            self._elements.clear()
        self._elements[name, value] = element
        return element

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
    """What a writer put in its temp file, segment by segment (for publish to check the file
    read back against), and the compressed copy it made beside it; `failure` says why a segment
    it made is not a run of feed items."""

    layout: Layout
    gz_path: Path
    size: int
    crc: int
    #: The end of "The new feed file ...", e.g. "is not valid XML (...)".
    failure: str | None
    #: The gzip copy's bytes before the first segment and after the last.
    gz_head: bytes
    gz_tail: bytes


#: Segments made or copied but not yet in the files; past this the writer waits for the oldest.
_AHEAD = 8
_WRAP = (f'<rss xmlns:g="{GOOGLE_NS}"><channel>'.encode(), b"</channel></rss>")


class FeedWriter:
    """Streams items into a temp file, a segment at a time, so memory stays flat for any
    catalogue; beside it, the gzip copy publish will put live with it.

    Given the published feed's layout (`previous`), a segment whose ident it holds is copied
    from the published files instead of being made: its bytes would be the same. Segments made
    afresh are compressed and parse-checked on the other core as the writing goes on.
    """

    def __init__(
        self,
        feeds_dir: PathLike,
        store_code: str,
        build_id: str,
        *,
        channel: Channel,
        feed_id: str = FIRST_FEED,
        renderer: ItemRenderer | None = None,
        previous: Layout | None = None,
        fingerprint: str = "",
    ) -> None:
        if not isinstance(build_id, str) or not _BUILD_ID.fullmatch(build_id):
            raise ValueError(f"Unsafe build id {build_id!r}: use letters, digits, '-' or '_'.")
        self.path = store_dir(feeds_dir, store_code, feed_id) / f"{build_id}{TMP_SUFFIX}"
        self.gz_path = self.path.with_name(f"{build_id}{GZ_TMP_SUFFIX}")
        self.channel = channel
        self.count = 0
        self._renderer = renderer or ItemRenderer()
        self._previous = previous
        self._reusable = previous.by_ident() if previous else {}
        self._layout = Layout(build_id, fingerprint, 0, 0, 0, 0)
        self._out: _Files | None = None
        self._pending: list[Piece] = []
        self._pending_size = 0
        self._queue: deque[tuple[bytes | None, int, Segment | Future[Made]]] = deque()
        self._failure: str | None = None
        #: Segments made afresh, and copied from the live feed.
        self.made = self.copied = 0
        #: Set once the with-block ended well.
        self.written: Written | None = None

    @property
    def reusing(self) -> bool:
        """Whether segments may be copied from the published feed."""
        return bool(self._reusable)

    def __enter__(self) -> FeedWriter:
        head, self._tail = document_frame(self.channel)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out = _Files(self.path, self.gz_path, self._previous)
        self._gz_head = GZIP_HEAD + deflate(head)
        try:
            self._out.write(head, self._gz_head)
        except BaseException:
            self._discard()
            raise
        self._layout.head_len, self._layout.head_crc = len(head), zlib.crc32(head)
        self._crc, self._size = self._layout.head_crc, len(head)
        return self

    def write(self, item: FeedItem) -> None:
        """Append one ``<item>`` (see ItemRenderer.render); the file, not memory, grows."""
        self.write_xml(self._renderer.render(item))

    def write_xml(self, xml: bytes) -> None:
        """Append one item already rendered by an ItemRenderer."""
        self.add(Piece(None, 1, len(xml), False, xml))

    def add(self, piece: Piece) -> None:
        """Append one product's items; a segment closes after it when the product ends one."""
        if self._out is None:
            raise RuntimeError("FeedWriter.write() called outside its with-block")
        self._pending.append(piece)
        self._pending_size += piece.size
        self.count += piece.items
        if piece.ends or self._pending_size >= MAX_BYTES:
            self._close_segment()

    def _close_segment(self) -> None:
        pieces, self._pending, self._pending_size = self._pending, [], 0
        ident = segment_ident(pieces)
        items = sum(piece.items for piece in pieces)
        old = self._reusable.get(ident) if ident is not None else None
        if old is not None and old.items == items:
            self._queue.append((ident, items, old))
            self.copied += 1
        else:
            self.made += 1
            for piece in pieces:
                piece.fetch()
            self._queue.append((ident, items, self._out.pool.submit(make, pieces, _WRAP)))
        self._drain(len(self._queue) > _AHEAD)

    def _drain(self, wait: bool) -> None:
        """Write the segments at the front of the queue that are ready (with `wait`, at least
        the first)."""
        queue = self._queue
        while queue:
            ident, items, source = queue[0]
            if isinstance(source, Future) and not (wait or source.done()):
                return
            queue.popleft()
            wait = False
            if isinstance(source, Segment):
                at, gz_at = self._out.copy(source)
                segment = Segment(
                    ident,
                    items,
                    at,
                    source.xml_len,
                    source.xml_crc,
                    gz_at,
                    source.gz_len,
                    source.gz_crc,
                )
            else:
                made = source.result()
                if made.error is None and made.items != items:
                    made.error = f"holds {made.items} items where the build wrote {items}"
                if made.error is not None and self._failure is None:
                    self._failure = made.error
                at, gz_at = self._out.write(made.xml, made.gz)
                segment = Segment(
                    ident, items, at, len(made.xml), made.xml_crc, gz_at, len(made.gz), made.gz_crc
                )
            self._layout.segments.append(segment)
            self._crc = crc32_combine(self._crc, segment.xml_crc, segment.xml_len)
            self._size += segment.xml_len

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            if self._pending:
                self._close_segment()
            while self._queue:
                self._drain(True)
            tail = self._tail
            self._crc = zlib.crc32(tail, self._crc)
            self._size += len(tail)
            gz_tail = deflate(tail) + gzip_end(self._crc, self._size)
            self._out.write(tail, gz_tail)
            self._layout.gz_size = self._out.gz_at
            self._out.close()
        except BaseException:
            self._discard()
            raise
        finally:
            self._out = None
        self._layout.tail_len, self._layout.tail_crc = len(tail), zlib.crc32(tail)
        self.written = Written(
            self._layout,
            self.gz_path,
            self._size,
            self._crc,
            self._failure,
            self._gz_head,
            gz_tail,
        )

    def _discard(self) -> None:
        if self._out is not None:
            self._out.close(discard=True)
        self.path.unlink(missing_ok=True)
        self.gz_path.unlink(missing_ok=True)


class _Files:
    """A writer's two temp files, the published pair it copies from, and its compressing
    threads."""

    def __init__(self, path: Path, gz_path: Path, previous: Layout | None) -> None:
        self.pool = ThreadPoolExecutor(2, thread_name_prefix="feed-segment")
        self._xml = open(path, "wb", buffering=0)
        self._gz = open(gz_path, "wb", buffering=0)
        self.xml_at = self.gz_at = 0
        self._sources: tuple[IO[bytes], IO[bytes]] | None = None
        if previous is not None:
            folder = path.parent
            self._sources = (open(folder / FEED_NAME, "rb"), open(folder / GZ_NAME, "rb"))
        #: A run of copies contiguous in the published files, made in one call when it ends.
        self._run: list[int] | None = None

    def write(self, xml: bytes, gz: bytes) -> tuple[int, int]:
        """Append bytes to both files; where they start in each."""
        self._flush_run()
        at = (self.xml_at, self.gz_at)
        _write_all(self._xml, xml)
        _write_all(self._gz, gz)
        self.xml_at += len(xml)
        self.gz_at += len(gz)
        return at

    def copy(self, source: Segment) -> tuple[int, int]:
        """Append a published segment to both files; where it starts in each."""
        run = self._run
        if run and run[0] + run[1] == source.xml_at and run[2] + run[3] == source.gz_at:
            run[1] += source.xml_len
            run[3] += source.gz_len
        else:
            self._flush_run()
            self._run = [source.xml_at, source.xml_len, source.gz_at, source.gz_len]
        at = (self.xml_at, self.gz_at)
        self.xml_at += source.xml_len
        self.gz_at += source.gz_len
        return at

    def _flush_run(self) -> None:
        if self._run is None:
            return
        xml_at, xml_len, gz_at, gz_len = self._run
        self._run = None
        _copy_range(self._sources[0], self._xml, xml_at, xml_len)
        _copy_range(self._sources[1], self._gz, gz_at, gz_len)

    def close(self, discard: bool = False) -> None:
        """Finish (or abandon) the files."""
        try:
            if not discard:
                self._flush_run()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
            for handle in (self._xml, self._gz, *(self._sources or ())):
                with contextlib.suppress(OSError):
                    handle.close()


def _write_all(handle: IO[bytes], data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[handle.write(view) :]


def _copy_range(source: IO[bytes], target: IO[bytes], at: int, length: int) -> None:
    """Append `length` bytes of `source` from `at` (in the kernel: no byte crosses Python)."""
    while length:
        done = os.copy_file_range(source.fileno(), target.fileno(), length, at)
        if done == 0:
            raise OSError(f"{source.name} ended before the segment at {at} it was to copy")
        at += done
        length -= done
