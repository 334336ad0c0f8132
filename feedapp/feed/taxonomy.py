"""Google's taxonomy and the store's category tree: official category ids and readable types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from feedapp.feed.options import FeedOptions
from feedapp.feed.textclean import clean_id, clean_text, cut_at_word, plain_text

TAXONOMY_FILE = Path(__file__).resolve().parent / "data" / "taxonomy-with-ids.en-US.txt"
APPAREL = 166
SIZED = (1604, 187)  # Clothing, Shoes: Google also wants a size below these.
#: Ids and paths are short; a longer text (a merchant's typo, an attack) is looked up uncached.
_MAX_CACHED_TEXT = 300


@dataclass(frozen=True)
class _Taxonomy:
    paths: dict[int, str]
    ids: dict[str, int]
    folded: tuple[tuple[int, str, str], ...]


def _id_line(text: str) -> tuple[int, str] | None:
    """An "187 - Apparel > Shoes" line as (187, "Apparel > Shoes"), in one pass over any input.

    A merchant's form reaches this: no backtracking pattern may run on it.
    """
    head, dash, path = text.partition("-")
    head, path = head.strip(), path.strip()
    if dash and path and head.isascii() and head.isdigit() and len(head) <= 9:
        return int(head), path
    return None


def _fold_path(path: str) -> str:
    return " > ".join(" ".join(level.split()) for level in path.split(">")).casefold()


@lru_cache(maxsize=1)
def _taxonomy() -> _Taxonomy:
    paths: dict[int, str] = {}
    for line in TAXONOMY_FILE.read_text(encoding="utf-8").splitlines():
        entry = _id_line(line)
        if entry:
            paths[entry[0]] = entry[1]
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
    if len(text) <= _MAX_CACHED_TEXT:
        return _lookup_text(text)
    return _lookup_uncached(text)


@lru_cache(maxsize=2048)
def _lookup_text(text: str) -> tuple[int, str] | None:
    """lookup for a stripped text; products repeat a few hundred category texts."""
    return _lookup_uncached(text)


def _lookup_uncached(text: str) -> tuple[int, str] | None:
    """lookup for a stripped, non-empty text."""
    if text.isascii() and text.isdigit() and len(text) <= 9:
        return lookup(int(text))
    entry = _id_line(text)
    if entry:
        found = lookup(entry[0])
        if found:
            return found
    tax = _taxonomy()
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
    return found is not None and _path_within(found[1], ancestors)


@lru_cache(maxsize=1024)
def _path_within(path: str, ancestors: tuple[int, ...]) -> bool:
    """Whether an official path is one of the ancestors' or below one; asked once per item."""
    paths = _taxonomy().paths
    return any(path == paths[a] or path.startswith(paths[a] + " > ") for a in ancestors)


def is_apparel(category_id: object) -> bool:
    """Whether Google wants color, gender and age_group for this category (166 and below)."""
    return _within(category_id, (APPAREL,))


def needs_size(category_id: object) -> bool:
    """Whether Google also wants a size for this category (clothing 1604, shoes 187 and below)."""
    return _within(category_id, SIZED)


class CatalogContext:
    """The store's category tree, indexed once per build so each product's paths are cheap."""

    def __init__(self, categories: Iterable[Mapping[str, object]] = ()) -> None:
        self._tree: dict[str, tuple[str, str | None]] = {}
        self._paths: dict[str, tuple[str, ...]] = {}
        self._types: dict[tuple[str, int], str] = {}  # (category id, limit) -> product_type
        for raw in categories:
            inner = raw.get("category") if isinstance(raw, Mapping) else None
            category = inner if isinstance(inner, Mapping) else raw
            key = clean_id(category.get("id")) if isinstance(category, Mapping) else None
            if key is not None:
                name, parent = plain_text(category.get("name"))[0], category.get("parent_id")
                self._tree[key] = (name, clean_id(parent))

    def path(self, category_id: object) -> tuple[str, ...]:
        """Category names from the root down to this one; () when the store does not know it."""
        key = clean_id(category_id)
        if key is None:
            return ()
        if key not in self._paths:
            names: list[str] = []
            current: str | None = key
            while current in self._tree and len(names) < 50:  # a loop in bad data ends here
                name, current = self._tree[current]
                names.append(name)
            self._paths[key] = tuple(n for n in reversed(names) if n)
        return self._paths[key]

    def product_type(self, categories: list[Mapping[str, object]], limit: int = 750) -> str:
        """The first category's path, "Parent > Child", for product_type."""
        if not categories:
            return ""
        first = categories[0]
        key = clean_id(first.get("id"))
        known = self._types.get((key, limit)) if key is not None else None
        if known is not None:
            return known
        names = self.path(key) or (plain_text(first.get("name"))[0],)
        text = cut_at_word(" > ".join(n for n in names if n), limit)
        if key is not None and self.path(key):  # the store's tree decided it, not this product
            self._types[(key, limit)] = text
        return text

    def google_category(
        self, own: Iterable[object], categories: list[Mapping[str, object]], options: FeedOptions
    ) -> tuple[int | None, str]:
        """The product's own Google category id, else the merchant's map, else their default.

        Mapped categories are tried deepest first. Also returns the product's own value when it is
        not in the taxonomy, so the merchant can be told.
        """
        unknown = ""
        for value in own:
            text = clean_text(value)
            found = lookup(text) if text else None
            if found:
                return found[0], ""
            unknown = unknown or text
        ids = [clean_id(c.get("id")) for c in categories]
        ids.sort(key=lambda c: -len(self.path(c)))
        choices = [options.category_map.get(c) for c in ids if c is not None]
        for choice in [*choices, options.default_google_category]:
            found = lookup(choice) if choice else None
            if found:
                return found[0], unknown
        return None, unknown
