"""A feed file as a run of segments, so the next build copies what did not change and makes only
what did: an edit to one product of 100,000 rewrites a few hundred kilobytes, not 300 MB.

A segment is a run of consecutive products in feed order. Where one ends depends only on the
products themselves (a product whose key hashes to a multiple of SPAN ends one, and none grows
past MAX_BYTES), so a full build and an update cut the feed in the same places and write the
same bytes. Each segment is compressed on its own as raw deflate ending on a byte boundary
(as pigz does), so the gzip copy is one ordinary gzip member whose pieces can be copied as well.

Beside a published feed, its layout (``feed.segments``) says where each segment lies in both
files, what decided its bytes (its ``ident``: the digests of its products' renders and what the
feed-wide ledgers cut from them) and the CRC-32 of its bytes, which publish checks on every
file it puts live. A layout is trusted only for the publish it was written with.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import lz4.block
from lxml import etree

LAYOUT_NAME = "feed.segments"
LAYOUT_TMP_SUFFIX = ".segments.tmp"
#: A product whose key hashes to a multiple of this ends a segment: about 64 products in each.
SPAN = 64
#: No segment grows past this many bytes (before the ledgers' cuts): a store of few, large
#: products still has small segments to reuse.
MAX_BYTES = 1 << 20
#: zlib's level for the gzip copy; reused segments must have been made at the same one. Level 1
#: is three times as fast as 6 on a feed, for a copy a third larger (100k products: 0.7 s and
#: 21 MB against 1.8 s and 15 MB), which Google fetches in seconds either way.
LEVEL = 1
#: What decides a segment's compressed bytes besides its text.
COMPRESSION = f"deflate-{LEVEL}-zlib-{zlib.ZLIB_VERSION}"
_LAYOUT_VERSION = 1
#: The gzip member's header: deflate, a file name, no time (so equal feeds compress equally).
GZIP_HEAD = b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\xff" + b"feed.xml\x00"
#: The last deflate block: empty, final.
_DEFLATE_END = b"\x03\x00"
_CRC_POLY = 0xEDB88320


def ends_segment(key: object) -> bool:
    """Whether a segment ends after the product with this key (a property of the key alone)."""
    return key is not None and zlib.crc32(str(key).encode()) % SPAN == 0


@dataclass(slots=True)
class Piece:
    """One product's items for a feed, as the writer takes them: `xml` made now, or left for
    later, made only if its segment cannot be copied from the published file: by `make` (in the
    writer's own thread: it may read the snapshot), or by unpacking `packed` (pack() made it)
    and passing it through `cut`, on a compressing thread, a whole segment at a time."""

    ident: bytes | None
    items: int
    size: int
    ends: bool
    xml: bytes | None = None
    make: Callable[[], bytes] | None = None
    packed: bytes | None = None
    cut: Callable[[bytes], bytes] | None = None

    def fetch(self) -> None:
        """Make, in the writer's thread, what only that thread may make."""
        if self.make is not None:
            self.xml, self.make = self.make(), None


@dataclass(slots=True)
class Segment:
    """Where one segment lies in a feed file and its gzip copy, and how to check it there."""

    ident: bytes | None
    items: int
    xml_at: int
    xml_len: int
    xml_crc: int
    gz_at: int
    gz_len: int
    gz_crc: int

    def row(self) -> list[object]:
        """The segment as its layout file keeps it."""
        ident = self.ident.hex() if self.ident else None
        numbers = (self.items, self.xml_at, self.xml_len, self.xml_crc)
        return [ident, *numbers, self.gz_at, self.gz_len, self.gz_crc]

    @classmethod
    def from_row(cls, row: list) -> Segment:
        """A segment read from a layout file."""
        ident, *numbers = row
        return cls(bytes.fromhex(ident) if ident else None, *map(int, numbers))


@dataclass
class Layout:
    """A feed file's segments in order, between its head and its tail."""

    build_id: str
    fingerprint: str
    head_len: int
    head_crc: int
    tail_len: int
    tail_crc: int
    gz_size: int = 0
    segments: list[Segment] = field(default_factory=list)
    compression: str = COMPRESSION

    @property
    def items(self) -> int:
        """Items in the file."""
        return sum(segment.items for segment in self.segments)

    @property
    def xml_size(self) -> int:
        """The feed file's size."""
        return self.head_len + sum(s.xml_len for s in self.segments) + self.tail_len

    def by_ident(self) -> dict[bytes, Segment]:
        """Its reusable segments by what decided their bytes."""
        return {s.ident: s for s in self.segments if s.ident is not None}

    def save(self, path: Path) -> None:
        """Write the layout file (publish puts it in place with the feed)."""
        data = {
            "version": _LAYOUT_VERSION,
            "build_id": self.build_id,
            "fingerprint": self.fingerprint,
            "compression": self.compression,
            "head": [self.head_len, self.head_crc],
            "tail": [self.tail_len, self.tail_crc],
            "gz_size": self.gz_size,
            "segments": [segment.row() for segment in self.segments],
        }
        path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, build_id: str | None) -> Layout | None:
        """The layout beside a published feed, if it was written with the publish `build_id`
        and by this code; anything else (missing, stale, damaged) is None: nothing is reused."""
        if build_id is None:
            return None
        try:
            data = json.loads(path.read_bytes())
            if (
                data["version"] != _LAYOUT_VERSION
                or data["build_id"] != build_id
                or data["compression"] != COMPRESSION
            ):
                return None
            return cls(
                build_id,
                str(data["fingerprint"]),
                *map(int, data["head"]),
                *map(int, data["tail"]),
                int(data["gz_size"]),
                [Segment.from_row(row) for row in data["segments"]],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


def segment_ident(pieces: Iterable[Piece]) -> bytes | None:
    """What decides a segment's bytes, or None when one of its pieces cannot say."""
    digest = hashlib.blake2b(digest_size=16)
    for piece in pieces:
        if piece.ident is None:
            return None
        digest.update(piece.ident)
    return digest.digest()


@dataclass(slots=True)
class Made:
    """A segment made afresh: its text, compressed bytes, checksums and the items it parsed to,
    or why it is not a run of feed items."""

    xml: bytes
    gz: bytes
    xml_crc: int
    gz_crc: int
    items: int
    error: str | None


def make(pieces: list[Piece], wrap: tuple[bytes, bytes]) -> Made:
    """Join, compress and check one segment (in a worker thread: zlib and lxml let go of the
    GIL, in a few calls per segment, so the writer's thread is seldom kept waiting for it)."""
    xml = join(pieces)
    gz = deflate(xml)
    items, error = count_items(xml, wrap)
    return Made(xml, gz, zlib.crc32(xml), zlib.crc32(gz), items, error)


def join(pieces: list[Piece]) -> bytes:
    """A segment's text from its pieces (after fetch()): each packed one unpacked and passed
    through its cut."""
    parts = []
    for piece in pieces:
        if piece.xml is not None:
            parts.append(piece.xml)
            continue
        part = unpack(piece.packed)
        parts.append(piece.cut(part) if piece.cut is not None else part)
    return b"".join(parts)


def pack(data: bytes) -> bytes:
    """Bytes kept for later (a piece's text, a product in the snapshot), compressed by LZ4: a
    tenth of zlib's time to pack and to unpack, for a third more bytes. Every product and every
    render is packed and unpacked again on a change of a feed's options."""
    return lz4.block.compress(data, store_size=True)


def unpack(packed: bytes) -> bytes:
    """What pack() compressed."""
    return lz4.block.decompress(packed)


def deflate(xml: bytes) -> bytes:
    """Text compressed on its own, ending on a byte boundary, to be joined with other such."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(xml) + compressor.flush(zlib.Z_SYNC_FLUSH)


def count_items(xml: bytes, wrap: tuple[bytes, bytes]) -> tuple[int, str | None]:
    """How many ``<item>`` elements a segment holds inside the document's `wrap` (its root
    and channel, opened and closed), or why it is not a run of them."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        channel = etree.fromstring(wrap[0] + xml + wrap[1], parser)[0]
    except etree.XMLSyntaxError as exc:
        return 0, f"is not valid XML ({exc})"
    if any(child.tag != "item" for child in channel):
        return 0, "has an element other than an item among its items"
    return len(channel), None


def gzip_end(crc: int, size: int) -> bytes:
    """What ends the gzip copy after the document's tail: the last deflate block, the text's
    CRC-32 and size."""
    return _DEFLATE_END + struct.pack("<II", crc, size & 0xFFFFFFFF)


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of two texts joined, from theirs (zlib's crc32_combine, which Python's zlib
    does not offer): copied segments are never read to know the whole file's CRC."""
    return _multiply(_x_to_the_8n(len2), crc1) ^ crc2


def _multiply(a: int, b: int) -> int:
    """a times b modulo the CRC-32 polynomial (bit-reflected)."""
    mask, product = 1 << 31, 0
    while True:
        if a & mask:
            product ^= b
            if not a & (mask - 1):
                return product
        mask >>= 1
        b = (b >> 1) ^ _CRC_POLY if b & 1 else b >> 1


def _powers() -> list[int]:
    powers, power = [], 1 << 30  # x^1
    for _ in range(32):
        powers.append(power)
        power = _multiply(power, power)
    return powers


_X_2N: list[int] = []


def _x_to_the_8n(n: int) -> int:
    """x^(8n) modulo the polynomial: what appending n bytes does to a CRC."""
    if not _X_2N:
        _X_2N.extend(_powers())
    power, k = 1 << 31, 3
    while n:
        if n & 1:
            power = _multiply(_X_2N[k & 31], power)
        n >>= 1
        k += 1
    return power
