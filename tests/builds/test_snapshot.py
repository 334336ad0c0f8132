"""A store's snapshot is a cache: a damaged or foreign file costs one full build, never the feed
(real Redis, the sandbox over HTTP)."""

from __future__ import annotations

import pytest

from feedapp.builds import builder
from feedapp.builds.snapshot import FILE_NAME, Snapshot
from feedapp.feed.publishing import published_feed


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
