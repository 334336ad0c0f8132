"""Feed writer and publish: well-formed output, and a live feed never partial or lost."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree

from feedapp.feed.publishing import (
    FeedCheckFailed,
    FeedCollapseRefused,
    publish,
    published_feed,
    remove_store_feeds,
)
from feedapp.feed.xmlfeed import (
    GOOGLE_NS,
    Channel,
    FeedWriter,
    ItemRenderer,
    store_dir,
    xml_safe,
)

G = f"{{{GOOGLE_NS}}}"
#: Enough items to fill the file's write buffer several times over.
MANY_ITEMS = 500
CHANNEL = Channel.for_store("Tienda Ñandú", "https://tienda.example.com")


@dataclass
class Item:
    """Stands in for mapping.Item: an id and ordered (attribute, value) pairs."""

    id: str
    fields: list[tuple[str, str]] = field(default_factory=list)


def make_item(n: int, **extra: str) -> Item:
    fields = [
        ("id", f"P{n}"),
        ("title", f"Camisa {n}"),
        ("link", f"https://tienda.example.com/camisa-{n}"),
        ("image_link", f"https://images.example.com/{n}.jpg"),
        ("price", f"{1000 + n} CLP"),
    ]
    return Item(f"P{n}", fields + list(extra.items()))


def build(feeds: Path, count: int, build_id: str, code: str = "tienda") -> FeedWriter:
    with FeedWriter(feeds, code, build_id, channel=CHANNEL) as writer:
        for n in range(count):
            writer.write(make_item(n))
    return writer


def build_and_publish(feeds: Path, count: int, build_id: str, **kwargs: bool):
    writer = build(feeds, count, build_id)
    return publish(feeds, "tienda", writer.path, writer.count, **kwargs)


def item_ids(path: Path) -> list[str]:
    return [el.findtext(f"{G}id") for el in etree.parse(str(path)).iter("item")]


def test_feed_is_rss_with_one_namespace_declaration_and_items_in_order(tmp_path: Path) -> None:
    writer = build(tmp_path, 3, "b1")
    raw = writer.path.read_bytes()
    assert writer.path == tmp_path / "tienda" / "b1.xml.tmp"
    assert writer.count == 3
    assert raw.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert raw.count(b"xmlns:g=") == 1
    assert raw.count(b"xmlns") == 1
    root = etree.fromstring(raw)
    assert (root.tag, root.get("version"), root.nsmap) == ("rss", "2.0", {"g": GOOGLE_NS})
    channels = root.findall("channel")
    assert len(channels) == 1
    channel = channels[0]
    assert channel.findtext("title") == "Tienda Ñandú"
    assert channel.findtext("link") == "https://tienda.example.com"
    assert channel.findtext("description") == "Google Shopping feed for Tienda Ñandú"
    items = channel.findall("item")
    assert [i.findtext(f"{G}id") for i in items] == ["P0", "P1", "P2"]
    assert [(c.tag.removeprefix(G), c.text) for c in items[1]] == make_item(1).fields


def test_forbidden_characters_are_stripped_and_escaping_is_lxml_s(tmp_path: Path) -> None:
    dirty = "a\x00b\x01c\x0bd\x1fe\ufffef\uffffg\ud800h\udfff"
    kept = "tab\there\nline\rcr 😀 é & <b>"
    channel = Channel("Shop\x02", "https://s.example.com", "desc\x1b")
    with FeedWriter(tmp_path, "tienda", "b1", channel=channel) as writer:
        writer.write(Item("1", [("id", "1"), ("title", dirty), ("description", kept)]))
    root = etree.parse(str(writer.path)).getroot()
    item = root.find("channel/item")
    assert item.findtext(f"{G}title") == "abcdefgh"
    assert item.findtext(f"{G}description") == kept
    assert root.findtext("channel/title") == "Shop"
    assert b"&amp; &lt;b&gt;" in writer.path.read_bytes()


def test_empty_values_are_omitted(tmp_path: Path) -> None:
    with FeedWriter(tmp_path, "tienda", "b1", channel=CHANNEL) as writer:
        writer.write(Item("1", [("id", "1"), ("brand", ""), ("gtin", "\x01"), ("mpn", "  ")]))
    item = etree.parse(str(writer.path)).find("channel/item")
    assert [c.tag for c in item] == [f"{G}id"]


def test_temp_file_is_deleted_when_the_build_fails(tmp_path: Path) -> None:
    path = None
    with pytest.raises(RuntimeError, match="API went away"):
        with FeedWriter(tmp_path, "tienda", "b1", channel=CHANNEL) as writer:
            path = writer.path
            for n in range(MANY_ITEMS * 2):
                writer.write(make_item(n))
            assert path.stat().st_size > 0
            raise RuntimeError("API went away")
    assert path is not None and not path.exists()


def test_bad_attribute_name_fails_the_item_and_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a Google attribute name"):
        with FeedWriter(tmp_path, "tienda", "b1", channel=CHANNEL) as writer:
            writer.write(make_item(1))
            writer.write(Item("2", [("id", "2"), ("bad name>", "x")]))
    assert list((tmp_path / "tienda").iterdir()) == []


def test_write_outside_the_with_block_is_refused(tmp_path: Path) -> None:
    writer = FeedWriter(tmp_path, "tienda", "b1", channel=CHANNEL)
    with pytest.raises(RuntimeError):
        writer.write(make_item(1))


def test_publish_moves_the_feed_into_place_and_records_it(tmp_path: Path) -> None:
    writer = build(tmp_path, 4, "b1")
    data = writer.path.read_bytes()
    result = publish(tmp_path, "tienda", writer.path, writer.count)
    folder = tmp_path / "tienda"
    assert not writer.path.exists()
    assert (folder / "feed.xml").read_bytes() == data
    assert gzip.decompress((folder / "feed.xml.gz").read_bytes()) == data
    assert result.items == 4 and result.previous_items is None and result.build_id == "b1"
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.size == len(data)
    assert result.gz_size == (folder / "feed.xml.gz").stat().st_size
    assert result.forced is False
    sidecar = json.loads((folder / "feed.json").read_text())
    assert sidecar["items"] == 4 and sidecar["sha256"] == result.sha256
    assert sorted(p.name for p in folder.iterdir()) == ["feed.json", "feed.xml", "feed.xml.gz"]

    live = published_feed(tmp_path, "tienda")
    assert live is not None
    assert live.xml_path == folder / "feed.xml" and live.gz_path == folder / "feed.xml.gz"
    assert (live.items, live.build_id, live.etag) == (4, "b1", result.etag)
    assert (live.size, live.gz_size) == (result.size, result.gz_size)
    assert live.published_at == result.published_at
    assert live.mtime == (folder / "feed.xml").stat().st_mtime


def test_published_feed_is_none_before_the_first_publish(tmp_path: Path) -> None:
    assert published_feed(tmp_path, "tienda") is None
    build(tmp_path, 2, "b1")
    assert published_feed(tmp_path, "tienda") is None


def test_stale_sidecar_is_not_trusted(tmp_path: Path) -> None:
    build_and_publish(tmp_path, 3, "b1")
    feed = tmp_path / "tienda" / "feed.xml"
    replacement = tmp_path / "tienda" / "other"
    replacement.write_bytes(feed.read_bytes() + b"\n")
    os.replace(replacement, feed)  # as if a publish died between the swap and the sidecar
    live = published_feed(tmp_path, "tienda")
    assert live is not None and live.items is None and live.etag.startswith('W/"')
    assert live.size == feed.stat().st_size


def test_live_feed_stays_the_old_one_while_the_next_build_writes(tmp_path: Path) -> None:
    build_and_publish(tmp_path, 3, "b1")
    live = tmp_path / "tienda" / "feed.xml"
    before = live.read_bytes()
    with FeedWriter(tmp_path, "tienda", "b2", channel=CHANNEL) as writer:
        for n in range(MANY_ITEMS * 3):
            writer.write(make_item(n))
        assert writer.path.exists()
        assert live.read_bytes() == before
        assert item_ids(live) == ["P0", "P1", "P2"]
    assert live.read_bytes() == before
    publish(tmp_path, "tienda", writer.path, writer.count)
    assert len(item_ids(live)) == MANY_ITEMS * 3


def test_publish_swaps_whole_files_so_open_readers_finish_the_old_feed(tmp_path: Path) -> None:
    build_and_publish(tmp_path, 300, "b1")
    folder = tmp_path / "tienda"
    old_xml = (folder / "feed.xml").read_bytes()
    old_gz = (folder / "feed.xml.gz").read_bytes()
    with open(folder / "feed.xml", "rb") as xml, open(folder / "feed.xml.gz", "rb") as gz:
        head = xml.read(100)
        build_and_publish(tmp_path, 200, "b2")
        assert head + xml.read() == old_xml
        assert gz.read() == old_gz
    assert len(item_ids(folder / "feed.xml")) == 200
    assert len(etree.fromstring(gzip.decompress((folder / "feed.xml.gz").read_bytes()))[0]) == 203


def test_collapse_of_more_than_half_is_refused_and_the_live_feed_kept(tmp_path: Path) -> None:
    build_and_publish(tmp_path, 10, "b1")
    live = tmp_path / "tienda" / "feed.xml"
    before = live.read_bytes()
    before_gz = (tmp_path / "tienda" / "feed.xml.gz").read_bytes()
    writer = build(tmp_path, 4, "b2")
    with pytest.raises(FeedCollapseRefused) as refused:
        publish(tmp_path, "tienda", writer.path, writer.count)
    assert (refused.value.old, refused.value.new, refused.value.store_code) == (10, 4, "tienda")
    assert "4 items" in refused.value.message and "10 items" in refused.value.message
    assert not writer.path.exists()
    assert live.read_bytes() == before
    assert (tmp_path / "tienda" / "feed.xml.gz").read_bytes() == before_gz
    assert published_feed(tmp_path, "tienda").items == 10


def test_collapse_can_be_forced(tmp_path: Path) -> None:
    build_and_publish(tmp_path, 10, "b1")
    result = build_and_publish(tmp_path, 4, "b2", force=True)
    assert (result.items, result.previous_items, result.forced) == (4, 10, True)
    assert published_feed(tmp_path, "tienda").items == 4


def test_exactly_half_is_not_a_collapse(tmp_path: Path) -> None:
    build_and_publish(tmp_path, 10, "b1")
    result = build_and_publish(tmp_path, 5, "b2")
    assert (result.items, result.forced) == (5, False)


def test_empty_feed_after_a_full_one_is_a_collapse(tmp_path: Path) -> None:
    build_and_publish(tmp_path, 1, "b1")
    with pytest.raises(FeedCollapseRefused):
        build_and_publish(tmp_path, 0, "b2")
    assert len(item_ids(tmp_path / "tienda" / "feed.xml")) == 1


def test_first_build_is_published_even_when_empty(tmp_path: Path) -> None:
    result = build_and_publish(tmp_path, 0, "b1")
    assert result.items == 0
    assert item_ids(tmp_path / "tienda" / "feed.xml") == []
    assert build_and_publish(tmp_path, 3, "b2").previous_items == 0


def test_truncated_temp_file_is_refused_and_the_live_feed_kept(tmp_path: Path) -> None:
    build_and_publish(tmp_path, 3, "b1")
    before = (tmp_path / "tienda" / "feed.xml").read_bytes()
    writer = build(tmp_path, 50, "b2")
    data = writer.path.read_bytes()
    writer.path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FeedCheckFailed, match="not valid XML"):
        publish(tmp_path, "tienda", writer.path, writer.count)
    assert (tmp_path / "tienda" / "feed.xml").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "tienda").iterdir()) == [
        "feed.json",
        "feed.xml",
        "feed.xml.gz",
    ]


def test_item_count_mismatch_is_refused(tmp_path: Path) -> None:
    writer = build(tmp_path, 5, "b1")
    with pytest.raises(FeedCheckFailed, match="holds 5 items but the build wrote 6"):
        publish(tmp_path, "tienda", writer.path, 6)
    assert published_feed(tmp_path, "tienda") is None


@pytest.mark.parametrize(
    "content",
    [b"", b"<html><body>oops</body></html>", b"<rss><item/></rss>"],
    ids=["empty", "not-rss", "item-outside-channel"],
)
def test_files_that_are_not_feeds_are_refused(tmp_path: Path, content: bytes) -> None:
    folder = tmp_path / "tienda"
    folder.mkdir()
    (folder / "b1.xml.tmp").write_bytes(content)
    with pytest.raises(FeedCheckFailed):
        publish(tmp_path, "tienda", folder / "b1.xml.tmp", 0 if b"item" not in content else 1)
    assert list(folder.iterdir()) == []


def test_old_leftover_temp_files_are_cleaned_up(tmp_path: Path) -> None:
    folder = tmp_path / "tienda"
    folder.mkdir()
    old = [folder / "killed.xml.tmp", folder / "killed.xml.gz.tmp", folder / "feed.json.x.tmp"]
    fresh = folder / "running.xml.tmp"
    hours_ago = time.time() - 7200
    for path in [*old, fresh]:
        path.write_bytes(b"partial")
    for path in old:
        os.utime(path, (hours_ago, hours_ago))
    writer = build(tmp_path, 2, "b1")
    os.utime(writer.path, (hours_ago, hours_ago))  # the one being published is never removed early
    publish(tmp_path, "tienda", writer.path, writer.count)
    assert sorted(p.name for p in folder.iterdir()) == [
        "feed.json",
        "feed.xml",
        "feed.xml.gz",
        "running.xml.tmp",
    ]


def test_cleanup_also_runs_when_a_publish_is_refused(tmp_path: Path) -> None:
    build_and_publish(tmp_path, 10, "b1")
    leftover = tmp_path / "tienda" / "killed.xml.tmp"
    leftover.write_bytes(b"partial")
    os.utime(leftover, (time.time() - 7200,) * 2)
    with pytest.raises(FeedCollapseRefused):
        build_and_publish(tmp_path, 1, "b2")
    assert not leftover.exists()


@pytest.mark.parametrize(
    "code", ["", ".", "..", "../etc", "a/b", "Shop", "a b", "tienda\n", "ñandú", "a" * 101, None]
)
def test_unsafe_store_codes_are_refused(tmp_path: Path, code: str) -> None:
    with pytest.raises(ValueError, match="Unsafe store code"):
        store_dir(tmp_path, code)
    with pytest.raises(ValueError):
        FeedWriter(tmp_path, code, "b1", channel=CHANNEL)
    with pytest.raises(ValueError):
        publish(tmp_path, code, tmp_path / "b1.xml.tmp", 0)
    with pytest.raises(ValueError):
        published_feed(tmp_path, code)
    with pytest.raises(ValueError):
        remove_store_feeds(tmp_path, code)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("build_id", ["", "../x", "a/b", "b1.xml", "x\n"])
def test_unsafe_build_ids_are_refused(tmp_path: Path, build_id: str) -> None:
    with pytest.raises(ValueError, match="Unsafe build id"):
        FeedWriter(tmp_path, "tienda", build_id, channel=CHANNEL)


def test_publish_refuses_a_path_outside_the_store_folder(tmp_path: Path) -> None:
    writer = build(tmp_path, 2, "b1", code="other")
    with pytest.raises(ValueError, match="not a feed temp file"):
        publish(tmp_path, "tienda", writer.path, writer.count)
    assert writer.path.exists()
    stray = tmp_path / "tienda" / "notes.txt"
    stray.parent.mkdir()
    stray.write_text("keep me")
    with pytest.raises(ValueError):
        publish(tmp_path, "tienda", stray, 0)
    assert stray.read_text() == "keep me"


def test_remove_store_feeds(tmp_path: Path) -> None:
    build_and_publish(tmp_path, 2, "b1")
    build(tmp_path, 2, "b1", code="other")
    assert remove_store_feeds(tmp_path, "tienda") is True
    assert not (tmp_path / "tienda").exists()
    assert (tmp_path / "other").is_dir()
    assert remove_store_feeds(tmp_path, "tienda") is False
    assert published_feed(tmp_path, "tienda") is None


# -- the item renderer against lxml ------------------------------------------------------------
_ALPHABET = "ab &<>\"'\r\n\t]]>é€\u2028\x00\x0b\ud800\U0001f600;#"


def test_items_come_out_as_lxml_writes_them_whatever_the_text() -> None:
    """Random text over XML's special characters: the renderer's bytes are lxml's, byte for
    byte, plain fields and groups alike."""
    rng = random.Random(13)
    renderer = ItemRenderer()
    for n in range(2000):
        fields: list[tuple[str, object]] = []
        for name in ("id", "title", "description", "brand", "link"):
            text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(0, 12)))
            fields.append((name, text if n % 7 else None))
        fields.append(("price", 1990 if n % 3 else "  "))
        group = tuple(
            (sub, rng.choice(["CL", " ", "a&b", "<x>", None])) for sub in ("country", "price")
        )
        fields.append(("shipping", group))
        item = Item(f"P{n}", fields)
        assert renderer.render(item) == lxml_item(item), fields


def lxml_item(item: Item) -> bytes:
    """The item as lxml's incremental writer puts it inside an RSS channel (the reference)."""
    buffer = io.BytesIO()
    with etree.xmlfile(buffer, encoding="UTF-8") as xf:
        with xf.element("rss", nsmap={"g": GOOGLE_NS}), xf.element("channel"):
            xf.flush()
            start = len(buffer.getvalue())
            with xf.element("item"):
                for name, value in item.fields:
                    if isinstance(value, tuple):
                        pairs = [(s, xml_safe(v)) for s, v in value if v is not None]
                        pairs = [(s, v) for s, v in pairs if v.strip()]
                        if pairs:
                            with xf.element(G + name):
                                for sub, text in pairs:
                                    with xf.element(G + sub):
                                        xf.write(text)
                        continue
                    text = xml_safe(str(value)) if value is not None else ""
                    if text.strip():
                        with xf.element(G + name):
                            xf.write(text)
            xf.write("\n")
            xf.flush()
            return buffer.getvalue()[start:]


def test_a_feed_changed_on_disk_after_writing_is_refused_with_its_copy(tmp_path: Path) -> None:
    """The writer gzips what it writes as it goes; publish reads the file back and compares it
    with what was written, so a file damaged in between (same length, still valid XML) never
    goes live, nor its copy."""
    build_and_publish(tmp_path, 3, "b1")
    live = tmp_path / "tienda" / "feed.xml"
    before = (live.read_bytes(), live.with_name("feed.xml.gz").read_bytes())
    with FeedWriter(tmp_path, "tienda", "b2", channel=CHANNEL) as writer:
        for n in range(5):
            writer.write(make_item(n))
    assert writer.written is not None and writer.written.gz_path.exists()
    assert gzip.decompress(writer.written.gz_path.read_bytes()) == writer.path.read_bytes()
    damaged = writer.path.read_bytes().replace(b"P4", b"P5")
    writer.path.write_bytes(damaged)
    with pytest.raises(FeedCheckFailed, match="not what the build wrote"):
        publish(tmp_path, "tienda", writer.path, writer.count, written=writer.written)
    assert (live.read_bytes(), live.with_name("feed.xml.gz").read_bytes()) == before
    assert not list((tmp_path / "tienda").glob("*.tmp"))
