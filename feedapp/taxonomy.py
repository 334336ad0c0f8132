"""Google's product taxonomy, so categories are sent as official ids and merchants can pick them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TAXONOMY_FILE = Path(__file__).resolve().parent / "data" / "taxonomy-with-ids.en-US.txt"
APPAREL = 166
SIZED = (1604, 187)  # Clothing, Shoes: Google also wants a size below these.

_LINE = re.compile(r"^\s*(\d{1,9})\s*-\s*(.+?)\s*$")
_LEVEL_SPLIT = re.compile(r"\s*>\s*")


@dataclass(frozen=True)
class _Taxonomy:
    paths: dict[int, str]
    ids: dict[str, int]
    folded: tuple[tuple[int, str, str], ...]


def _fold_path(path: str) -> str:
    return " > ".join(_LEVEL_SPLIT.split(path.strip())).casefold()


@lru_cache(maxsize=1)
def _taxonomy() -> _Taxonomy:
    paths: dict[int, str] = {}
    for line in TAXONOMY_FILE.read_text(encoding="utf-8").splitlines():
        match = _LINE.match(line)
        if match:
            paths[int(match.group(1))] = match.group(2)
    ids = {_fold_path(path): cid for cid, path in paths.items()}
    folded = tuple((cid, path, path.casefold()) for cid, path in paths.items())
    return _Taxonomy(paths=paths, ids=ids, folded=folded)


def lookup(value: object) -> tuple[int, str] | None:
    """The official (id, path) for an id, a full path or an "id - path" line; None if unknown."""
    if isinstance(value, bool) or value is None:
        return None
    tax = _taxonomy()
    if isinstance(value, int):
        path = tax.paths.get(value)
        return (value, path) if path else None
    text = str(value).strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 9:
        return lookup(int(text))
    match = _LINE.match(text)
    if match:
        found = lookup(int(match.group(1)))
        if found:
            return found
    cid = tax.ids.get(_fold_path(text))
    return (cid, tax.paths[cid]) if cid is not None else None


def search(query: str, limit: int = 20) -> list[tuple[int, str]]:
    """Categories whose path holds every word of ``query``, best first, for the settings picker."""
    words = query.casefold().split()
    if not words or limit <= 0:
        return []
    exact = lookup(query) if query.strip().isdigit() else None
    hits = []
    for cid, path, folded in _taxonomy().folded:
        if all(w in folded for w in words):
            leaf = folded.rpartition(" > ")[2]
            rank = sum(w not in leaf for w in words)
            hits.append((rank, len(path), cid, path))
    hits.sort()
    found = [(cid, path) for _, _, cid, path in hits if not exact or cid != exact[0]]
    return ([exact] if exact else []) + found[: limit - (1 if exact else 0)]


def _within(category_id: object, ancestors: tuple[int, ...]) -> bool:
    found = lookup(category_id)
    if found is None:
        return False
    paths = _taxonomy().paths
    return any(found[1] == paths[a] or found[1].startswith(paths[a] + " > ") for a in ancestors)


def is_apparel(category_id: object) -> bool:
    """Whether Google wants color, gender and age_group for this category (166 and below)."""
    return _within(category_id, (APPAREL,))


def needs_size(category_id: object) -> bool:
    """Whether Google also wants a size for this category (clothing 1604, shoes 187 and below)."""
    return _within(category_id, SIZED)
