"""GET /healthz: lets the proxy and the orchestrator tell a working web process from a stuck one."""

from __future__ import annotations

from flask import Blueprint, jsonify
from redis.exceptions import RedisError

from feedapp.web.context import current_services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when Redis answers, 503 otherwise."""
    try:
        current_services().redis.ping()
    except (RedisError, OSError) as exc:
        return jsonify(status="unavailable", redis=f"unreachable: {type(exc).__name__}"), 503
    return jsonify(status="ok", redis="ok")
