"""The merchant's page in the admin iframe: feed URL, options, build status, problems, rebuilds."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime, format_timedelta
from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for

from feedapp.builds import queueing
from feedapp.builds.status import store_status
from feedapp.feed import taxonomy
from feedapp.feed.options import (
    AGE_GROUPS,
    CONDITIONS,
    FREQUENCIES,
    GENDERS,
    FeedOptions,
    validate_options,
)
from feedapp.feed.problems import Problem
from feedapp.jumpseller.client import ApiError, make_client
from feedapp.jumpseller.tokens import TokenError
from feedapp.messages import N_
from feedapp.services import Services
from feedapp.stores import FeedCredentials, Store
from feedapp.web import i18n, security
from feedapp.web.context import current_services

bp = Blueprint("page", __name__, url_prefix="/settings")
log = logging.getLogger(__name__)

OPTION_KINDS = ("color", "size", "material", "pattern")
NOTICES = ("saved", "rebuild", "password-off")
#: Examples listed per problem on the page (the build keeps up to 50).
EXAMPLES_SHOWN = 20
#: Categories offered for mapping; a store with more maps the rest through the default.
MAX_CATEGORIES = 500
#: What the page's own fetch calls show once neither the page token nor the cookie is valid.
SESSION_ENDED = N_("Your session ended; reload the app from your Jumpseller admin.")


def render_page(
    page: security.PageSession,
    store: Store,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    credentials: FeedCredentials | None = None,
) -> Response:
    """The whole settings page for a connected store (with new feed credentials, shown once)."""
    svc = current_services()
    categories, categories_failed = category_rows(svc, store)
    store = svc.registry.get(store.code)  # a category fetch may have refreshed tokens or revoked
    if not store.installed:
        return Response(render_template("connect/connect.html", expired=False, store=store))
    notice = request.args.get("notice", "")
    body = render_template(
        "page/page.html",
        store=store,
        page=page,
        feed_url=f"{svc.config.PUBLIC_URL}/feeds/{store.feed_token}.xml",
        values=values if values is not None else form_values(store.options),
        errors=errors or {},
        map_open=any(name.startswith("category_map.") for name in errors or {}),
        page_token=page.page_token,
        notice=notice if notice in NOTICES else "",
        status=status_view(svc, store),
        problems=problem_rows(svc, store),
        categories=categories,
        categories_failed=categories_failed,
        conditions=CONDITIONS,
        genders=GENDERS,
        age_groups=AGE_GROUPS,
        frequencies=FREQUENCIES,
        option_kinds=OPTION_KINDS,
        credentials=credentials,
    )
    return Response(body, status=status)


@bp.post("/options")
def save_options() -> Response:
    """Validate and save the feed options, then rebuild; a rejected save changes nothing."""
    page, store = _connected_store()
    security.check_csrf(page)
    svc = current_services()
    submitted = submitted_values(request.form)
    cached = (svc.registry.get_json(store.code, "categories") or {}).get("categories") or []
    known = {str(category.get("id")) for category in cached}
    form = dict(submitted)
    form["default_google_category"] = _category_id(str(submitted["default_google_category"]))
    form["category_map"] = {
        k: _category_id(v) for k, v in submitted["category_map"].items() if k in known
    }
    options, errors = validate_options(
        form, known_category=_known_category, languages=store.languages
    )
    if errors:
        translated = {field: i18n.gettext(e.msgid, **e.params) for field, e in errors.items()}
        return render_page(page, store, values=submitted, errors=translated, status=400)
    svc.registry.save_options(store.code, options)
    queueing.request_build(svc, store.code, reason="settings changed")
    log.info("store=%s feed options saved", store.code)
    return redirect(url_for("connect.root", t=page.page_token, notice="saved"), code=303)


@bp.post("/rebuild")
def rebuild() -> Response:
    """Queue a build for "Rebuild now" (or mark a running one for a follow-up build)."""
    page, store = _connected_store()
    security.check_csrf(page)
    svc = current_services()
    force = request.form.get("force") == "1"  # the merchant confirmed a much smaller feed
    result = queueing.request_build(svc, store.code, reason="rebuild now", force=force)
    if request.accept_mimetypes.best == "application/json":
        message = i18n.gettext(i18n.REBUILD_RESULTS[result])
        return jsonify(result=result, message=message, **_status_payload(svc, store))
    return redirect(url_for("connect.root", t=page.page_token, notice="rebuild"), code=303)


@bp.post("/feed-password")
def protect_feed() -> Response:
    """Turn on the feed's password (or replace it) and show the credentials in this answer only.

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
    """Serve the feed without a password again, at the same address."""
    page, store = _connected_store()
    security.check_csrf(page)
    current_services().registry.unprotect_feed(store.code)
    log.info("store=%s feed password protection turned off", store.code)
    return redirect(url_for("connect.root", t=page.page_token, notice="password-off"), code=303)


@bp.get("/status")
def build_status() -> Response | tuple[Response, int]:
    """The build status for the page's live progress bar (polled while a build runs)."""
    page = security.current_session()
    store = current_services().registry.find(page.store_code) if page else None
    if store is None:
        return jsonify(error="session", message=i18n.gettext(SESSION_ENDED)), 401
    return jsonify(_status_payload(current_services(), store))


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
    page = security.current_session()
    store = current_services().registry.find(page.store_code) if page else None
    if page is None or store is None:
        abort(401)
    if not store.installed:
        abort(409)
    return page, store


def _status_payload(svc: Services, store: Store) -> dict[str, object]:
    view = status_view(svc, store)
    page = security.current_session()
    html = render_template("page/_status.html", status=view, page=page)
    return {
        "state": view["state"],
        "percent": view["percent"],
        "items": view["item_count"],
        "html": html,
    }


# -- what the page shows ------------------------------------------------------------------
def status_view(svc: Services, store: Store) -> dict[str, object]:
    """Build status with times and durations written for the merchant."""
    lang = i18n.current()
    current = store_status(svc, store.code)
    last_good = svc.registry.get_json(store.code, "last_good") or {}
    progress = current.get("progress") or {}
    done, total = progress.get("pages_done") or 0, progress.get("pages_total") or 0
    percent = 100 if current["state"] == "ok" else (int(100 * done / total) if total else 0)
    finished = last_good.get("finished_at")
    next_text = i18n.gettext("after the first build")
    if finished:
        due = float(finished) + store.options.frequency_hours * 3600
        soon = i18n.gettext("in the next few minutes")
        next_text = _when(due, store, lang) if due > time.time() + 300 else soon
    return {
        "state": current["state"],
        "state_text": i18n.gettext(i18n.BUILD_STATES[current["state"]]),
        "percent": percent,
        "pages_done": done,
        "pages_total": total,
        "item_count": last_good.get("items"),
        "product_count": last_good.get("products"),
        "left_out": last_good.get("left_out") or 0,
        "last_at": _when(float(finished), store, lang) if finished else "",
        "duration": _duration(float(last_good.get("duration") or 0), lang) if finished else "",
        "next_at": next_text,
        "error": current.get("error") or "",
        "collapse": current.get("collapse"),
        "error_kind": current.get("error_kind") or "unexpected",
        "error_text": i18n.gettext(
            i18n.ERROR_KINDS.get(current.get("error_kind") or "", i18n.ERROR_KINDS["unexpected"])
        ),
    }


def _when(timestamp: float, store: Store, lang: str) -> str:
    try:
        zone = ZoneInfo(store.timezone) if store.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    moment = datetime.fromtimestamp(timestamp, UTC)
    return format_datetime(moment, "medium", tzinfo=zone, locale=lang)


def _duration(seconds: float, lang: str) -> str:
    return format_timedelta(
        timedelta(seconds=max(seconds, 1)), threshold=2, format="long", locale=lang
    )


def problem_rows(svc: Services, store: Store) -> list[dict[str, object]] | None:
    """The last good build's problems with what to change in Jumpseller; None before a build."""
    diagnostics = svc.registry.get_json(store.code, "diagnostics")
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


def category_rows(svc: Services, store: Store) -> tuple[list[dict[str, str]], bool]:
    """The store's categories as "Parent > Child" (fetched once if no build cached them)."""
    cached = svc.registry.get_json(store.code, "categories")
    if cached is None and store.installed:
        client = make_client(svc, store.code)
        client.max_attempts = 2
        try:
            cached = {"categories": client.categories()}
        except (TokenError, ApiError) as exc:
            log.warning("store=%s categories unavailable for the page: %s", store.code, exc)
            return [], True
        finally:
            client.close()
        svc.registry.set_json(store.code, "categories", cached)
    raw = list((cached or {}).get("categories") or [])[:MAX_CATEGORIES]
    context = taxonomy.CatalogContext(raw)
    rows = []
    for category in raw:
        cid = str(category.get("id", ""))
        if cid:
            path = " > ".join(context.path(cid)) or str(category.get("name") or cid)
            rows.append({"id": cid, "path": path})
    rows.sort(key=lambda row: row["path"].casefold())
    return rows, False


# -- the options form ---------------------------------------------------------------------
def form_values(options: FeedOptions) -> dict[str, object]:
    """The saved options as the form shows them."""
    values: dict[str, object] = dict(options.to_dict())
    for kind in OPTION_KINDS:
        values[f"{kind}_options"] = ", ".join(getattr(options, f"{kind}_options"))
    values["default_google_category"] = _category_label(options.default_google_category)
    values["category_map"] = {k: _category_label(v) for k, v in options.category_map.items()}
    return values


def submitted_values(form: dict) -> dict[str, object]:
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
    found = taxonomy.lookup(value) if value else None
    return f"{found[0]} - {found[1]}" if found else value


def _category_id(value: str) -> str:
    """A picker label ("187 - Apparel & Accessories > Shoes") as the id the feed uses."""
    found = taxonomy.lookup(value.strip()) if value.strip() else None
    return str(found[0]) if found else value.strip()


def _known_category(value: str) -> bool:
    return taxonomy.lookup(value) is not None
