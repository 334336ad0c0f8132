"""Streaming RSS writer: items go to a temp file one by one, so memory stays flat for any size."""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from lxml import etree

GOOGLE_NS = "http://base.google.com/ns/1.0"
TMP_SUFFIX = ".xml.tmp"

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


class ItemRenderer:
    """Turns items into the exact bytes a feed holds for them, one item at a time.

    lxml writes each item inside an open ``<rss><channel>`` with the ``g`` prefix declared, as in
    a whole document; the bytes of each item are taken as it is flushed, so they can be kept
    (the snapshot) and written into any feed file unchanged.
    """

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._stack = contextlib.ExitStack()
        self._xf = self._stack.enter_context(etree.xmlfile(self._buffer, encoding="UTF-8"))
        self._stack.enter_context(self._xf.element("rss", nsmap={"g": GOOGLE_NS}))
        self._stack.enter_context(self._xf.element("channel"))
        self._take()
        self._tags: dict[str, str] = {}

    def _take(self) -> bytes:
        self._xf.flush()
        buffer = self._buffer
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return data

    def render(self, item: FeedItem) -> bytes:
        """One ``<item>`` and its newline, omitting empty attributes.

        A value that is a tuple is a group (``Group``): one element holding a child element per
        non-empty pair, e.g. ``<g:shipping><g:country>CL</g:country>...</g:shipping>``.
        """
        children = []
        nested = False
        for name, value in item.fields:
            if value.__class__ is not str:  # the common case skips these checks and str()
                if value is None:
                    continue
                if value.__class__ is tuple:
                    group = self._group(name, value, item)
                    if group:
                        children.append((self._tag(name, item), group))
                        nested = True
                    continue
                value = str(value)
            text = xml_safe(value)
            if text.strip():
                children.append((self._tag(name, item), text))
        xf = self._xf
        with xf.element("item"):
            if nested:
                self._write_nested(xf, children)
            else:
                for tag, text in children:
                    with xf.element(tag):
                        xf.write(text)
        xf.write("\n")
        return self._take()

    def close(self) -> None:
        """Let go of lxml's writer."""
        with contextlib.suppress(Exception):
            self._stack.close()

    def _group(self, name: str, group: Group, item: FeedItem) -> list[tuple[str, str]]:
        """A group's non-empty (tag, text) pairs; a group in a group is refused, not flattened."""
        pairs = []
        for subname, value in group:
            if value is None:
                continue
            if value.__class__ is tuple:
                raise ValueError(f"Item {item.id!r}: {name}.{subname} nests a group in a group.")
            text = xml_safe(str(value))
            if text.strip():
                pairs.append((self._tag(subname, item), text))
        return pairs

    @staticmethod
    def _write_nested(xf: etree.xmlfile, children: list[tuple[str, str | list]]) -> None:
        """An item's elements when at least one is a group; kept apart so plain items stay lean."""
        for tag, content in children:
            with xf.element(tag):
                if content.__class__ is str:
                    xf.write(content)
                    continue
                for subtag, text in content:
                    with xf.element(subtag):
                        xf.write(text)

    def _tag(self, name: str, item: FeedItem) -> str:
        tag = self._tags.get(name)
        if tag is None:
            if not isinstance(name, str) or not _ATTRIBUTE.fullmatch(name):
                raise ValueError(f"Item {item.id!r}: {name!r} is not a Google attribute name.")
            tag = self._tags[name] = f"{{{GOOGLE_NS}}}{name}"
        return tag


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


class FeedWriter:
    """Streams items into a temp file one at a time, so memory stays flat for any catalogue."""

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
        self._renderer = renderer
        self._own_renderer = renderer is None
        self._out: IO[bytes] | None = None
        self._tail = b""

    def __enter__(self) -> FeedWriter:
        head, self._tail = document_frame(self.channel)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out = open(self.path, "wb")
        try:
            self._out.write(head)
        except BaseException:
            self._discard()
            raise
        return self

    def write(self, item: FeedItem) -> None:
        """Append one ``<item>`` (see ItemRenderer.render); the file, not memory, grows."""
        if self._renderer is None:
            self._renderer = ItemRenderer()
        self.write_xml(self._renderer.render(item))

    def write_xml(self, xml: bytes) -> None:
        """Append one item already rendered by an ItemRenderer."""
        if self._out is None:
            raise RuntimeError("FeedWriter.write() called outside its with-block")
        self._out.write(xml)
        self.count += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        out, self._out = self._out, None
        if self._own_renderer and self._renderer is not None:
            self._renderer.close()
        if exc_type is not None:
            self._discard(out)
            return
        try:
            out.write(self._tail)
            out.close()
        except BaseException:
            self._discard(out)
            raise

    def _discard(self, out: IO[bytes] | None = None) -> None:
        with contextlib.suppress(Exception):
            (out or self._out).close()
        self.path.unlink(missing_ok=True)
