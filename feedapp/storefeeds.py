"""A store's feeds, one per market: a language and a target country, each with its own secret URL,
options, rules and shipping.

A store sells in one currency but may speak several languages and ship to several countries, and
Google reads one language and one country per feed. The store record holds the list; the build
fetches the catalogue once per language in use and writes every feed of that language from it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from babel import Locale

from feedapp.feed.options import FeedOptions, FieldError
from feedapp.feed.rules import dump_rules
from feedapp.feed.shipping import ShippingOptions
from feedapp.feed.xmlfeed import FIRST_FEED
from feedapp.messages import N_

#: A store with more markets than this is better served by fewer, merged feeds.
MAX_FEEDS = 20
MAX_NAME = 60
FEED_ID = re.compile(r"[1-9][0-9]{0,3}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?")


@dataclass
class StoreFeed:
    """One feed of a store: who it is for (language, country) and how it is shaped."""

    id: str
    name: str = ""
    #: A code of the store's languages ("" = the store's default language).
    language: str = ""
    #: The ISO 3166-1 alpha-2 country the feed targets ("" = the store's own country).
    country: str = ""
    token: str = field(default="", repr=False)
    options: FeedOptions = field(default_factory=FeedOptions)
    #: The feed's rules as their JSON document (feedapp.feed.rules: dump_rules/parse_rules).
    rules: dict[str, object] = field(default_factory=lambda: dump_rules([]))
    shipping: ShippingOptions = field(default_factory=ShippingOptions)

    def to_dict(self) -> dict[str, object]:
        """The feed as stored in clear (its token is kept with the other secrets)."""
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "country": self.country,
            "options": self.options.to_dict(),
            "rules": self.rules,
            "shipping": self.shipping.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object], token: str = "") -> StoreFeed:
        """Rebuild a stored feed; unknown or missing keys fall back to defaults."""
        rules = data.get("rules")
        return cls(
            id=str(data.get("id") or FIRST_FEED),
            name=str(data.get("name") or ""),
            language=str(data.get("language") or ""),
            country=str(data.get("country") or ""),
            token=token,
            options=FeedOptions.from_dict(_mapping(data.get("options"))),
            rules=dict(rules) if isinstance(rules, dict) else dump_rules([]),
            shipping=ShippingOptions.from_dict(_mapping(data.get("shipping"))),
        )


def _mapping(value: object) -> dict[str, object]:
    return dict(value) if isinstance(value, dict) else {}


def new_token() -> str:
    """A feed URL's secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def next_feed_id(feeds: Sequence[StoreFeed], last_id: int) -> str:
    """The next id never given to a feed of the store (short, so it reads well in a CLI).

    A removed feed's id is never reused: a build that was running during the removal may still
    write that id's files and documents, which then belong to nobody instead of to a new feed.
    """
    used = (int(f.id) for f in feeds if FEED_ID.fullmatch(f.id))
    return str(max([last_id, *used]) + 1)


def migrated_first_feed(options: Mapping[str, object], token: str, country: str) -> StoreFeed:
    """A store record from before feeds per market: its options and URL become its first feed.

    The language those records kept among the options is the feed's language now.
    """
    opts = FeedOptions.from_dict(dict(options))
    language = str(options.get("language") or "")
    return StoreFeed(
        FIRST_FEED,
        name=default_name(language, country),
        language=language,
        country=country,
        token=token,
        options=opts,
    )


def default_name(language: str, country: str) -> str:
    """A readable name for a feed nobody named yet: "CL (es)", or "CL" in the default language."""
    return f"{country or '?'} ({language})" if language else country or "?"


#: Two-letter CLDR territories that are not countries: EU, the euro area, groupings, test codes.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})


def countries() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 country code CLDR knows (regions like "419" left out)."""
    codes = (code for code in Locale("en").territories if re.fullmatch(r"[A-Z]{2}", code))
    return frozenset(codes) - _NOT_COUNTRIES


def validate_market(
    form: Mapping[str, object], store_languages: Sequence[str]
) -> tuple[dict[str, str], dict[str, FieldError]]:
    """A feed's name, language and country from a form or a command, with an error per field."""
    errors: dict[str, FieldError] = {}
    name = str(form.get("name") or "").strip()
    language = str(form.get("language") or "").strip()
    country = str(form.get("country") or "").strip().upper()
    if len(name) > MAX_NAME:
        errors["name"] = FieldError(N_("Use at most %(limit)d characters."), {"limit": MAX_NAME})
    if language and (not _LANGUAGE.fullmatch(language) or language not in store_languages):
        errors["language"] = FieldError(
            N_("Choose one of your store's languages: %(languages)s."),
            {"languages": ", ".join(store_languages) or "-"},
        )
    if not country or country not in countries():
        errors["country"] = FieldError(
            N_("Enter the two-letter code of the country this feed sells to, e.g. CL or BR.")
        )
    return {"name": name, "language": language, "country": country}, errors
