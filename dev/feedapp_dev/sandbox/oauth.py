"""Jumpseller's accounts server: the approval page and the token endpoint (RFC 6749 code flow)."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template_string,
    request,
)

from feedapp_dev.sandbox.grants import GrantError
from feedapp_dev.sandbox.state import SandboxState

bp = Blueprint("sandbox_oauth", __name__, url_prefix="/oauth")

OOB_URI = "urn:ietf:wg:oauth:2.0:oob"
_RESOURCES = (
    "apps",
    "categories",
    "checkout_custom_fields",
    "countries",
    "custom_fields",
    "customer_categories",
    "customers",
    "fulfillments",
    "hooks",
    "jsapps",
    "locations",
    "orders",
    "pages",
    "payment_methods",
    "products",
    "promotions",
    "reviews",
    "settings",
    "shipping_methods",
    "store",
    "store_setup",
    "taxes",
    "transaction_ledgers",
)
KNOWN_SCOPES = frozenset(f"{verb}_{r}" for verb in ("read", "write") for r in _RESOURCES)

_PAGE = """<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>{{ title }} · Jumpseller (sandbox)</title>
<style>
 body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1d2433}
 .card{max-width:460px;margin:8vh auto;background:#fff;border-radius:10px;padding:28px 32px;
       box-shadow:0 2px 12px rgba(0,0,0,.08)}
 h1{font-size:20px;margin:0 0 6px} .muted{color:#6b7385;font-size:14px}
 ul{padding-left:20px} li{margin:4px 0} code{background:#eef0f4;padding:1px 5px;border-radius:4px}
 .actions{display:flex;gap:12px;margin-top:22px}
 button{flex:1;padding:10px;border-radius:6px;border:1px solid #c5cad5;font-size:15px;
        cursor:pointer}
 .approve{background:#1d6ef2;border-color:#1d6ef2;color:#fff} .deny{background:#fff}
</style></head><body><div class="card">
{% if error %}
 <h1>{{ title }}</h1><p>{{ error }}</p>
{% elif code %}
 <h1>{{ title }}</h1><p class="muted">Copia este código en la aplicación:</p>
 <p><code>{{ code }}</code></p>
{% else %}
 <p class="muted">Jumpseller (sandbox) · tienda <strong>{{ store_name }}</strong>
  ({{ store_code }})</p>
 <h1>{{ title }}</h1>
 <p>La aplicación <strong>{{ client_id }}</strong> pide acceso a tu tienda:</p>
 <ul>{% for scope in scopes %}
  <li><code>{{ scope }}</code> {{ describe(scope) }}</li>{% endfor %}
 </ul>
 <p class="muted">Volverás a {{ redirect_uri }}</p>
 <form method="post" action="{{ url_for('sandbox_oauth.decide') }}" class="actions">
  {% for name, value in fields.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
  {% endfor %}
  <button class="deny" name="decision" value="deny">Denegar</button>
  <button class="approve" name="decision" value="approve">Autorizar</button>
 </form>
{% endif %}
</div></body></html>"""


def _state() -> SandboxState:
    return current_app.extensions["sandbox"]


@bp.get("/authorize")
def authorize() -> Response | str | tuple[str, int]:
    """Validate the request; show the approval page, or approve at once when auto_approve is on."""
    params = request.args
    checked = _check_client(params)
    if checked is not None:
        return checked
    state = _state()
    with state.lock:
        config = state.config
        store = state.store(config.store_code)
    if config.auto_approve:
        return _approve(params)
    fields = {
        k: params.get(k, "")
        for k in ("client_id", "redirect_uri", "response_type", "scope", "state")
    }
    return render_template_string(
        _PAGE,
        title="Autorizar aplicación",
        store_name=store.name,
        store_code=store.code,
        client_id=params["client_id"],
        redirect_uri=params["redirect_uri"],
        scopes=params.get("scope", "").split(),
        describe=_describe,
        fields=fields,
    )


@bp.post("/authorize")
def decide() -> Response | str | tuple[str, int]:
    """The merchant pressed Approve or Deny on the approval page."""
    params = request.form
    checked = _check_client(params)
    if checked is not None:
        return checked
    if params.get("decision") != "approve":
        return _back(params, error="access_denied")
    return _approve(params)


@bp.post("/token")
def token() -> tuple[Response, int] | Response:
    """Exchange a code or a refresh token for a new access/refresh pair."""
    form = request.form
    state = _state()
    grant_type = form.get("grant_type", "")
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    if request.authorization and request.authorization.type == "basic":
        client_id = request.authorization.username or client_id
        client_secret = request.authorization.password or client_secret
    now = time.time()
    try:
        with state.lock:
            config = state.config
            if grant_type == "refresh_token" and form.get("refresh_token"):
                state.grants.refresh_uses[form["refresh_token"]] += 1
            if not grant_type:
                raise GrantError("invalid_request", "grant_type is missing.")
            if client_id != config.client_id or client_secret != config.client_secret:
                raise GrantError(
                    "invalid_client",
                    "Client authentication failed: unknown client or wrong client_secret.",
                    401,
                )
            if grant_type == "authorization_code":
                reply = _exchange_code(state, form, client_id, now)
            elif grant_type == "refresh_token":
                if not form.get("refresh_token"):
                    raise GrantError("invalid_request", "refresh_token is missing.")
                reply = state.grants.use_refresh_token(
                    form["refresh_token"], client_id, config.token_ttl_seconds, now
                )
            else:
                raise GrantError(
                    "unsupported_grant_type", f"grant_type {grant_type!r} is not supported."
                )
            grants = state.stats.token_grants
            grants[grant_type] = grants.get(grant_type, 0) + 1
    except GrantError as exc:
        failed = jsonify({"error": exc.error, "error_description": str(exc)})
        failed.headers["Cache-Control"] = "no-store"
        return failed, exc.status
    issued = jsonify(reply)
    issued.headers["Cache-Control"] = "no-store"
    issued.headers["Pragma"] = "no-cache"
    return issued


def _exchange_code(state: SandboxState, form: dict, client_id: str, now: float) -> dict:
    if not form.get("code") or not form.get("redirect_uri"):
        raise GrantError("invalid_request", "code and redirect_uri are required.")
    grant = state.grants.redeem_code(form["code"], client_id, form["redirect_uri"], now)
    return state.grants.issue_tokens(
        grant.store, grant.scope, client_id, state.config.token_ttl_seconds, now
    )


def _check_client(params: dict) -> Response | str | tuple[str, int] | None:
    """Unknown clients and unregistered redirect URIs get an error page and no redirect."""
    config = _state().config
    if params.get("client_id") != config.client_id:
        return _error_page("Unknown client_id: no app is registered with it."), 400
    if params.get("redirect_uri") not in config.redirect_uris:
        return _error_page(
            "The redirect_uri is not registered for this app (exact match required)."
        ), 400
    if params.get("response_type") != "code":
        return _back(params, error="unsupported_response_type")
    scopes = params.get("scope", "").split()
    if not scopes or not set(scopes) <= KNOWN_SCOPES:
        return _back(params, error="invalid_scope")
    return None


def _approve(params: dict) -> Response | str:
    state = _state()
    with state.lock:
        config = state.config
        code = state.grants.issue_code(
            params["client_id"],
            params["redirect_uri"],
            config.store_code,
            " ".join(params["scope"].split()),
            time.time() + config.code_ttl_seconds,
        )
    if params["redirect_uri"] == OOB_URI:
        return render_template_string(_PAGE, title="Código de autorización", code=code)
    return _back(params, code=code)


def _back(params: dict, **answer: str) -> Response | str:
    """Send the browser back to the app's redirect_uri with the answer and the app's state."""
    if params.get("state"):
        answer["state"] = params["state"]
    if params["redirect_uri"] == OOB_URI:
        return _error_page(f"Authorization failed: {answer.get('error')}")
    parts = urlsplit(params["redirect_uri"])
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *answer.items()])
    return redirect(urlunsplit(parts._replace(query=query)), code=302)


def _error_page(message: str) -> str:
    return render_template_string(_PAGE, title="Error de autorización", error=message)


def _describe(scope: str) -> str:
    verb, _, resource = scope.partition("_")
    action = "ver" if verb == "read" else "crear, cambiar y borrar"
    return f"— {action} {resource.replace('_', ' ')}"
