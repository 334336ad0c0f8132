"""A feed written segment by segment: the next build copies from the live files what did not
change, and what it publishes is the same, byte for byte, as writing everything afresh."""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import zlib
from pathlib import Path

import pytest
from lxml import etree

from feedapp.feed.publishing import FeedCheckFailed, publish, published_feed, published_layout
from feedapp.feed.segments import LAYOUT_NAME, Piece, crc32_combine, ends_segment
from feedapp.feed.xmlfeed import Channel, FeedWriter, ItemRenderer

CODE = "tienda"
CHANNEL = Channel.for_store("Tienda", "https://tienda.example.com")
FINGERPRINT = "settings-1"
RENDERER = ItemRenderer()


class Item:
    """Stands in for mapping.Item."""

    def __init__(self, key: int, version: int, variants: int) -> None:
        self.id = str(key)
        self.fields = [
            ("id", f"{key}"),
            ("title", f"Producto {key} v{version} & <más>"),
            ("description", f"Texto {key} " * (key % 40)),
            ("price", f"{1000 + key} CLP"),
        ]
        self.variants = variants


Catalogue = dict[int, tuple[int, int]]  # key: (version, variants), in feed order


def catalogue(products: int, seed: int = 7) -> Catalogue:
    rng = random.Random(seed)
    return {1000 + n * 7: (1, rng.randint(0, 3)) for n in range(products)}


def pieces(products: Catalogue) -> list[Piece]:
    """Each product's items as a build hands them to the writer: its ident says what decided
    its bytes (here its key, version and variants), the key where segments end."""
    made = []
    for key, (version, variants) in products.items():
        xml = b"".join(RENDERER.render(Item(key, version, v)) for v in range(variants))
        ident = hashlib.blake2b(f"{key}/{version}/{variants}".encode(), digest_size=16).digest()
        made.append(Piece(ident, variants, len(xml), ends_segment(key), xml))
    return made


def write(feeds: Path, products: Catalogue, build_id: str, reuse: bool = True) -> FeedWriter:
    previous = published_layout(feeds, CODE) if reuse else None
    with FeedWriter(
        feeds, CODE, build_id, channel=CHANNEL, previous=previous, fingerprint=FINGERPRINT
    ) as writer:
        for piece in pieces(products):
            writer.add(piece)
    return writer


def write_and_publish(feeds: Path, products: Catalogue, build_id: str, reuse: bool = True):
    writer = write(feeds, products, build_id, reuse)
    publish(feeds, CODE, writer.path, writer.count, written=writer.written)
    return writer


def live(feeds: Path) -> tuple[bytes, bytes]:
    folder = feeds / CODE
    return (folder / "feed.xml").read_bytes(), (folder / "feed.xml.gz").read_bytes()


def edited(products: Catalogue) -> Catalogue:
    """An edit, a deletion, a product with no items any more, and one created at the end."""
    keys = list(products)
    changed = dict(products)
    changed[keys[10]] = (2, products[keys[10]][1])
    del changed[keys[500]]
    changed[keys[900]] = (2, 0)
    changed[99_999] = (1, 2)
    return changed


def test_crc32_combine_is_zlib_s_crc_of_the_joined_text() -> None:
    rng = random.Random(3)
    for _ in range(200):
        first = rng.randbytes(rng.randint(0, 3000))
        second = rng.randbytes(rng.choice([0, 1, rng.randint(0, 70_000)]))
        combined = crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second))
        assert combined == zlib.crc32(first + second)


def test_a_feed_of_many_segments_is_one_valid_gzip_member_of_the_same_text(
    tmp_path: Path,
) -> None:
    writer = write_and_publish(tmp_path, catalogue(1200), "b1")
    xml, gz = live(tmp_path)
    assert writer.made > 10 and writer.copied == 0
    assert gzip.decompress(gz) == xml
    stream = zlib.decompressobj(wbits=31)  # one member, no trailing data
    assert stream.decompress(gz) == xml and stream.eof and stream.unused_data == b""
    root = etree.fromstring(xml)
    assert len(root.findall("channel/item")) == writer.count


def test_an_edit_makes_only_its_segments_and_publishes_what_a_fresh_write_would(
    tmp_path: Path,
) -> None:
    products = catalogue(1200)
    first = write_and_publish(tmp_path, products, "b1")
    changed = edited(products)
    update = write_and_publish(tmp_path, changed, "b2")
    assert update.made <= 4, f"{update.made} segments made for 4 changed products"
    assert update.copied >= first.made - 4
    after_update = live(tmp_path)
    fresh = write_and_publish(tmp_path / "fresh", changed, "b3")
    assert fresh.copied == 0
    assert after_update == live(tmp_path / "fresh")  # the gzip copy too: same cuts, same bytes


def test_a_layout_is_used_only_with_the_publish_it_describes(tmp_path: Path) -> None:
    products = catalogue(300)
    write_and_publish(tmp_path, products, "b1")
    assert published_layout(tmp_path, CODE) is not None
    folder = tmp_path / CODE
    stale = (folder / LAYOUT_NAME).read_bytes()
    write_and_publish(tmp_path, products, "b2", reuse=False)
    (folder / LAYOUT_NAME).write_bytes(stale)  # as if a publish died before placing its own
    assert published_layout(tmp_path, CODE) is None
    (folder / LAYOUT_NAME).write_bytes(b"{not json")
    assert published_layout(tmp_path, CODE) is None


def test_a_live_file_damaged_on_disk_is_refused_then_replaced_whole(tmp_path: Path) -> None:
    """A copied segment is checked against the CRC-32 it was published with: a live file
    damaged in place (same size and time, so the sidecar still vouches for it) never spreads
    into the next publish, and the one after writes everything afresh."""
    products = catalogue(1200)
    write_and_publish(tmp_path, products, "b1")
    feed = tmp_path / CODE / "feed.xml"
    stat = feed.stat()
    data = bytearray(feed.read_bytes())
    at = data.index(b"Producto", len(data) // 2)
    data[at] = ord("p")
    feed.write_bytes(bytes(data))
    os.utime(feed, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert published_feed(tmp_path, CODE).build_id == "b1"
    damaged = live(tmp_path)

    changed = edited(products)
    writer = write(tmp_path, changed, "b2")
    assert writer.copied > 0
    with pytest.raises(FeedCheckFailed, match="not what the build wrote"):
        publish(tmp_path, CODE, writer.path, writer.count, written=writer.written)
    assert live(tmp_path) == damaged
    assert published_layout(tmp_path, CODE) is None
    assert not list((tmp_path / CODE).glob("*.tmp"))

    again = write_and_publish(tmp_path, changed, "b3")
    assert again.copied == 0
    write_and_publish(tmp_path / "fresh", changed, "b4")
    assert live(tmp_path) == live(tmp_path / "fresh")


def test_a_segment_that_is_not_a_run_of_items_is_refused(tmp_path: Path) -> None:
    write_and_publish(tmp_path, catalogue(50), "b1")
    before = live(tmp_path)
    with FeedWriter(tmp_path, CODE, "b2", channel=CHANNEL) as writer:
        writer.write_xml(RENDERER.render(Item(1, 1, 0)))
        writer.write_xml(b"<item><g:id>2</item>\n")
    with pytest.raises(FeedCheckFailed, match="^tienda: The new feed file is not valid XML"):
        publish(tmp_path, CODE, writer.path, writer.count, force=True, written=writer.written)
    assert live(tmp_path) == before


def test_segments_are_cut_where_their_products_say_whatever_came_before() -> None:
    keys = list(catalogue(5000))
    ends = [key for key in keys if ends_segment(key)]
    assert 5000 / 64 / 2 < len(ends) < 5000 / 64 * 2
    assert ends == [key for key in reversed(keys) if ends_segment(key)][::-1]
    assert not ends_segment(None)
