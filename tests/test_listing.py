"""The app listing shipped for Jumpseller's Apps > Developers form meets its limits."""

from __future__ import annotations

import struct

from processes import ROOT

LISTING = ROOT / "deploy" / "listing"


def test_descriptions_fit_145_characters() -> None:
    for lang in ("en", "es"):
        text = (LISTING / f"description.{lang}.txt").read_text(encoding="utf-8").strip()
        assert 40 < len(text) <= 145, (lang, len(text))


def test_cover_image_is_600_by_150_png() -> None:
    head = (LISTING / "cover.png").read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (600, 150)
