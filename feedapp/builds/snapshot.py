"""A store's catalogue as last read, per language, and what each product made for each feed.

A full build pages the catalogue into the snapshot and renders only the products whose content
(or whose feed's settings) changed; a webhook edit updates one product in it; an options change
re-renders from it without asking Jumpseller anything. Every feed is then written from the
snapshot in the same way, so an edit applied alone gives the same bytes as a full build.

It is a cache: deleting it costs one full build, never correctness. It lives beside the store's
feeds (an SQLite file on the feeds volume that every worker shares, never served: the feed route
answers only a feed's own files), not in Redis, whose memory is the deployment's scarce resource.
Every change happens in one SQLite transaction, so a worker killed halfway leaves it as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from feedapp.feed.problems import Problem
from feedapp.feed.segments import pack, unpack
from feedapp.feed.xmlfeed import PathLike, store_dir

FILE_NAME = "snapshot.sqlite"
#: Bumped when the tables or the packed render change shape: an older file is started afresh;
#: so is one whose marshal bytes another Python wrote.
SCHEMA = f"6/{marshal.version}"
#: A product id that is not a number is kept under its content's digest, after every number.
_TEXT_KEY = "~"

#: A render's facts (small rows, read for every product of a feed on every write) and its items'
#: XML (large, read only where a segment must be made afresh) are kept apart. Large rows (a
#: product, an items' XML) go in rowid tables: in a WITHOUT ROWID one, a row past a quarter of a
#: page spills into an overflow page of its own, and the file doubles.
_TABLES = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS products(
    lang TEXT NOT NULL, key NOT NULL, seq INTEGER NOT NULL, updated TEXT NOT NULL,
    digest BLOB NOT NULL, content BLOB NOT NULL, UNIQUE(lang, key));
CREATE INDEX IF NOT EXISTS products_order ON products(lang, seq);
CREATE TABLE IF NOT EXISTS renders(
    feed TEXT NOT NULL, key NOT NULL, source BLOB NOT NULL, fingerprint BLOB NOT NULL,
    meta BLOB NOT NULL, PRIMARY KEY(feed, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items(feed TEXT NOT NULL, key NOT NULL, xml BLOB NOT NULL,
    UNIQUE(feed, key));
CREATE TABLE IF NOT EXISTS removed(key PRIMARY KEY, updated TEXT NOT NULL) WITHOUT ROWID;
"""

Key = int | str

#: A feed's products in order: each one's key and digest, whether its render is current (made
#: from this content under the fingerprint given) and that render's facts...
_ORDER = (
    "SELECT p.key, p.digest, r.source IS p.digest AND r.fingerprint IS ?, r.meta, NULL "
    "FROM products p LEFT JOIN renders r ON r.feed=? AND r.key=p.key "
    "WHERE p.lang=? ORDER BY p.seq"
)
#: ... and, here, its items' XML too.
_ORDER_WITH_XML = (
    "SELECT p.key, p.digest, r.source IS p.digest AND r.fingerprint IS ?, r.meta, i.xml "
    "FROM products p LEFT JOIN renders r ON r.feed=? AND r.key=p.key "
    "LEFT JOIN items i ON i.feed=? AND i.key=p.key WHERE p.lang=? ORDER BY p.seq"
)


@dataclass(frozen=True, slots=True)
class Encoded:
    """One product as the snapshot keeps it: its key, its content (marshal bytes), and the
    digest of its canonical JSON."""

    key: Key
    updated: str
    content: bytes
    digest: bytes


def encode(product: dict) -> Encoded:
    """The product's key, content and digest. The digest is of its canonical JSON (keys
    sorted, so a payload and a page agree); the content is kept as marshal bytes, which decode
    in a third of json.loads' time: every product is decoded again on each options change."""
    text = json.dumps(product, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
    content = marshal.dumps(product)
    return Encoded(product_key(product.get("id"), digest), _updated(product), content, digest)


def decode(content: bytes) -> dict:
    """The product whose content encode() made (only JSON's plain values, written by us)."""
    return marshal.loads(content)  # noqa: S302 - our own file


def product_key(pid: object, digest: bytes = b"") -> Key:
    """A product's key: its id when that is a whole number (as Jumpseller's are), else text."""
    if isinstance(pid, int) and not isinstance(pid, bool):
        return pid
    if isinstance(pid, str) and pid.isascii() and pid.isdigit() and len(pid) <= 18:
        return int(pid)
    return _TEXT_KEY + digest.hex()


def _updated(product: dict) -> str:
    value = product.get("updated_at")
    return value[:64] if isinstance(value, str) else ""


class RenderedItem(NamedTuple):
    """One item as written: what the feed-wide ledgers need to know, and its XML's length."""

    item_id: str
    gtin: str | None
    labels: tuple[tuple[str, str], ...]
    length: int


@dataclass(slots=True)
class Rendered:
    """What one product made for one feed, before the feed-wide ledgers: items and problems,
    and the items' XML, one after the other (None when only the facts were read back, the
    bytes being left in the snapshot until needed)."""

    product_id: str
    product_name: str
    offers: int
    items: list[RenderedItem]
    problems: list[Problem]
    xml: bytes | None

    @property
    def size(self) -> int:
        """Bytes of its items' XML."""
        return sum(item.length for item in self.items)

    def pack(self) -> tuple[bytes, bytes]:
        """Compact bytes for the snapshot: the facts (marshal: only plain values, written by
        us), and apart, so the facts can be read without it, the items' XML, packed as a
        segment's pieces are (segments.pack: a fifth of the bytes to store and to read back)."""
        meta = marshal.dumps(
            (
                self.product_id,
                self.product_name,
                self.offers,
                [tuple(item) for item in self.items],
                [tuple(problem) for problem in self.problems],
            )
        )
        return meta, pack(self.xml)

    @classmethod
    def unpack(cls, meta: bytes, packed: bytes | None = None, xml: bytes | None = None) -> Rendered:
        """The render pack() wrote, its XML given `packed` (as pack() made it) or as it is;
        with neither, its facts only."""
        pid, name, offers, items, problems = marshal.loads(meta)  # noqa: S302 - our own file
        make = tuple.__new__
        return cls(
            pid,
            name,
            offers,
            [make(RenderedItem, item) for item in items],
            [make(Problem, problem) for problem in problems],
            unpack(packed) if packed is not None else xml,
        )


class Snapshot:
    """One store's snapshot file, opened by the worker that holds the store's build lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = self._connect()
            if self._schema() != SCHEMA:
                self._reset()
        except sqlite3.DatabaseError:  # not a database at all: only a lost cache (the failed
            path.unlink(missing_ok=True)  # connection goes with its last reference)
            self.db = self._connect()
            self._reset()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @classmethod
    def open(cls, feeds_dir: PathLike, store_code: str) -> Snapshot:
        """The store's snapshot (an empty one when it has none yet)."""
        return cls(store_dir(feeds_dir, store_code) / FILE_NAME)

    def close(self) -> None:
        """Release the file."""
        self.db.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _schema(self) -> str | None:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.OperationalError:  # no meta table: a new file, or another one
            return None
        return row[0] if row else None

    def _reset(self) -> None:
        """Start afresh: a file of another schema is only a lost cache."""
        for (name,) in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        ).fetchall():
            self.db.execute(f'DROP TABLE IF EXISTS "{name}"')
        self.db.executescript(_TABLES)
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA,))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All changes inside land together or not at all (a killed worker's never land)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- meta ---------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        """A stored setting of the snapshot."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting of the snapshot."""
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def complete(self, language: str) -> bool:
        """Whether a full paging of this language ever finished into the snapshot."""
        return self.meta(f"complete:{language}") == "1"

    def mark_complete(self, language: str) -> None:
        """A full paging of this language has just landed."""
        self.set_meta(f"complete:{language}", "1")

    # -- products ----------------------------------------------------------------------------
    def known(self, language: str) -> dict[Key, tuple[bytes, int]]:
        """Every product of a language: its digest and place."""
        rows = self.db.execute("SELECT key, digest, seq FROM products WHERE lang=?", (language,))
        return {key: (digest, seq) for key, digest, seq in rows}

    def put(self, language: str, product: Encoded, seq: int) -> None:
        """Store a product's content at its place."""
        self.db.execute(
            "INSERT OR REPLACE INTO products VALUES (?, ?, ?, ?, ?, ?)",
            (
                language,
                product.key,
                seq,
                product.updated,
                product.digest,
                pack(product.content),
            ),
        )

    def move(self, language: str, key: Key, seq: int) -> None:
        """A product unchanged but found at another place in the paging."""
        self.db.execute("UPDATE products SET seq=? WHERE lang=? AND key=?", (seq, language, key))

    def remove(self, language: str, keys: Iterable[Key]) -> None:
        """Products Jumpseller no longer has in this language."""
        self.db.executemany(
            "DELETE FROM products WHERE lang=? AND key=?", ((language, key) for key in keys)
        )

    def stored(self, language: str, key: Key) -> tuple[str, bytes, int] | None:
        """A product's updated_at, digest and place, if the snapshot holds it."""
        return self.db.execute(
            "SELECT updated, digest, seq FROM products WHERE lang=? AND key=?", (language, key)
        ).fetchone()

    def next_seq(self, language: str) -> int:
        """The place after the last product: where a product created since the paging goes."""
        row = self.db.execute("SELECT MAX(seq) FROM products WHERE lang=?", (language,)).fetchone()
        return (row[0] or 0) + 1

    def content(self, language: str, key: Key) -> bytes:
        """A stored product's content, as encode() made it."""
        row = self.db.execute(
            "SELECT content FROM products WHERE lang=? AND key=?", (language, key)
        ).fetchone()
        return unpack(row[0])

    def stored_contents(self, language: str) -> Iterator[tuple[Key, bytes, bytes]]:
        """Every product of a language in feed order: its content as stored (segments.pack
        compressed it), and its digest."""
        return self.db.execute(
            "SELECT key, content, digest FROM products WHERE lang=? ORDER BY seq", (language,)
        )

    def product(self, language: str, key: Key) -> dict:
        """A stored product as the API gave it."""
        return decode(self.content(language, key))

    def removed(self, key: Key) -> str | None:
        """The updated_at a product was deleted at, so an older delivery cannot bring it back."""
        row = self.db.execute("SELECT updated FROM removed WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def mark_removed(self, key: Key, updated: str) -> None:
        """Remember a deletion (a few bytes a product)."""
        self.db.execute("INSERT OR REPLACE INTO removed VALUES (?, ?)", (key, updated))

    # -- renders -----------------------------------------------------------------------------
    def order(
        self, language: str, feed_id: str, fingerprint: bytes, xml: bool = True
    ) -> Iterator[tuple[Key, bytes, int, bytes | None, bytes | None]]:
        """In feed order: each product's key and digest, whether the feed's render of it is
        current (made from this content under this `fingerprint`), and that render if any (its
        facts, and its XML unless `xml` is false)."""
        if xml:
            return self.db.execute(_ORDER_WITH_XML, (fingerprint, feed_id, feed_id, language))
        return self.db.execute(_ORDER, (fingerprint, feed_id, language))

    def stale(self, language: str, feed_id: str, fingerprint: bytes) -> list[Key]:
        """The products of a language the feed has no current render of."""
        rows = self.db.execute(
            "SELECT p.key FROM products p LEFT JOIN renders r ON r.feed=? AND r.key=p.key "
            "WHERE p.lang=? AND (r.source IS NOT p.digest OR r.fingerprint IS NOT ?)",
            (feed_id, language, fingerprint),
        )
        return [key for (key,) in rows]

    def render(self, feed_id: str, key: Key) -> tuple[bytes, bytes]:
        """A stored render: its facts and its XML."""
        return self.db.execute(
            "SELECT r.meta, i.xml FROM renders r JOIN items i ON i.feed=r.feed AND i.key=r.key "
            "WHERE r.feed=? AND r.key=?",
            (feed_id, key),
        ).fetchone()

    def render_xml(self, feed_id: str, key: Key) -> bytes:
        """A stored render's XML."""
        row = self.db.execute(
            "SELECT xml FROM items WHERE feed=? AND key=?", (feed_id, key)
        ).fetchone()
        return unpack(row[0])  # as Rendered.pack() made it

    def render_sources(self, feed_id: str, fingerprint: bytes) -> dict[Key, bytes]:
        """The digest of the content each of the feed's renders under `fingerprint` was made
        from."""
        rows = self.db.execute(
            "SELECT key, source FROM renders WHERE feed=? AND fingerprint=?", (feed_id, fingerprint)
        )
        return dict(rows.fetchall())

    def put_render(
        self, feed_id: str, key: Key, source: bytes, fingerprint: bytes, packed: tuple[bytes, bytes]
    ) -> None:
        """Store what a product made for a feed, with what it was made from: the product's
        content digest (`source`) and the feed's settings (`fingerprint`)."""
        self.put_renders([(feed_id, key, source, fingerprint, *packed)])

    def put_renders(self, made: Iterable[tuple[str, Key, bytes, bytes, bytes, bytes]]) -> None:
        """Store many renders: (feed id, product key, source, fingerprint, facts, packed XML);
        anything after those in a row is not stored."""
        made = list(made)
        self.db.executemany(
            "INSERT OR REPLACE INTO renders VALUES (?, ?, ?, ?, ?)", (row[:5] for row in made)
        )
        self.db.executemany(
            "INSERT OR REPLACE INTO items VALUES (?, ?, ?)", ((r[0], r[1], r[5]) for r in made)
        )

    def prune(self, feed_id: str, language: str) -> None:
        """Drop a feed's renders of products the language no longer has."""
        gone = "WHERE feed=? AND key NOT IN (SELECT key FROM products WHERE lang=?)"
        for table in ("renders", "items"):
            self.db.execute(f"DELETE FROM {table} {gone}", (feed_id, language))  # noqa: S608

    def drop_feeds(self, keep: Iterable[str]) -> None:
        """Forget the renders of feeds the store no longer has."""
        kept = list(keep)
        marks = ",".join("?" * len(kept))
        for table in ("renders", "items"):
            self.db.execute(f"DELETE FROM {table} WHERE feed NOT IN ({marks})", kept)  # noqa: S608
