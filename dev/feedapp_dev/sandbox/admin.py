"""A minimal Jumpseller admin that frames the App URL from another origin, as the real one does."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template_string,
    request,
    url_for,
)

from feedapp_dev.sandbox.state import SandboxState

bp = Blueprint("sandbox_admin", __name__)

_SECTIONS = ("Inicio", "Pedidos", "Productos", "Clientes", "Marketing", "Apps", "Configuración")

_PAGE = """<!doctype html>
<html lang="es"><head><meta charset="utf-8">
<title>{{ store.name }} · Admin · Jumpseller (sandbox)</title>
<style>
 *{box-sizing:border-box} body{margin:0;font-family:system-ui,sans-serif;color:#1d2433;
   background:#f4f5f7;height:100vh;display:flex;flex-direction:column}
 header{height:52px;background:#16203a;color:#fff;display:flex;align-items:center;gap:14px;
   padding:0 18px} header .logo{font-weight:700;letter-spacing:.3px}
 header .store{opacity:.85} header .badge{margin-left:auto;font-size:12px;background:#f2b01e;
   color:#16203a;padding:2px 8px;border-radius:10px}
 .body{flex:1;display:flex;min-height:0}
 nav{width:210px;background:#fff;border-right:1px solid #e1e4ea;padding:14px 0}
 nav a{display:block;padding:9px 22px;color:#39425a;text-decoration:none;font-size:14px}
 nav a.active{background:#eaf1fe;color:#1d6ef2;font-weight:600;border-left:3px solid #1d6ef2}
 main{flex:1;display:flex;flex-direction:column;padding:16px 20px;min-width:0}
 main h1{font-size:18px;margin:0 0 10px} iframe{flex:1;width:100%;border:1px solid #e1e4ea;
   border-radius:8px;background:#fff}
</style></head><body>
<header><span class="logo">jumpseller</span><span class="store">{{ store.name }}</span>
 <span class="badge">sandbox</span></header>
<div class="body">
 <nav>{% for section in sections %}
  <a href="#" class="{{ 'active' if section == 'Apps' else '' }}">{{ section }}</a>{% endfor %}
 </nav>
 <main><h1>Apps › {{ client_id }}</h1>
  <iframe id="app-frame" title="App" src="{{ app_url }}"></iframe>
 </main>
</div></body></html>"""


@bp.get("/")
def root() -> Response:
    """The sandbox's front door is the admin."""
    return redirect(url_for("sandbox_admin.admin"))


@bp.get("/admin")
def admin() -> str:
    """The admin page with the app in its iframe; ?store=<code> shows another store."""
    state: SandboxState = current_app.extensions["sandbox"]
    with state.lock:
        config = state.config
        store = state.store(request.args.get("store") or config.store_code)
    return render_template_string(
        _PAGE,
        store=store,
        sections=_SECTIONS,
        client_id=config.client_id,
        app_url=config.app_url,
    )
