"""The REST API under /v1 with the shapes live Jumpseller returns (objects wrapped by type)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from feedapp_dev.sandbox.gate import requires
from feedapp_dev.sandbox.state import SandboxState
from feedapp_dev.sandbox.store import HOOK_EVENTS, SandboxStore

bp = Blueprint("sandbox_api", __name__, url_prefix="/v1")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def _store() -> SandboxStore:
    return g.sandbox_store


def _state() -> SandboxState:
    return current_app.extensions["sandbox"]


@bp.get("/store/info.json")
@requires("read_store")
def store_info() -> Response:
    """Live replies wrap the store: {"store": {...}} (the spec shows it bare)."""
    with _state().lock:
        return jsonify({"store": _store().info()})


@bp.get("/store/languages.json")
@requires("read_store")
def store_languages() -> Response:
    """The store's languages as the spec's bare {"code", "name"}; the first is the default."""
    with _state().lock:
        return jsonify(_store().language_list())


@bp.get("/products.json")
@requires("read_products")
def products() -> Response:
    """A page of products in `locale` (the default language without one); past the end []."""
    page = max(_int_arg("page", 1), 1)
    limit = _int_arg("limit", DEFAULT_LIMIT)
    limit = DEFAULT_LIMIT if limit < 1 else min(limit, MAX_LIMIT)
    with _state().lock:
        rows = _store().page(page, limit, request.args.get("locale"))
    return jsonify([{"product": row} for row in rows])


@bp.get("/products/count.json")
@requires("read_products")
def products_count() -> Response:
    """How many products there are, so pages can be fetched in parallel (in any locale)."""
    with _state().lock:
        return jsonify({"count": _store().count()})


@bp.get("/products/<int:product_id>.json")
@requires("read_products")
def product(product_id: int) -> Response:
    """One product in `locale` (the default language without one), or 404."""
    with _state().lock:
        row = _store().product(product_id, request.args.get("locale"))
    if row is None:
        return _not_found("Product")
    return jsonify({"product": row})


@bp.get("/categories.json")
@requires("read_store", "read_categories")
def categories() -> Response:
    """Every category, each wrapped as {"category": {...}}."""
    with _state().lock:
        rows = list(_store().categories)
    return jsonify([{"category": row} for row in rows])


@bp.get("/hooks.json")
@requires("read_hooks")
def hooks() -> Response:
    """The store's webhooks."""
    with _state().lock:
        rows = list(_store().hooks.values())
    return jsonify([{"hook": row} for row in rows])


@bp.post("/hooks.json")
@requires("write_hooks")
def create_hook() -> Response:
    """Register a webhook from {"hook": {"event", "url"}}."""
    body = request.get_json(silent=True)
    hook = body.get("hook") if isinstance(body, dict) else None
    event = hook.get("event") if isinstance(hook, dict) else None
    url = hook.get("url") if isinstance(hook, dict) else None
    if event not in HOOK_EVENTS:
        return _unprocessable(f"event must be one of: {', '.join(HOOK_EVENTS)}")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _unprocessable("url must be an http(s) URL")
    with _state().lock:
        row = _store().add_hook(event, url)
    return jsonify({"hook": row})


@bp.get("/hooks/<int:hook_id>.json")
@requires("read_hooks")
def hook(hook_id: int) -> Response:
    """One webhook, or 404."""
    with _state().lock:
        row = _store().hooks.get(hook_id)
    return jsonify({"hook": row}) if row else _not_found("Hook")


@bp.delete("/hooks/<int:hook_id>.json")
@requires("write_hooks")
def delete_hook(hook_id: int) -> Response:
    """Remove a webhook; the spec says the reply is a JSON string."""
    with _state().lock:
        row = _store().hooks.pop(hook_id, None)
    return jsonify("Hook deleted") if row else _not_found("Hook")


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


def _not_found(kind: str) -> Response:
    reply = jsonify({"message": f"{kind} not found"})
    reply.status_code = 404
    return reply


def _unprocessable(message: str) -> Response:
    reply = jsonify({"message": message})
    reply.status_code = 422
    return reply
