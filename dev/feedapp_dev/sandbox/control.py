"""Test-only control surface under /_sandbox: tune the sandbox and change stores while it runs.

No authentication: the sandbox is a local stand-in and must never face the internet.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify, request

from feedapp_dev.sandbox.state import SandboxState
from feedapp_dev.sandbox.webhooks import deliver

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")

_STOCK_FIELDS = ("stock", "stock_unlimited", "variants")


def _state() -> SandboxState:
    return current_app.extensions["sandbox"]


@bp.get("/config")
def config() -> Response:
    """The config in force."""
    return jsonify(_state().config.as_dict())


@bp.post("/config")
def change_config() -> Response | tuple[Response, int]:
    """Change any config at run time: limits, faults, latency, token TTL, auto_approve..."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"message": "send a JSON object of config to change"}), 400
    try:
        changed = _state().change_config(body)
    except ValueError as exc:
        return jsonify({"message": str(exc)}), 400
    return jsonify(changed.as_dict())


@bp.get("/stats")
def stats() -> Response:
    """Requests, 429s, bans, faults, concurrency and refresh-token uses so far."""
    return jsonify(_state().snapshot())


@bp.get("/stores/<code>")
def store(code: str) -> Response:
    """A store's info (with hooks_token), size and hooks, without going through OAuth."""
    state = _state()
    with state.lock:
        shop = state.store(code)
        return jsonify(
            {
                "store": shop.info(),
                "count": shop.count(),
                "seed": shop.seed,
                "hooks": list(shop.hooks.values()),
            }
        )


@bp.post("/stores/<code>/reset")
def reset(code: str) -> Response | tuple[Response, int]:
    """Regenerate a store's catalogue from {"product_count", "seed"}; creates the store if new."""
    body = request.get_json(silent=True) or {}
    state = _state()
    with state.lock:
        shop = state.store(code)
        count = body.get("product_count", shop.product_count)
        seed = body.get("seed", shop.seed)
        if (
            not all(isinstance(v, int) and not isinstance(v, bool) for v in (count, seed))
            or count < 0
        ):
            return jsonify({"message": "product_count and seed must be integers >= 0"}), 400
        shop.reset(count, seed)
        return jsonify({"code": code, "count": shop.count(), "seed": seed})


@bp.post("/stores/<code>/products")
def add_product(code: str) -> Response | tuple[Response, int]:
    """Add a product from the posted fields (defaults fill the rest); fires product_created."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"message": "send a JSON object of product fields"}), 400
    state = _state()
    with state.lock:
        shop = state.store(code)
        product = shop.add(body.get("product", body))
        deliver(state, shop, "product_created", product)
    return jsonify({"product": product})


@bp.post("/stores/<code>/products/<int:product_id>")
def edit_product(code: str, product_id: int) -> Response | tuple[Response, int]:
    """Change fields of a product and bump updated_at; fires product_updated (and stock)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"message": "send a JSON object of fields to change"}), 400
    changes = body.get("product", body)
    state = _state()
    with state.lock:
        shop = state.store(code)
        product = shop.edit(product_id, changes)
        if product is None:
            return jsonify({"message": f"store {code} has no product {product_id}"}), 404
        deliver(state, shop, "product_updated", product)
        if any(field in changes for field in _STOCK_FIELDS):
            deliver(state, shop, "product_stock_updated", product)
    return jsonify({"product": product})


@bp.delete("/stores/<code>/products/<int:product_id>")
def delete_product(code: str, product_id: int) -> Response | tuple[Response, int]:
    """Remove a product; fires product_deleted with what it was."""
    state = _state()
    with state.lock:
        shop = state.store(code)
        product = shop.delete(product_id)
        if product is None:
            return jsonify({"message": f"store {code} has no product {product_id}"}), 404
        deliver(state, shop, "product_deleted", product)
    return jsonify({"deleted": product_id})


@bp.post("/tokens/expire")
def expire_tokens() -> Response:
    """Expire every access token now, to exercise the client's refresh path."""
    state = _state()
    with state.lock:
        count = state.grants.expire_all(time.time())
    return jsonify({"expired": count})
