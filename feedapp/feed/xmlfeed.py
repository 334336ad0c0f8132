"""Streaming RSS writer: items go to a temp file one by one, so memory stays flat for any size."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lxml import etree

GOOGLE_NS = "http://base.google.com/ns/1.0"
TMP_SUFFIX = ".xml.tmp"
#: Items between flushes of lxml's buffer into the file.
FLUSH_EVERY = 500

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
