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
from feedapp_dev.sandbox.store import SandboxStore

bp = Blueprint("sandbox_admin", __name__)

_SECTIONS = ("Inicio", "Pedidos", "Productos", "Clientes", "Marketing", "Apps", "Configuración")
#: The sections that have a page here; the others are dead links, as in a mock-up.
_VIEWS = {"Productos": "sandbox_admin.products", "Apps": "sandbox_admin.admin"}
_PER_PAGE = 50

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
   border-radius:8px;background:#fff}{% if rows is defined %}
 main{overflow:auto} table{border-collapse:collapse;background:#fff;font-size:13px}
 th,td{border:1px solid #e1e4ea;padding:6px 9px;text-align:left;vertical-align:top}
 td code{display:block;color:#6b7387;font-size:11px;margin-top:2px}
 td.fallback{color:#8a91a3;font-style:italic} .pager{margin:12px 0;display:flex;gap:14px}{% endif %}
</style></head><body>
<header><span class="logo">jumpseller</span><span class="store">{{ store.name }}</span>
 <span class="badge">sandbox</span></header>
<div class="body">
 <nav>{% for section in sections %}
  <a href="{{ links.get(section, '#') }}" class="{{ 'active' if section == current else '' }}">
   {{- section }}</a>{% endfor %}
 </nav>
 {% if rows is defined %}<main><h1>Productos › {{ store.name }}</h1>
  <p>Idiomas de la tienda: {% for lang in languages %}{{ lang.name }} ({{ lang.code }})
   {{- ', predeterminado' if loop.first }}{{ '; ' if not loop.last }}{% endfor %}.
   En cursiva: sin traducción, la API responde en el idioma predeterminado.</p>
  <table><thead><tr><th>ID</th>{% for lang in languages %}<th>{{ lang.code }}</th>{% endfor %}
  </tr></thead><tbody>{% for row in rows %}
   <tr><td>{{ row.id }}</td>{% for cell in row.cells %}
    <td class="{{ '' if cell.own else 'fallback' }}">{{ cell.name }}<code>{{ cell.url }}</code></td>
    {%- endfor %}</tr>{% endfor %}
  </tbody></table>
  <div class="pager">{% if page > 1 %}<a href="{{ pager(page - 1) }}">‹ Anterior</a>{% endif %}
   <span>Página {{ page }} de {{ pages }}</span>
   {% if page < pages %}<a href="{{ pager(page + 1) }}">Siguiente ›</a>{% endif %}</div>
 </main>{% else %}<main><h1>Apps › {{ client_id }}</h1>
  <iframe id="app-frame" title="App" src="{{ app_url }}"></iframe>
 </main>{% endif %}
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
        links=_links(),
        current="Apps",
        client_id=config.client_id,
        app_url=config.app_url,
    )


@bp.get("/admin/products")
def products() -> str:
    """Each product's name and shop page in every language, to check a feed against them.

    ?page=N pages through the catalogue, ?store=<code> shows another store.
    """
    state: SandboxState = current_app.extensions["sandbox"]
    page = max(request.args.get("page", 1, type=int), 1)
    with state.lock:
        store = state.store(request.args.get("store") or state.config.store_code)
        ids = store.ids[(page - 1) * _PER_PAGE : page * _PER_PAGE]
        rows = [{"id": pid, "cells": _cells(store, pid)} for pid in ids]
        pages = max(-(-store.count() // _PER_PAGE), 1)
        languages = store.language_list()
    return render_template_string(
        _PAGE,
        store=store,
        sections=_SECTIONS,
        links=_links(),
        current="Productos",
        languages=languages,
        rows=rows,
        page=page,
        pages=pages,
        pager=lambda number: url_for(".products", **{**request.args, "page": number}),
    )


def _links() -> dict[str, str]:
    """Where the sections that have a page lead, keeping the store being shown."""
    store = request.args.get("store")
    params = {"store": store} if store else {}
    return {section: url_for(view, **params) for section, view in _VIEWS.items()}


def _cells(store: SandboxStore, pid: int) -> list[dict]:
    """The product as each language shows it: name, page, and whether it has its own text."""
    cells = []
    for code in store.languages:
        product = store.product(pid, code) or {}
        own = code == store.languages[0] or store.translation(pid, code) is not None
        url = store.storefront_url(str(product.get("permalink") or ""), code)
        cells.append({"name": product.get("name"), "url": url, "own": own})
    return cells
