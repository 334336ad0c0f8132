"""Text and URL cleaning, so every value the feed carries is plain, XML-safe and RFC 3986 clean."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from urllib.parse import quote, urlsplit

from lxml import etree
from lxml import html as lxml_html

from feedapp.feed.currency import parse_decimal

# XML 1.0 forbids C0 controls (but tab, LF, CR), lone surrogates, U+FFFE and U+FFFF; it discourages
# DEL, the C1 controls (but NEL) and the other noncharacters. None of them belong in a feed.
_NONCHARACTERS = "".join(
    f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17)
)
_BMP_UNSAFE = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef"
_XML_UNSAFE = re.compile(f"[{_BMP_UNSAFE}{_NONCHARACTERS}]")
#: The same characters but the noncharacters above U+FFFF: a set regex can test with a bitmap,
#: several times faster per character than one holding the 32 scattered astral ones.
_XML_UNSAFE_BMP = re.compile(f"[{_BMP_UNSAFE}\ufffe\uffff]")
#: Where an astral noncharacter could be: only then does the full set need a pass.
_ASTRAL_TAIL = re.compile("[\U0001fffe-\U0010ffff]")
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_TRAILING_JOINERS = " ,;:-–—/|·"
_DROPPED_TAGS = ("script", "style", "noscript", "template", "head", "title", "iframe", "object")
_BLOCK_TAGS = tuple(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul".split()
)
#: Where a block tag opens or closes: a space goes there, so words on either side stay apart.
#: The names are grouped by first letter, so a "<" followed by anything else fails at once.
_BLOCK_TAG = re.compile(
    "<(?=/?(?:{})\\b)".format(
        "|".join(
            f"{first}(?:{'|'.join(tag[1:] for tag in tags)})"
            for first, tags in groupby(sorted(_BLOCK_TAGS), key=lambda tag: tag[0])
        )
    ),
    re.IGNORECASE,
)
#: Something that opens or closes a tag, so text like "Talla <40" is not parsed as markup.
_TAG_START = re.compile(r"<[A-Za-z/!?]")
#: Imports from spreadsheets and other platforms encode text twice or thrice ("&amp;amp;").
_ENTITY_ROUNDS = 3
#: Longest HTML we parse; a description's text is cut to 5000 characters anyway.
_MAX_HTML = 500_000
#: Longest name, brand or option value read: titles keep 150 characters and attributes 200, so a
#: longer one is a mistake or an attack, and reading only this much keeps mapping it cheap.
MAX_SHORT_TEXT = 4_000
#: huge_tree lifts libxml2's nesting limit (256) that would silently drop deeper text; the input
#: is already capped above, and the HTML parser expands no custom entities.
_HTML_PARSER = lxml_html.HTMLParser(
    encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=True
)

_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?$|^\[[0-9a-f:.]+\]$")
_PATH_SAFE = "/!$&'()*+,;=:@%"
#: What quote() keeps as it is in a path (its own safe characters and ours, but "%").
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_.~/!$&'()*+,;=:@-]*")
_QUERY_SAFE = _PATH_SAFE + "?"
_URL_CHARS = r"A-Za-z0-9\-._~!$&'()*+,;=:@%"
_CLEAN_URL = re.compile(
    r"https?://(?P<netloc>[a-z0-9_.-]+(?::[0-9]{1,5})?)"
    rf"(?:/[{_URL_CHARS}/]*)?(?:\?[{_URL_CHARS}/?]+)?"
)
MAX_URL = 2000
#: parse_decimal's bound: a larger position is as unreadable as a missing one.
_MAX_POSITION = 10**12

#: What joins a placeholder to its neighbours; an empty placeholder takes it away with it.
_SEPARATORS = " \t\n\r\f\v-–—|:,;/·"
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_PLACEHOLDER = re.compile(r"\{(name|options|brand)\}")
_NOT_WORD = re.compile(r"[\W_]+")
_PLACEHOLDER_BRANDS = frozenset(
    "na nd none null nil generic generico genérico generica genérica nobrand sinmarca semmarca "
    "nomarca unbranded unknown noaplica notapplicable desconocida desconocido other otro otra "
    "varios".split()
) | {""}


def strip_unsafe(text: str) -> str:
    """Drop the characters XML forbids or discourages, which lxml would otherwise refuse.

    Printable text holds none of them (each is a control, surrogate or unassigned character), so
    the common case costs one C-level scan.
    """
    if text.isprintable():
        return text
    text = _XML_UNSAFE_BMP.sub("", text)
    return _XML_UNSAFE.sub("", text) if _ASTRAL_TAIL.search(text) else text


def clean_text(value: object) -> str:
    """Any API value as one trimmed line of XML-safe text; non-text values become ''."""
    if type(value) is not str:  # text first: it is what nearly every call brings
        if isinstance(value, bool) or value is None:
            return ""
        if isinstance(value, int | float):
            return str(value)
        if not isinstance(value, str):
            return ""
    if value.isprintable():  # the common case: no control, unsafe or non-ASCII space character
        return " ".join(value.split()) if "  " in value else value.strip()
    return " ".join(strip_unsafe(value).split())


def clean_id(value: object, limit: int = 24) -> str | None:
    """An API id (number or text) as short plain text fit for a stable Google id, else None."""
    if type(value) is int and value >= 0:  # the API's own ids: digits, as long as str() makes
        text = str(value)
        return text if len(text) <= limit else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value) if 0 <= value < 10**limit else ""
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() and 0 <= value < 1e15 else ""
    else:
        text = value.strip() if isinstance(value, str) else ""
    return text if len(text) <= limit and _ID.match(text) else None


def html_to_text(value: object) -> str:
    """Description HTML as plain text: tags, script/style content and every entity layer gone."""
    return plain_text(value)[0]


def plain_text(value: object, limit: int = _MAX_HTML) -> tuple[str, bool]:
    """Any merchant text as one plain line, and whether it carried markup or entities.

    Names, brands, option values and category names go through here as descriptions do, so no
    tag or entity reaches a title; the already-clean common case costs one scan. Only the first
    ``limit`` characters are read (short texts: MAX_SHORT_TEXT).
    """
    if not isinstance(value, str):
        return clean_text(value), False
    value = value[:limit]
    if "<" not in value and "&" not in value:
        return clean_text(value), False
    text = strip_unsafe(value)
    marked = False
    for _ in range(_ENTITY_ROUNDS):  # each round takes off one layer of markup or of entities
        if _TAG_START.search(text):
            text = _markup_text(text)  # libxml2 decodes one layer of entities on the way
        elif "&" in text and (decoded := html.unescape(text)) != text:
            text = decoded
        else:
            break
        marked = True
    return " ".join(strip_unsafe(text).split()), marked


def _markup_text(markup: str) -> str:
    """The text of one layer of markup; block tags become spaces (one regex pass, not a loop
    over elements, so tens of thousands of ``<p>`` cost what their bytes do)."""
    try:
        root = etree.fromstring(_BLOCK_TAG.sub(" <", markup).encode("utf-8"), _HTML_PARSER)
    except etree.LxmlError:
        return ""
    if root is None:
        return ""
    etree.strip_elements(root, *_DROPPED_TAGS, with_tail=False)
    # libxml2 may have decoded an entity such as &#1; into a control character.
    return strip_unsafe(etree.tostring(root, method="text", encoding="unicode"))


def cut_at_word(text: str, limit: int) -> str:
    """Shorten to at most ``limit`` characters, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    space = head.rfind(" ")
    if space >= limit // 2:
        cut = head[:space].rstrip(_TRAILING_JOINERS)
        if cut:
            return cut
    return text[:limit].rstrip()


def clean_url(value: object) -> str | None:
    """An absolute http(s) URL made RFC 3986 clean, or None when it cannot be one."""
    text = strip_unsafe(value).strip() if isinstance(value, str) else ""
    if not text:
        return None
    fast = _CLEAN_URL.fullmatch(text)  # already clean (most image URLs): nothing to re-encode
    if fast and len(text) <= MAX_URL and ("%" not in text or not _LONE_PERCENT.search(text)):
        if _clean_netloc(fast["netloc"]) == fast["netloc"]:
            return text
    return encode_url(text)


def encode_url(text: str) -> str | None:
    """Rebuild a URL part by part: lower-case host, percent-encoded path, query and fragment."""
    if text.startswith("//"):
        text = "https:" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    netloc = _clean_netloc(parts.netloc)
    if netloc is None:
        return None
    url = f"{parts.scheme}://{netloc}{encode_path(parts.path)}"
    if parts.query:
        url += "?" + encode_query(parts.query)
    if parts.fragment:
        url += "#" + encode_query(parts.fragment)
    return url if len(url) <= MAX_URL else None


@lru_cache(maxsize=256)
def _clean_netloc(netloc: str) -> str | None:
    """Lower-case (punycode) host and optional port; None for credentials or a bad host."""
    host, port = netloc, ""
    if ":" in netloc and not netloc.endswith("]"):
        host, _, port = netloc.rpartition(":")
    if port and not (port.isascii() and port.isdigit() and len(port) <= 5 and int(port) < 65536):
        return None
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    if "@" in netloc or not _HOST.match(host):
        return None
    return f"{host}:{port}" if port else host


@lru_cache(maxsize=64)
def site_root(url: str) -> tuple[str, str] | None:
    """A store URL (scheme optional) as its clean root without trailing slash, and its query."""
    text = clean_text(url)
    clean = clean_url(text if "://" in text else "https://" + text) if text else None
    if clean is None:
        return None
    root, _, query = clean.partition("#")[0].partition("?")
    return root.rstrip("/"), query


def page_url(root: str, query: str, path: str, params: list[tuple[str, str]]) -> str:
    """``root/path`` with the path percent-encoded and ``params`` added to the query unless set."""
    present = {pair.partition("=")[0] for pair in query.split("&")} if query else set()
    added = "&".join(f"{k}={quote(v, safe='')}" for k, v in params if v and k not in present)
    query = "&".join(part for part in (query, added) if part)
    return f"{root}/{encode_path(path.strip('/'))}" + (f"?{query}" if query else "")


def image_urls(images: object) -> tuple[list[str], list[str]]:
    """A product's image URLs by position, cleaned and without repeats, and the unusable ones."""
    entries = [img for img in images if isinstance(img, dict)] if isinstance(images, list) else []
    entries.sort(key=_position)
    urls: list[str] = []
    bad: list[str] = []
    for entry in entries:
        url = clean_url(entry.get("url"))
        if url is None:
            bad.append(clean_text(entry.get("url")) or "—")
        elif url not in urls:
            urls.append(url)
    return urls, bad


def _position(image: dict[str, object]) -> tuple[int, Decimal | int]:
    position = image.get("position")
    if type(position) is int and -_MAX_POSITION < position < _MAX_POSITION:
        return (0, position)  # as parse_decimal would read it: a Decimal compares equal
    position = parse_decimal(position)
    return (0, position) if position is not None else (1, Decimal(0))


def encode_path(path: str) -> str:
    """Percent-encode what a URL path may not hold, keeping existing %XX escapes as they are."""
    if _PLAIN_PATH.fullmatch(path):  # a product's slug, mostly: nothing to encode
        return path
    return quote(_LONE_PERCENT.sub("%25", path) if "%" in path else path, safe=_PATH_SAFE)


def encode_query(query: str) -> str:
    """Percent-encode what a query or fragment may not hold, keeping existing %XX escapes."""
    return quote(_LONE_PERCENT.sub("%25", query), safe=_QUERY_SAFE)


def render_title(pattern: str, name: str, options: str, brand: str, limit: int) -> tuple[str, bool]:
    """The merchant's title pattern filled in and cut to ``limit``; True when it had to be cut."""
    title = _render(pattern, name, options, brand) or name
    if len(title) <= limit:
        return title, False
    budget = len(name) - (len(title) - limit)
    if budget >= 30:  # shorten the name first, so the variant's options stay in view
        title = _render(pattern, cut_at_word(name, budget), options, brand) or name
    return cut_at_word(title, limit), True


def _render(pattern: str, name: str, options: str, brand: str) -> str:
    """Fill the placeholders; an empty one vanishes together with its separator."""
    rendered = _format_pattern(pattern).format_map(
        {"name": name or "\x00", "options": options or "\x00", "brand": brand or "\x00"}
    )
    rendered = _drop_empty_slots(rendered) if "\x00" in rendered else rendered
    if "(" in rendered or "[" in rendered:
        rendered = _EMPTY_BRACKETS.sub("", rendered)
    return " ".join(rendered.split())  # str.split's whitespace is the regex's \s


@lru_cache(maxsize=16)
def _format_pattern(pattern: str) -> str:
    """The title pattern without markup as a str.format template (its other braces doubled),
    cleaned once per build rather than once per item."""
    parts = _PLACEHOLDER.split(plain_text(pattern)[0])  # text, name, text, name, ..., text
    parts[::2] = [text.replace("{", "{{").replace("}", "}}") for text in parts[::2]]
    parts[1::2] = [f"{{{name}}}" for name in parts[1::2]]
    return "".join(parts)


def _drop_empty_slots(text: str) -> str:
    """Remove each empty slot (NUL) with the separators before it, or after it at the start.

    One pass over the pieces: a pattern-based version of this backtracks quadratically on a long
    run of separators, and product names are the merchant's to make long.
    """
    pieces: list[str] = []
    leading = True
    for index, piece in enumerate(text.split("\x00")):
        if index and leading:
            piece = piece.lstrip(_SEPARATORS)
        elif index:
            while pieces and not pieces[-1].rstrip(_SEPARATORS):
                pieces.pop()
            if pieces:
                pieces[-1] = pieces[-1].rstrip(_SEPARATORS)
        if leading and index == 0:
            leading = not piece.strip()
            piece = "" if leading else piece
        elif leading:
            leading = not piece
        pieces.append(piece)
    return "".join(pieces)


def is_placeholder_brand(brand: str) -> bool:
    """Whether a brand is a stand-in ("N/A", "Genérico", "-") that Google rejects."""
    return _NOT_WORD.sub("", brand.casefold()) in _PLACEHOLDER_BRANDS
