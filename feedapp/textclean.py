"""Text and URL cleaning, so every value the feed carries is plain, XML-safe and RFC 3986 clean."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

from lxml import etree
from lxml import html as lxml_html

# XML 1.0 forbids C0 controls (but tab, LF, CR), lone surrogates, U+FFFE and U+FFFF; it discourages
# DEL, the C1 controls (but NEL) and the other noncharacters. None of them belong in a feed.
_NONCHARACTERS = "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
_XML_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef" + _NONCHARACTERS + "]"
)
_SPACES = re.compile(r"\s+")
_TRAILING_JOINERS = " ,;:-–—/|·"
_DROPPED_TAGS = ("script", "style", "noscript", "template", "head", "title", "iframe", "object")
_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
)  # fmt: skip
#: Longest HTML we parse; a description's text is cut to 5000 characters anyway.
_MAX_HTML = 500_000
_HTML_PARSER = lxml_html.HTMLParser(
    encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True
)

_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?$|^\[[0-9a-f:.]+\]$")
_PATH_SAFE = "/!$&'()*+,;=:@%"
_QUERY_SAFE = _PATH_SAFE + "?"
MAX_URL = 2000


def strip_unsafe(text: str) -> str:
    """Drop the characters XML forbids or discourages, which lxml would otherwise refuse."""
    return _XML_UNSAFE.sub("", text)


def clean_text(value: object) -> str:
    """Any API value as one trimmed line of XML-safe text; non-text values become ''."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        return ""
    return _SPACES.sub(" ", _XML_UNSAFE.sub("", value)).strip()


def html_to_text(value: object) -> str:
    """Description HTML as plain text: entities decoded once, tags and script/style content gone."""
    if not isinstance(value, str):
        return clean_text(value)
    text = _XML_UNSAFE.sub("", value[:_MAX_HTML])
    if "<" in text:
        text = _markup_text(text)
    elif "&" in text:
        text = html.unescape(text)
    return _SPACES.sub(" ", _XML_UNSAFE.sub("", text)).strip()


def _markup_text(markup: str) -> str:
    try:
        root = etree.fromstring(markup.encode("utf-8"), _HTML_PARSER)  # noqa: S320 (HTML parser)
    except etree.LxmlError:
        return ""
    if root is None:
        return ""
    etree.strip_elements(root, *_DROPPED_TAGS, with_tail=False)
    for element in root.iter(*_BLOCK_TAGS):
        element.text = " " + element.text if element.text else " "
        element.tail = " " + element.tail if element.tail else " "
    return etree.tostring(root, method="text", encoding="unicode")


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
    text = clean_text(value)
    if not text:
        return None
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
    if "@" in netloc or not netloc:
        return None
    host, colon, port = netloc.rpartition(":") if not netloc.endswith("]") else (netloc, "", "")
    if not colon:
        host, port = netloc, ""
    elif "]" in port or (port and not (port.isascii() and port.isdigit() and int(port) < 65536)):
        return None
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    if not _HOST.match(host):
        return None
    return f"{host}:{port}" if port else host


def encode_path(path: str) -> str:
    """Percent-encode what a URL path may not hold, keeping existing %XX escapes as they are."""
    return quote(_LONE_PERCENT.sub("%25", path), safe=_PATH_SAFE)


def encode_query(query: str) -> str:
    """Percent-encode what a query or fragment may not hold, keeping existing %XX escapes."""
    return quote(_LONE_PERCENT.sub("%25", query), safe=_QUERY_SAFE)
