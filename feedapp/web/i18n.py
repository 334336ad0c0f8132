"""The merchant's pages in Spanish or English, picked from the browser's Accept-Language."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from flask import Flask, g, request

#: Most Jumpseller merchants are Latin-American: Spanish unless the browser prefers English.
DEFAULT = "es"
LANGUAGES = ("es", "en")

#: The interface strings: {"strings": {key: [English, Spanish]}, "field_errors_es": {en: es}}.
STRINGS_FILE = Path(__file__).parent.parent / "data" / "strings.json"
_AT_MOST = re.compile(r"^At most (\d+) characters\.$")
_PLACEHOLDER = re.compile(r"^Unknown placeholder (\{[^}]*\}); use (.+)\.$")


def pick(header: str | None) -> str:
    """The page language for an Accept-Language header: es or en, Spanish when unsure."""
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    accept = parse_accept_header(header or "", LanguageAccept)
    return accept.best_match(LANGUAGES, default=DEFAULT) or DEFAULT


def current() -> str:
    """The language of the page answering this request."""
    if "lang" not in g:
        g.lang = pick(request.headers.get("Accept-Language"))
    return g.lang


@cache
def _table() -> dict[str, dict]:
    """The string table, read once on first use (never at import)."""
    return json.loads(STRINGS_FILE.read_text(encoding="utf-8"))


def has(key: str) -> bool:
    """Whether the table holds an interface string under this key."""
    return key in _table()["strings"]


def strings() -> dict[str, list[str]]:
    """Every interface string as key -> [English, Spanish]."""
    return _table()["strings"]


def text(key: str, lang: str | None = None, **values: object) -> str:
    """One interface string in the given (or the request's) language."""
    english, spanish = _table()["strings"][key]
    chosen = spanish if (lang or current()) == "es" else english
    return chosen.format(**values) if values else chosen


def field_error(message: str, lang: str | None = None) -> str:
    """A validation message from feedapp.feed.options in the page's language."""
    if (lang or current()) != "es":
        return message
    if message in _table()["field_errors_es"]:
        return _table()["field_errors_es"][message]
    if match := _AT_MOST.match(message):
        return f"Como máximo {match.group(1)} caracteres."
    if match := _PLACEHOLDER.match(message):
        return f"Marcador desconocido {match.group(1)}; usa {match.group(2)}."
    return message


def init_app(app: Flask) -> None:
    """Give every template `t(key, **values)` and `lang`."""

    @app.context_processor
    def _language() -> dict[str, object]:
        return {"t": text, "lang": current()}
