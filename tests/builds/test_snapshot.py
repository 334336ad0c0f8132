"""A store's snapshot is a cache: a damaged or foreign file costs one full build, never the feed
(real Redis, the sandbox over HTTP)."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from feedapp.builds import builder
from feedapp.builds.snapshot import FILE_NAME, Snapshot, decode, encode
from feedapp.feed.publishing import published_feed
from feedapp.feed.segments import pack


@pytest.mark.parametrize("damage", [b"not a database at all " * 100, b""])
def test_a_damaged_snapshot_is_started_afresh_and_the_build_publishes(
    svc, installed, damage: bytes
) -> None:
    code = installed.code
    builder.build_feed(svc, code)
    expected = published_feed(svc.feeds_dir, code).xml_path.read_bytes()
    (svc.feeds_dir / code / FILE_NAME).write_bytes(damage)

    result = builder.build_feed(svc, code)

    assert result.items > 0
    assert published_feed(svc.feeds_dir, code).xml_path.read_bytes() == expected
    with Snapshot.open(svc.feeds_dir, code) as snap:
        assert len(snap.known("")) == result.products and snap.complete("")


def test_a_product_comes_back_as_it_went_in_and_its_digest_ignores_key_order() -> None:
    product = {"id": 7, "name": "Polera ñandú", "price": 1990.5, "variants": [{"id": 1}]}
    product["tags"] = [None, True, {"b": 2, "a": [1.5, "x"]}]
    reordered = dict(reversed(product.items()))

    assert decode(encode(product).content) == product
    assert encode(reordered).digest == encode(product).digest
    assert encode({**product, "name": "Polera"}).digest != encode(product).digest


def test_a_catalogue_takes_about_the_bytes_it_packs(tmp_path: Path) -> None:
    """Products of a kilobyte or two (as stored) are not given a page each: the file stays
    near what it holds (a table of rows this large WITHOUT ROWID takes 2.5 times as much)."""
    rng = random.Random(5)
    held = 0
    with Snapshot.open(tmp_path, "shop") as snap, snap.transaction():
        for n in range(2000):
            text = "".join(rng.choices(string.ascii_letters, k=rng.randrange(500, 2500)))
            encoded = encode({"id": n + 1, "name": f"Product {n}", "description": text})
            snap.put("", encoded, n + 1)
            held += len(pack(encoded.content))

    assert (tmp_path / "shop" / FILE_NAME).stat().st_size < 1.6 * held
