"""The merchant's pages in Spanish, English or Portuguese, from gettext catalogs.

Message ids are the English text. Each language's ``feedapp/translations/<lang>/LC_MESSAGES/
messages.po`` is compiled in memory the first time a page needs it (no .mo file is kept), then
cached. The page language comes from the browser's Accept-Language, Spanish when unsure.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask, g, request

from feedapp.feed.problems import MESSAGES, Problem
from feedapp.messages import N_

#: Most Jumpseller merchants are Latin-American: Spanish unless the browser prefers another.
DEFAULT = "es"
LANGUAGES = ("es", "en", "pt")
CATALOGS = Path(__file__).parent.parent / "translations"
DOMAIN = "messages"

#: What the status panel says for each build state (feedapp.builds.status).
BUILD_STATES: dict[str, str] = {
    "never": N_("Not built yet"),
    "queued": N_("Waiting to build"),
    "running": N_("Building…"),
    "ok": N_("Up to date"),
    "failed": N_("The last build failed"),
}

#: Why the last build failed, by feedapp.builds.status.error_kind, beside the operator's detail.
ERROR_KINDS: dict[str, str] = {
    "check": N_(
        "The new feed did not pass its final check, so the current feed was kept. It will be "
        "built again; if this repeats, contact support."
    ),
    "revoked": N_(
        "Jumpseller no longer lets the app read your store: it was removed or its access "
        "revoked. Connect it again to keep your feed up to date."
    ),
    "token": N_(
        "The app could not renew its access to Jumpseller just now. The current feed is still "
        "served, and the next build will try again."
    ),
    "rate_limit": N_(
        "Jumpseller's request limit for your store was in use by something else, so the build "
        "stopped. The current feed is still served; it will try again later."
    ),
    "api": N_(
        "Jumpseller did not answer as expected while reading your products. The current feed is "
        "still served, and the build will be retried."
    ),
    "timeout": N_(
        "The build took too long and was stopped. The current feed is still served; it will try "
        "again later."
    ),
    "unexpected": N_(
        "The build failed because of a problem on our side. The current feed is still served, "
        "and we have the details to fix it."
    ),
}

#: The answer to "Rebuild now", by feedapp.builds.queueing.request_build's result.
REBUILD_RESULTS: dict[str, str] = {
    "queued": N_("Rebuild queued."),
    "already-queued": N_("A rebuild is already waiting."),
    "dirty": N_("A build is running; another one follows it with your latest changes."),
}

#: HTTP errors in the merchant's words; other statuses fall back to 400's or 500's.
HTTP_ERRORS: dict[int, str] = {
    400: N_("The request was not valid."),
    401: N_("Your session ended. Open the app again from your Jumpseller admin."),
    404: N_("This page does not exist."),
    405: N_("This page does not accept that action."),
    409: N_("The app is disconnected from this store; reconnect it first."),
    500: N_("The app failed unexpectedly. Try again in a moment."),
}


def pick(header: str | None) -> str:
    """The page language for an Accept-Language header (pt-BR -> pt, es-CL -> es), else Spanish.

    Regional tags count as their language at their own quality: ``best_match`` alone would
    answer "pt-BR,en;q=0.5" with en, because only an exact match beats its fallback.
    """
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    accept = parse_accept_header(header or "", LanguageAccept)
    primary = [(tag.replace("_", "-").split("-")[0].lower(), q) for tag, q in accept if q > 0]
    return LanguageAccept(primary).best_match(LANGUAGES, default=DEFAULT) or DEFAULT


def current() -> str:
    """The language of the page answering this request."""
    if "lang" not in g:
        g.lang = pick(request.headers.get("Accept-Language"))
    return g.lang


@cache
def translations(lang: str) -> Translations:
    """One language's catalog, compiled in memory from its .po on first use (never at import)."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalog for language {lang!r}")
    with (CATALOGS / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, so they show the English
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(message: str, /, *, lang: str | None = None, **values: object) -> str:
    """A message in the page's (or the given) language, with its ``%(name)s`` values filled in."""
    text = translations(lang or current()).gettext(message)
    return text % values if values else text


def describe(problem: Problem, lang: str | None = None) -> str:
    """What the merchant should change for a problem, in the page's (or the given) language."""
    entry = MESSAGES.get(problem.code)
    if entry is None:  # a code from elsewhere in the app (or a newer build): still say something
        return gettext(
            "An unexpected problem (%(code)s); contact the app's support.",
            lang=lang,
            code=problem.code,
        )
    return gettext(entry[1], lang=lang, detail=problem.detail or "—")


def init_app(app: Flask) -> None:
    """Give every template gettext's ``_``/``gettext``/``ngettext`` (new style) and ``lang``."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(
        gettext=lambda message: translations(current()).gettext(message),
        ngettext=lambda singular, plural, num: translations(current()).ngettext(
            singular, plural, num
        ),
        newstyle=True,
    )

    @app.context_processor
    def _language() -> dict[str, object]:
        return {"lang": current()}
