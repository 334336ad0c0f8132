"""Interface text through gettext catalogs: complete es and pt catalogs, the page language, and
problem messages, validation errors and statuses rendered in Spanish, English and Portuguese."""

from __future__ import annotations

import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from feedapp.feed.options import validate_options
from feedapp.feed.problems import MESSAGES, PROBLEM_CODES, Problem
from feedapp.storefeeds import validate_market
from feedapp.stores import Store, StoreRegistry
from feedapp.web import i18n
from feedapp.web.page import CONFIRM_REMOVE, LAST_FEED, PREVIEW_FAILED, TOO_MANY_FEEDS
from feedapp.web.rules_form import ACTION_LABELS, FIELD_LABELS, LABEL_ACTION, OPERATOR_LABELS
from feedapp.web.security import PageSession, open_session

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "feedapp" / "translations"
HEADERS = {
    "es": {"Accept-Language": "es-CL,es;q=0.9,en;q=0.8"},
    "en": {"Accept-Language": "en-US,en;q=0.9"},
    "pt": {"Accept-Language": "pt-BR,pt;q=0.9,en;q=0.8"},
}
#: %(name)s-style and {name}-style placeholders, which a translation must keep exactly.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]|\{\w*\}")


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def catalog_problems(extracted: Catalog, lang: str) -> list[str]:
    """Every way the committed catalog for ``lang`` falls short of the extracted messages."""
    catalog = read_catalog(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", lang)
    found = []
    for message in extracted:
        if not message.id:
            continue
        entry = catalog.get(message.id)
        if entry is None:
            found.append(f"{lang}: missing {message.id!r}")
            continue
        if entry.fuzzy:
            found.append(f"{lang}: fuzzy {message.id!r}")
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for index, string in enumerate(strings):
            source = ids[min(index, len(ids) - 1)]  # plural forms after the first follow the plural
            if not string.strip():
                found.append(f"{lang}: empty msgstr[{index}] for {message.id!r}")
            elif placeholders(string) != placeholders(source):
                found.append(f"{lang}: placeholders of {string!r} differ from {source!r}")
    return found


def test_catalogs_translate_every_extracted_message_and_the_template_is_current(
    tmp_path: Path,
) -> None:
    """`pybabel extract` with the committed babel.cfg: es and pt translate all of it, the .pot
    matches it (so nothing was added without an extraction), and en carries every id."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            str(TRANSLATIONS / "babel.cfg"),
            "-k",
            "N_",
            "--add-comments=Translators:",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    extracted = read_catalog(pot)
    ids = {message.id for message in extracted if message.id}
    assert len(ids) > 150  # templates, the web layer and the domain's N_ marks were all read
    assert set(MESSAGES[code][1] for code in PROBLEM_CODES) <= ids
    committed = {
        message.id for message in read_catalog(TRANSLATIONS / "messages.pot") if message.id
    }
    assert committed == ids, (
        f"messages.pot is stale: run `make translations`; new {sorted(ids - committed, key=str)}, "
        f"gone {sorted(committed - ids, key=str)}"
    )
    found = catalog_problems(extracted, "es") + catalog_problems(extracted, "pt")
    english = read_catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po", "en")
    found += [
        f"en: missing {message_id!r}" for message_id in ids if english.get(message_id) is None
    ]
    assert not found, "\n".join(found)


def test_catalogs_are_compiled_on_first_use_not_at_import() -> None:
    script = (
        "import feedapp.web.connect, feedapp.web.page\n"
        "from feedapp.web import i18n\n"
        "assert i18n.translations.cache_info().currsize == 0\n"
        "assert i18n.translations('pt') is i18n.translations('pt')\n"
        "assert i18n.translations.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "es"),
        ("", "es"),
        ("es-CL,es;q=0.9,en;q=0.8", "es"),
        ("es-CL", "es"),
        ("en-US,en;q=0.9", "en"),
        ("en-GB,es;q=0.3", "en"),
        ("pt-BR,pt;q=0.9,en;q=0.8", "pt"),
        ("pt-BR", "pt"),
        ("pt-PT", "pt"),
        ("pt-BR,en;q=0.5", "pt"),
        ("fr-FR,de;q=0.5", "es"),
        ("en;q=0,pt;q=0.2", "pt"),
        ("*", "es"),
    ],
)
def test_page_language_is_picked_from_accept_language(header: str | None, expected: str) -> None:
    assert i18n.pick(header) == expected


@pytest.mark.parametrize(
    ("header", "lang", "heading"),
    [
        ({}, "es", "Conecta tu tienda"),
        (HEADERS["es"], "es", "Conecta tu tienda"),
        (HEADERS["en"], "en", "Connect your store"),
        (HEADERS["pt"], "pt", "Conecte sua loja"),
        ({"Accept-Language": "pt-PT"}, "pt", "Conecte sua loja"),
    ],
)
def test_the_connect_page_speaks_the_browsers_language(
    client, header: dict, lang: str, heading: str
) -> None:
    html = client.get("/", headers=header).get_data(as_text=True)
    assert f'<html lang="{lang}">' in html and f"<h2>{heading}</h2>" in html


# -- the merchant's page in each language -------------------------------------------------
@pytest.fixture
def page(app, store: Store, registry: StoreRegistry) -> PageSession:
    """A signed-in page for the test store, whose categories are cached (no API call)."""
    registry.set_json(store.code, "categories", {"categories": []})
    with app.test_request_context():
        return open_session(store.code)


def signed(app, page: PageSession) -> dict[str, str]:
    with app.test_request_context():
        return {"t": page.page_token, "csrf": page.csrf}


def show(client, app, page: PageSession, lang: str) -> str:
    reply = client.get("/", query_string={"t": signed(app, page)["t"]}, headers=HEADERS[lang])
    assert reply.status_code == 200
    return unescape(reply.get_data(as_text=True))


def error_beside(html: str, field: str) -> str:
    match = re.search(rf'data-error-for="{re.escape(field)}">([^<]+)<', html)
    assert match, f"no error shown beside {field}"
    return match.group(1)


EXAMPLE = {
    "product_id": "501",
    "variant_id": "9001",
    "item_id": "501-9001",
    "product_name": "Polera Azul",
    "detail": "7801234567890",
}


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "es",
            [
                "El código de barras 7801234567890 no es un GTIN válido (dígito verificador "
                "incorrecto), así que no se envió. Corrígelo en Productos > editar producto > "
                "Código de barras, o déjalo vacío.",
                "3 casos",
                "1 caso<",
                "Omitido del feed",
                "variante 9001",
                "Un problema inesperado (from_the_future)",
            ],
        ),
        (
            "en",
            [
                "The barcode 7801234567890 is not a valid GTIN (wrong check digit), so it was not "
                "sent. Correct it in Products > edit product > Barcode, or leave it empty.",
                "3 cases",
                "1 case<",
                "Left out of the feed",
                "variant 9001",
                "An unexpected problem (from_the_future)",
            ],
        ),
        (
            "pt",
            [
                "O código de barras 7801234567890 não é um GTIN válido (dígito verificador "
                "incorreto), por isso não foi enviado. Corrija-o em Produtos > editar produto > "
                "Código de barras ou deixe o campo vazio.",
                "3 casos",
                "1 caso<",
                "Fora do feed",
                "variante 9001",
                "Um problema inesperado (from_the_future)",
            ],
        ),
    ],
)
def test_problem_messages_in_each_language(
    client, app, page: PageSession, registry: StoreRegistry, lang: str, expected: list[str]
) -> None:
    problems = [
        {"code": "image_missing", "severity": "error", "count": 3, "examples": [EXAMPLE]},
        {
            "code": "gtin_invalid_check_digit",
            "severity": "warning",
            "count": 1,
            "examples": [EXAMPLE],
        },
        {"code": "from_the_future", "severity": "warning", "count": 2, "examples": []},
    ]
    registry.set_json(page.store_code, "diagnostics", {"problems": problems})
    html = re.sub(r"\s+", " ", show(client, app, page, lang))
    for text in expected:
        assert text in html, (lang, text)
    image = Problem("image_missing", "error", "501", "9001", "501-9001", "Polera Azul")
    assert i18n.describe(image, lang) in html


@pytest.mark.parametrize("code", sorted(PROBLEM_CODES))
def test_every_problem_reads_in_spanish_and_portuguese(code: str) -> None:
    problem = Problem(code, PROBLEM_CODES[code], "1", None, "1", "P", "DETAIL-123")
    english = i18n.describe(problem, "en")
    assert english == MESSAGES[code][1] % {"detail": "DETAIL-123"}
    for lang, place in (("es", "Productos > editar producto"), ("pt", "Produtos > editar produto")):
        text = i18n.describe(problem, lang)
        assert text != english and "%(" not in text and "{" not in text, (lang, text)
        assert ("DETAIL-123" in text) == ("DETAIL-123" in english), (lang, text)
        assert ("Products > edit product" in english) == (place in text), (lang, text)


def test_every_message_id_the_code_produces_is_translated() -> None:
    """What validation, the status tables and HTTP errors hand to the page exists in es and pt."""
    _, errors = validate_options(
        {
            "default_brand": "x" * 71,
            "condition": "?",
            "gender": "?",
            "age_group": "?",
            "color_options": "y" * 51,
            "title_pattern": "{name} {precio}",
            "utm_source": "a b",
            "frequency_hours": "nope",
            "default_google_category": "zzz",
        },
        known_category=lambda _: False,
    )
    _, more = validate_options(
        {"default_brand": "N/A", "frequency_hours": "5", "title_pattern": "{options}"}
    )
    field_errors = [*errors.values(), *more.values()]
    assert len({error.msgid for error in field_errors}) >= 11
    tables = [i18n.BUILD_STATES, i18n.ERROR_KINDS, i18n.REBUILD_RESULTS, i18n.HTTP_ERRORS]
    table_ids = [msgid for table in tables for msgid in table.values()]
    for lang in ("es", "pt"):
        for error in field_errors:
            english = i18n.gettext(error.msgid, lang="en", **error.params)
            assert i18n.gettext(error.msgid, lang=lang, **error.params) != english, error
        for msgid in table_ids:
            assert i18n.translations(lang).gettext(msgid) != msgid, (lang, msgid)


@pytest.mark.parametrize(
    ("lang", "placeholder", "too_long", "notice"),
    [
        (
            "es",
            "Marcador desconocido {precio}; usa {name}, {options}, {brand}.",
            "Como máximo 70 caracteres.",
            "Algunos ajustes necesitan corrección",
        ),
        (
            "en",
            "Unknown placeholder {precio}; use {name}, {options}, {brand}.",
            "At most 70 characters.",
            "Some settings need a fix",
        ),
        (
            "pt",
            "Marcador desconhecido {precio}; use {name}, {options}, {brand}.",
            "No máximo 70 caracteres.",
            "Algumas configurações precisam de ajuste",
        ),
    ],
)
def test_a_rejected_save_shows_its_errors_in_the_page_language(
    client, app, page: PageSession, lang: str, placeholder: str, too_long: str, notice: str
) -> None:
    form = {
        **signed(app, page),
        "title_pattern": "{name} {precio}",
        "default_brand": "x" * 71,
        "frequency_hours": "24",
        "condition": "new",
    }
    reply = client.post("/settings/options", data=form, headers=HEADERS[lang])
    assert reply.status_code == 400
    html = unescape(reply.get_data(as_text=True))
    assert error_beside(html, "title_pattern") == placeholder
    assert error_beside(html, "default_brand") == too_long
    assert notice in html


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("es", ["321 ítems de 150 productos", "7 ítems omitidos", "Al día", "cada 6 horas"]),
        ("en", ["321 items from 150 products", "7 items left out", "Up to date", "every 6 hours"]),
        (
            "pt",
            [
                "321 itens de 150 produtos",
                "7 itens ficaram de fora",
                "Atualizado",
                "a cada 6 horas",
            ],
        ),
    ],
)
def test_status_counts_use_each_languages_plurals(
    client, app, page: PageSession, registry: StoreRegistry, lang: str, expected: list[str]
) -> None:
    code = page.store_code
    registry.set_json(code, "build", {"state": "ok", "finished_at": 1.0, "error": None})
    last = {"finished_at": 1.0, "duration": 42.0, "items": 321, "products": 150, "left_out": 7}
    registry.set_json(code, "last_good", last)
    html = re.sub(r"\s+", " ", show(client, app, page, lang))
    for text in expected:
        assert text in html, (lang, text)
    registry.set_json(code, "last_good", {**last, "items": 1, "products": 1, "left_out": 1})
    singular = {
        "es": ["1 ítem de 1 producto", "1 ítem omitido", "cada hora"],
        "en": ["1 item from 1 product", "1 item left out", "every hour"],
        "pt": ["1 item de 1 produto", "1 item ficou de fora", "a cada hora"],
    }
    html = re.sub(r"\s+", " ", show(client, app, page, lang))
    for text in singular[lang]:
        assert text in html, (lang, text)


def test_json_answers_and_error_pages_follow_the_language(client, app, page: PageSession) -> None:
    pt = {**HEADERS["pt"], "Accept": "application/json"}
    form = signed(app, page)
    rebuild = client.post(
        "/settings/rebuild", headers={**pt, "X-Page-Token": form["t"], "X-CSRF-Token": form["csrf"]}
    )
    assert rebuild.json["message"] == "Atualização na fila."
    expired = client.get("/settings/status", headers=pt)
    assert expired.status_code == 401 and expired.json["message"].startswith("Sua sessão terminou")
    missing = client.get("/no-such-page", headers=HEADERS["pt"])
    assert missing.status_code == 404 and "Esta página não existe." in missing.get_data(
        as_text=True
    )
    forged = client.post("/settings/options", data={"t": form["t"]}, headers=HEADERS["pt"])
    assert forged.status_code == 400
    assert "Este formulário expirou" in forged.get_data(as_text=True)
    callback = client.get("/callback", headers=HEADERS["pt"])
    assert callback.status_code == 400
    assert "Este link de conexão expirou" in callback.get_data(as_text=True)
    english = client.get("/callback", headers=HEADERS["en"]).get_data(as_text=True)
    assert "This connection link expired" in english


def test_the_feeds_rules_and_shipping_forms_speak_each_language() -> None:
    """The rules editor's choices, the page's own messages and the feed form's errors."""
    _, market = validate_market({"name": "x" * 61, "language": "fr", "country": "XX"}, ["es"])
    assert len(market) == 3
    msgids = [
        *FIELD_LABELS.values(),
        *OPERATOR_LABELS.values(),
        *ACTION_LABELS.values(),
        LABEL_ACTION,
        PREVIEW_FAILED,
        CONFIRM_REMOVE,
        LAST_FEED,
        TOO_MANY_FEEDS,
        *(error.msgid for error in market.values()),
    ]
    alike = {("es", "SKU"), ("pt", "SKU"), ("es", "Stock"), ("es", "no")}  # the same word
    untranslated = [
        (lang, msgid)
        for lang in ("es", "pt")
        for msgid in msgids
        if (lang, msgid) not in alike and i18n.translations(lang).gettext(msgid) == msgid
    ]
    assert not untranslated
