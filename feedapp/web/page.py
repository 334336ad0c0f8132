"""The merchant's page in the admin iframe: the store's feeds, and for the selected one its URL,
options, rules (with a preview), shipping, build status and problems; adding and removing feeds.

Every form names its feed with a ``feed`` field (the page's links with a ``feed`` query
parameter); without one the page shows the store's first feed. The password protection and the
builds are the store's: one build writes every feed of the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.numbers import get_territory_currencies
from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for

from feedapp.builds import queueing
from feedapp.builds.status import feed_diagnostics, feed_last_good, store_status
from feedapp.feed import rules as feed_rules
from feedapp.feed import taxonomy
from feedapp.feed.currency import minor_units
from feedapp.feed.options import (
    AGE_GROUPS,
    CONDITIONS,
    FREQUENCIES,
    GENDERS,
    FeedOptions,
    FieldError,
    validate_options,
)
from feedapp.feed.problems import Problem
from feedapp.feed.publishing import remove_feed_files
from feedapp.feed.shipping import DAY_FIELDS, MODES, ShippingOptions, validate_shipping
from feedapp.jumpseller.client import ApiError, make_client
from feedapp.jumpseller.ratelimit import RateLimitTimeout
from feedapp.jumpseller.tokens import TokenError
from feedapp.messages import N_
from feedapp.services import Services
from feedapp.storefeeds import MAX_FEEDS, MAX_NAME, StoreFeed, countries, validate_market
from feedapp.stores import FeedCredentials, FeedLimitError, Store, UnknownFeed
from feedapp.web import i18n, rules_form, security
from feedapp.web.context import current_services

bp = Blueprint("page", __name__, url_prefix="/settings")
log = logging.getLogger(__name__)

OPTION_KINDS = ("color", "size", "material", "pattern")
NOTICES = (
    "saved",
    "rebuild",
    "password-off",
    "feed-added",
    "feed-removed",
    "rules-saved",
    "shipping-saved",
)
#: Examples listed per problem on the page (the build keeps up to 50).
EXAMPLES_SHOWN = 20
#: Categories offered for mapping; a store with more maps the rest through the default.
MAX_CATEGORIES = 500
#: What the page's own fetch calls show once neither the page token nor the cookie is valid.
SESSION_ENDED = N_("Your session ended; reload the app from your Jumpseller admin.")
PREVIEW_FAILED = N_(
    "Your products could not be read from Jumpseller just now, so there is no preview; "
    "try again in a moment. Nothing was saved."
)
CONFIRM_REMOVE = N_("Tick the box to confirm that this feed and its address go away.")
LAST_FEED = N_("A store keeps at least one feed: add another one before removing this one.")
TOO_MANY_FEEDS = N_("A store can have at most %(limit)d feeds.")


@dataclass
class Forms:
    """What the page shows again after a form it did not save: what was typed, and why not."""

    options: dict[str, object] | None = None
    options_errors: dict[str, str] = field(default_factory=dict)
    market: dict[str, str] | None = None
    market_errors: dict[str, str] = field(default_factory=dict)
    remove_error: str = ""
    rules: list[dict[str, Any]] | None = None
    rules_errors: dict[str, str] = field(default_factory=dict)
    preview: dict[str, object] | None = None
    preview_error: str = ""
    shipping: dict[str, object] | None = None
    shipping_errors: dict[str, str] = field(default_factory=dict)


def render_page(
    page: security.PageSession,
    store: Store,
    forms: Forms | None = None,
    *,
    status: int = 200,
    credentials: FeedCredentials | None = None,
) -> Response:
    """The whole page for a connected store and its selected feed (with new credentials, once)."""
    svc = current_services()
    forms = forms or Forms()
    categories_failed = fetch_missing(svc, store)
    store = svc.registry.get(store.code)  # as changed meanwhile: a fetch may even revoke it
    if not store.installed:
        return Response(render_template("connect/connect.html", expired=False, store=store))
    feed = selected_feed(store)
    notice = request.args.get("notice", "")
    errors = forms.options_errors
    lang = i18n.current()
    diagnostics = feed_diagnostics(svc.registry, store.code, feed.id)
    body = render_template(
        "page/page.html",
        store=store,
        feed=feed,
        feeds=feed_rows(svc, store, lang),
        max_feeds=MAX_FEEDS,
        page=page,
        feed_url=feed_url(svc, feed),
        market=market_view(store, feed, lang),
        values=forms.options if forms.options is not None else form_values(feed.options),
        errors=errors,
        map_open=any(name.startswith("category_map.") for name in errors),
        page_token=page.page_token,
        notice=notice if notice in NOTICES else "",
        status=status_view(svc, store, feed),
        problems=problem_rows(diagnostics),
        problems_version=problems_version(diagnostics),
        categories=category_rows(svc, store),
        categories_failed=categories_failed,
        conditions=CONDITIONS,
        genders=GENDERS,
        age_groups=AGE_GROUPS,
        frequencies=FREQUENCIES,
        option_kinds=OPTION_KINDS,
        credentials=credentials,
        new_feed=forms.market or {"language": store.default_language, "country": store.country},
        market_errors=forms.market_errors,
        market_open=bool(forms.market_errors),
        remove_error=forms.remove_error,
        languages=language_choices(store, lang),
        country_choices=country_choices(lang),
        max_name=MAX_NAME,
        rules=forms.rules if forms.rules is not None else rules_form.rules_draft(feed.rules),
        rules_unsaved=forms.rules is not None,
        rules_errors=forms.rules_errors,
        editor=rules_form.rules_editor(),
        preview=forms.preview,
        preview_error=forms.preview_error,
        shipping=forms.shipping
        if forms.shipping is not None
        else shipping_values(feed.shipping, store.currency),
        shipping_errors=forms.shipping_errors,
        shipping_stale=bool(feed.shipping.currency) and feed.shipping.currency != store.currency,
        shipping_modes=MODES,
        currency=store.currency,
    )
    return Response(body, status=status)


def selected_feed(store: Store) -> StoreFeed:
    """The feed the request names (``feed``), else the store's first (a removed one included)."""
    wanted = str(request.values.get("feed", "") or "")
    try:
        return store.feed(wanted) if wanted else store.first_feed
    except UnknownFeed:
        return store.first_feed


def feed_url(svc: Services, feed: StoreFeed) -> str:
    """The address Merchant Center fetches this feed from."""
    return f"{svc.config.PUBLIC_URL}/feeds/{feed.token}.xml"


def _back(
    page: security.PageSession, feed_id: str, notice: str, anchor: str | None = None
) -> Response:
    """Redirect (303) to the page showing this feed, with a notice."""
    target = url_for("connect.root", t=page.page_token, feed=feed_id, notice=notice, _anchor=anchor)
    return redirect(target, code=303)


def _translated(errors: Mapping[str, FieldError]) -> dict[str, str]:
    """Field errors in the page's language."""
    return {name: i18n.gettext(e.msgid, **e.params) for name, e in errors.items()}


# -- the store's feeds ---------------------------------------------------------------------------
@bp.post("/feeds")
def add_feed() -> Response:
    """Add a feed for another language or country; it gets its own URL and is built at once."""
    page, store = _connected_store()
    security.check_csrf(page)
    svc = current_services()
    form = {name: str(request.form.get(name, "")) for name in ("name", "language", "country")}
    values, errors = validate_market(form, store.languages)
    if not errors:
        try:
            feed = svc.registry.add_feed(
                store.code, values["name"], values["language"], values["country"]
            )
        except FeedLimitError:
            errors["name"] = FieldError(TOO_MANY_FEEDS, {"limit": MAX_FEEDS})
    if errors:
        forms = Forms(market=form, market_errors=_translated(errors))
        return render_page(page, store, forms, status=400)
    queueing.request_build(svc, store.code, reason="feed added", mode="render")
    log.info("store=%s feed=%s added (%s, %s)", store.code, feed.id, feed.language, feed.country)
    return _back(page, feed.id, "feed-added")


@bp.post("/feeds/remove")
def remove_feed() -> Response:
    """Remove the selected feed (not the store's last): its URL answers 404, its files go."""
    page, store = _connected_store()
    security.check_csrf(page)
    svc = current_services()
    feed = _posted_feed(store)
    error = ""
    if request.form.get("confirm") != "1":
        error = CONFIRM_REMOVE
    else:
        try:
            svc.registry.remove_feed(store.code, feed.id)
        except FeedLimitError:
            error = LAST_FEED
    if error:
        return render_page(page, store, Forms(remove_error=i18n.gettext(error)), status=400)
    remove_feed_files(svc.feeds_dir, store.code, feed.id)
    log.info("store=%s feed=%s removed", store.code, feed.id)
    return _back(page, svc.registry.get(store.code).first_feed.id, "feed-removed")


def _posted_feed(store: Store) -> StoreFeed:
    """The feed a form names; 404 for one the store does not have (removed meanwhile)."""
    try:
        return store.feed(str(request.form.get("feed", "") or store.first_feed.id))
    except UnknownFeed:
        abort(404)


# -- options -------------------------------------------------------------------------------------
@bp.post("/options")
def save_options() -> Response:
    """Validate and save one feed's options, then rebuild; a rejected save changes nothing."""
    page, store = _connected_store()
    security.check_csrf(page)
    svc = current_services()
    feed = _posted_feed(store)
    submitted = submitted_values(request.form)
    cached = (svc.registry.get_json(store.code, "categories") or {}).get("categories") or []
    known = {str(category.get("id")) for category in cached}
    form = dict(submitted)
    form["default_google_category"] = _category_id(str(submitted["default_google_category"]))
    form["category_map"] = {
        k: _category_id(v) for k, v in submitted["category_map"].items() if k in known
    }
    options, errors = validate_options(form, known_category=_known_category)
    if errors:
        forms = Forms(options=submitted, options_errors=_translated(errors))
        return render_page(page, store, forms, status=400)
    svc.registry.update_feed(store.code, feed.id, lambda f: setattr(f, "options", options))
    queueing.request_build(svc, store.code, reason="settings changed", mode="render")
    log.info("store=%s feed=%s options saved", store.code, feed.id)
    return _back(page, feed.id, "saved")


# -- rules ---------------------------------------------------------------------------------------
@bp.post("/rules")
def save_rules() -> Response:
    """The rules editor: edit the list (unsaved), preview it, or validate and save it.

    The buttons post the whole list with an ``op``: ``add-rule``, ``up-2``, ``delete-2``,
    ``add-condition-2``, ``remove-action-2-0``... re-show the edited list without saving;
    ``preview`` shows what the rules would do to a sample of products; ``save`` saves them.
    """
    page, store = _connected_store()
    security.check_csrf(page)
    svc = current_services()
    feed = _posted_feed(store)
    draft = rules_form.posted_rules(request.form)
    op = str(request.form.get("op", "save"))[:40]
    edit = rules_form.EDIT_OP.fullmatch(op)
    if edit is not None:
        return render_page(page, store, Forms(rules=rules_form.edited(draft, edit)))
    known = rules_form.category_check(svc, store)
    rules, errors = feed_rules.parse_rules(rules_form.rules_document(draft), known_category=known)
    if errors:
        forms = Forms(rules=draft, rules_errors=rules_form.rule_errors(errors, draft))
        return render_page(page, store, forms, status=400)
    if op == "preview":
        forms = Forms(rules=draft)
        try:
            forms.preview = rules_form.preview_rules(svc, store, feed, rules)
        except (TokenError, ApiError, RateLimitTimeout) as exc:
            log.warning("store=%s rules preview without products: %s", store.code, exc)
            forms.preview_error = i18n.gettext(PREVIEW_FAILED)
        return render_page(page, store, forms)
    description = str(feed.rules.get("description") or "")

    def change(target: StoreFeed) -> None:
        target.rules = feed_rules.dump_rules(rules, description)

    svc.registry.update_feed(store.code, feed.id, change)
    queueing.request_build(svc, store.code, reason="rules changed", mode="render")
    log.info("store=%s feed=%s %d rules saved", store.code, feed.id, len(rules))
    return _back(page, feed.id, "rules-saved", "rules")


# -- shipping ------------------------------------------------------------------------------------
@bp.post("/shipping")
def save_shipping() -> Response:
    """Validate and save one feed's shipping, then rebuild; a rejected save changes nothing."""
    page, store = _connected_store()
    security.check_csrf(page)
    svc = current_services()
    feed = _posted_feed(store)
    names = ("mode", "flat_price", "free_above", "service", *_DAY_NAMES)
    submitted = {name: str(request.form.get(name, "")) for name in names}
    options, errors = validate_shipping(submitted, store.currency)
    if errors:
        forms = Forms(shipping=submitted, shipping_errors=_translated(errors))
        return render_page(page, store, forms, status=400)
    svc.registry.update_feed(store.code, feed.id, lambda f: setattr(f, "shipping", options))
    queueing.request_build(svc, store.code, reason="shipping changed", mode="render")
    log.info("store=%s feed=%s shipping saved (%s)", store.code, feed.id, options.mode)
    return _back(page, feed.id, "shipping-saved", "shipping")


_DAY_NAMES = tuple(name for _, name in DAY_FIELDS)


def shipping_values(options: ShippingOptions, currency: str) -> dict[str, object]:
    """Saved shipping as the form shows it: amounts in major units of the store's currency."""
    values: dict[str, object] = {"mode": options.mode, "service": options.service}
    unit = options.currency or currency
    for name in ("flat_price", "free_above"):
        amount = getattr(options, name)
        values[name] = "" if amount is None else f"{Decimal(amount).scaleb(-minor_units(unit)):f}"
    for name in _DAY_NAMES:
        days = getattr(options, name)
        values[name] = "" if days is None else str(days)
    return values


# -- store-wide actions ----------------------------------------------------------------------
@bp.post("/rebuild")
def rebuild() -> Response:
    """Queue a build of every feed for "Rebuild now" (or mark a running one for a follow-up)."""
    page, store = _connected_store()
    security.check_csrf(page)
    svc = current_services()
    force = request.form.get("force") == "1"  # the merchant confirmed a much smaller feed
    result = queueing.request_build(svc, store.code, reason="rebuild now", force=force)
    if request.accept_mimetypes.best == "application/json":
        message = i18n.gettext(i18n.REBUILD_RESULTS[result])
        return jsonify(result=result, message=message, **_status_payload(svc, store))
    return _back(page, selected_feed(store).id, "rebuild")


@bp.post("/feed-password")
def protect_feed() -> Response:
    """Turn on the feeds' password (or replace it) and show the credentials in this answer only.

    The page is rendered here rather than redirected to: the password must not travel in a URL,
    and nothing keeps it to show later (the store keeps only its digest).
    """
    page, store = _connected_store()
    security.check_csrf(page)
    credentials = current_services().registry.protect_feed(store.code)
    log.info("store=%s feed password protection turned on", store.code)
    return render_page(page, store, credentials=credentials)


@bp.post("/feed-password/off")
def unprotect_feed() -> Response:
    """Serve the feeds without a password again, at the same addresses."""
    page, store = _connected_store()
    security.check_csrf(page)
    current_services().registry.unprotect_feed(store.code)
    log.info("store=%s feed password protection turned off", store.code)
    return _back(page, selected_feed(store).id, "password-off")


@bp.get("/status")
def build_status() -> Response | tuple[Response, int]:
    """The build status the page polls (often while a build waits or runs, slowly otherwise);
    with ``problems``, the version of the problem list the page shows, a newer list comes too."""
    page = security.current_session()
    store = current_services().registry.find(page.store_code) if page else None
    if store is None:
        return jsonify(error="session", message=i18n.gettext(SESSION_ENDED)), 401
    return jsonify(_status_payload(current_services(), store, request.args.get("problems")))


@bp.get("/taxonomy")
def taxonomy_search() -> Response | tuple[Response, int]:
    """Google categories matching the typed words, for the category pickers."""
    if security.current_session() is None:
        return jsonify(error="session", message=i18n.gettext(SESSION_ENDED)), 401
    query = request.args.get("q", "")[:100]
    found = taxonomy.search(query, limit=20)
    return jsonify(
        results=[{"id": cid, "path": path, "label": f"{cid} - {path}"} for cid, path in found]
    )


def _connected_store() -> tuple[security.PageSession, Store]:
    """The session and its store for a change: 401 without a session, 409 once disconnected."""
    page = security.current_session()
    store = current_services().registry.find(page.store_code) if page else None
    if page is None or store is None:
        abort(401)
    if not store.installed:
        abort(409)
    return page, store


def _status_payload(
    svc: Services, store: Store, shown_problems: str | None = None
) -> dict[str, object]:
    """The selected feed's status panel and figures, for the page's live updates; given the
    version of the problem list the page shows, the list's current version, and the list itself
    when that changed (a build or a webhook's update published the feed since)."""
    feed = selected_feed(store)
    view = status_view(svc, store, feed)
    page = security.current_session()
    html = render_template("page/_status.html", status=view, page=page)
    payload: dict[str, object] = {
        "state": view["state"],
        "percent": view["percent"],
        "items": view["item_count"],
        "html": html,
    }
    if shown_problems is not None:
        diagnostics = feed_diagnostics(svc.registry, store.code, feed.id)
        version = problems_version(diagnostics)
        payload["problems"] = version
        if version != shown_problems:
            rows = problem_rows(diagnostics)
            payload["problems_html"] = render_template("page/_problems.html", problems=rows)
    return payload


# -- what the page shows ------------------------------------------------------------------
def feed_rows(svc: Services, store: Store, lang: str) -> list[dict[str, Any]]:
    """The store's feeds for the list at the top: who each is for, its URL and its last build."""
    statuses = {row["id"]: row for row in store_status(svc, store.code)["feeds"]}
    rows = []
    for feed in store.feeds:
        status = statuses.get(feed.id) or {}
        state = str(status.get("state") or "never")
        rows.append(
            {
                "id": feed.id,
                "name": feed.name,
                "language": language_name(feed.language or store.default_language, lang),
                "country": country_name(feed.country or store.country, lang),
                "url": feed_url(svc, feed),
                "state": state,
                "state_text": i18n.gettext(i18n.BUILD_STATES[state]),
                "item_count": status.get("items"),
            }
        )
    return rows


def market_view(store: Store, feed: StoreFeed, lang: str) -> dict[str, object]:
    """Who the selected feed is for, and what Merchant Center does about its currency there."""
    country = feed.country or store.country
    local = get_territory_currencies(country) if country else []
    return {
        "language": language_name(feed.language or store.default_language, lang),
        "country": country_name(country, lang),
        "currency": store.currency,
        "local": local[0] if local and store.currency not in local else "",
    }


def language_name(code: str, lang: str) -> str:
    """A language code as the page's language names it, with the code: "portugués (pt)"."""
    if not code:
        return i18n.gettext("The store's default language")
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(lang)
    except (ValueError, TypeError):
        name = None
    return f"{name} ({code})" if name else code


def country_name(code: str, lang: str) -> str:
    """A country code as the page's language names it."""
    return Locale(lang).territories.get(code, code) if code else "—"


def language_choices(store: Store, lang: str) -> list[dict[str, str]]:
    """The store's languages to pick a new feed's from, the default one first."""
    codes = list(dict.fromkeys([store.default_language, *store.languages]))
    return [{"value": code, "label": language_name(code, lang)} for code in codes if code]


def country_choices(lang: str) -> list[dict[str, str]]:
    """Every country, named and sorted in the page's language."""
    names = Locale(lang).territories
    found = [{"value": code, "label": f"{names.get(code, code)} ({code})"} for code in countries()]
    return sorted(found, key=lambda row: row["label"].casefold())


def status_view(svc: Services, store: Store, feed: StoreFeed) -> dict[str, object]:
    """The store's build and this feed's outcome and last good build, written for the merchant."""
    lang = i18n.current()
    current = store_status(svc, store.code)
    own = next((row for row in current["feeds"] if row["id"] == feed.id), {})
    state = str(own.get("state") or current["state"])
    last_good = feed_last_good(svc.registry, store.code, feed.id)
    progress = current.get("progress") or {}
    done, total = progress.get("pages_done") or 0, progress.get("pages_total") or 0
    percent = 100 if state == "ok" else (int(100 * done / total) if total else 0)
    finished = last_good.get("finished_at")
    next_text = i18n.gettext("after the first build")
    if finished:
        due = float(finished) + feed.options.frequency_hours * 3600
        soon = i18n.gettext("in the next few minutes")
        next_text = _when(due, store, lang) if due > time.time() + 300 else soon
    kind = str(own.get("error_kind") or "")
    return {
        "feed": feed.id,
        "state": state,
        "state_text": i18n.gettext(i18n.BUILD_STATES[state]),
        "percent": percent,
        "pages_done": done,
        "pages_total": total,
        "item_count": last_good.get("items"),
        "product_count": last_good.get("products"),
        "left_out": last_good.get("left_out") or 0,
        "last_at": _when(float(finished), store, lang) if finished else "",
        "duration": _duration(float(last_good.get("duration") or 0), lang) if finished else "",
        "next_at": next_text,
        "error": own.get("error") or "",
        "collapse": own.get("collapse"),
        "error_kind": kind or "unexpected",
        "error_text": i18n.gettext(i18n.ERROR_KINDS.get(kind, i18n.ERROR_KINDS["unexpected"])),
    }


def _when(timestamp: float, store: Store, lang: str) -> str:
    """A moment in the store's time zone, written the page language's way."""
    try:
        zone = ZoneInfo(store.timezone) if store.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    moment = datetime.fromtimestamp(timestamp, UTC)
    return format_datetime(moment, "medium", tzinfo=zone, locale=lang)


def _duration(seconds: float, lang: str) -> str:
    """A duration in words ("42 seconds"), at least a second."""
    return format_timedelta(
        timedelta(seconds=max(seconds, 1)), threshold=2, format="long", locale=lang
    )


def problems_version(diagnostics: dict | None) -> str:
    """A short digest of a feed's stored problems ("" before a build), so the page knows when the
    list it shows is out of date (the diagnostics carry no build id of their own)."""
    if diagnostics is None:
        return ""
    text = json.dumps(diagnostics, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def problem_rows(diagnostics: dict | None) -> list[dict[str, Any]] | None:
    """The feed's last good build's problems (feed_diagnostics) with what to change; None before
    a build."""
    if diagnostics is None:
        return None
    lang = i18n.current()
    rows = []
    for entry in diagnostics.get("problems", []):
        examples = list(entry.get("examples") or [])
        code = str(entry.get("code", ""))
        rows.append(
            {
                "code": code,
                "severity": "error" if entry.get("severity") == "error" else "warning",
                "count": int(entry.get("count", 0)),
                "advice": _advice(code, str(entry.get("severity", "")), examples, lang),
                "examples": examples[:EXAMPLES_SHOWN],
                "more": max(0, int(entry.get("count", 0)) - min(len(examples), EXAMPLES_SHOWN)),
            }
        )
    return rows


def _advice(code: str, severity: str, examples: list[dict], lang: str) -> str:
    """What to change in Jumpseller for a problem, worded with its first example."""
    first = examples[0] if examples else {}
    problem = Problem(
        code=code,
        severity=severity,
        product_id=str(first.get("product_id") or ""),
        variant_id=first.get("variant_id"),
        item_id=str(first.get("item_id") or ""),
        product_name=str(first.get("product_name") or ""),
        detail=str(first.get("detail") or ""),
    )
    return i18n.describe(problem, lang)


def fetch_missing(svc: Services, store: Store) -> bool:
    """Read the categories and languages the page needs but no build stored yet (a first build
    may still be running) from Jumpseller, once; whether the categories could not be read."""
    need_categories = svc.registry.get_json(store.code, "categories") is None
    if not store.installed or not (need_categories or not store.languages):
        return False
    failed = False
    client = make_client(svc, store.code)
    client.max_attempts = 2
    try:
        if need_categories:
            svc.registry.set_json(store.code, "categories", {"categories": client.categories()})
        if not store.languages:
            languages = client.languages()
            if languages:
                svc.registry.update(store.code, lambda s: _set_languages(s, languages))
    except (TokenError, ApiError) as exc:
        log.warning(
            "store=%s categories or languages unavailable for the page: %s", store.code, exc
        )
        failed = svc.registry.get_json(store.code, "categories") is None
    finally:
        client.close()
    return failed


def _set_languages(store: Store, languages: list[str]) -> None:
    """The store's languages as a build records them, the first being the default."""
    store.languages = languages
    store.default_language = store.default_language or languages[0]


def category_rows(svc: Services, store: Store) -> list[dict[str, str]]:
    """The store's cached categories as "Parent > Child", sorted."""
    cached = svc.registry.get_json(store.code, "categories")
    raw = list((cached or {}).get("categories") or [])[:MAX_CATEGORIES]
    context = taxonomy.CatalogContext(raw)
    rows = []
    for category in raw:
        cid = str(category.get("id", ""))
        if cid:
            path = " > ".join(context.path(cid)) or str(category.get("name") or cid)
            rows.append({"id": cid, "path": path})
    rows.sort(key=lambda row: row["path"].casefold())
    return rows


# -- the options form ---------------------------------------------------------------------
def form_values(options: FeedOptions) -> dict[str, object]:
    """The saved options as the form shows them."""
    values: dict[str, object] = dict(options.to_dict())
    for kind in OPTION_KINDS:
        values[f"{kind}_options"] = ", ".join(getattr(options, f"{kind}_options"))
    values["default_google_category"] = _category_label(options.default_google_category)
    values["category_map"] = {k: _category_label(v) for k, v in options.category_map.items()}
    return values


def submitted_values(form: Mapping[str, str]) -> dict[str, object]:
    """The posted form as plain values, re-shown as typed when the save is rejected."""
    values: dict[str, object] = {
        name: str(form.get(name, "")) for name in form if not name.startswith("category_map.")
    }
    for name in ("include_out_of_stock", "include_not_available", "sku_is_mpn"):
        values[name] = str(form.get(name, "")).lower() in ("1", "true", "on", "yes")
    values.setdefault("default_google_category", "")
    values["category_map"] = {
        name.partition(".")[2]: str(value).strip()
        for name, value in form.items()
        if name.startswith("category_map.") and name.partition(".")[2]
    }
    return values


def _category_label(value: str) -> str:
    """A Google category id as the picker shows it ("187 - Apparel & Accessories > Shoes")."""
    found = taxonomy.lookup(value) if value else None
    return f"{found[0]} - {found[1]}" if found else value


def _category_id(value: str) -> str:
    """A picker label ("187 - Apparel & Accessories > Shoes") as the id the feed uses."""
    found = taxonomy.lookup(value.strip()) if value.strip() else None
    return str(found[0]) if found else value.strip()


def _known_category(value: str) -> bool:
    """Whether Google's taxonomy has this category."""
    return taxonomy.lookup(value) is not None
