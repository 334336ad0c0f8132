"""A local stand-in for Jumpseller (accounts, API, admin) so the app runs and is tested offline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedapp_dev.sandbox.config import SandboxConfig

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["SandboxConfig", "create_sandbox", "serve"]


def create_sandbox(config: SandboxConfig | None = None) -> Flask:
    """Build the sandbox app; all its state lives in `app.extensions["sandbox"]`."""
    from flask import Flask, jsonify, request

    from feedapp_dev.sandbox import admin, api, control, gate, oauth
    from feedapp_dev.sandbox.state import SandboxState

    app = Flask(__name__)
    app.extensions["sandbox"] = SandboxState(config or SandboxConfig())
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    gate.init_app(app)
    for blueprint in (oauth.bp, api.bp, control.bp, admin.bp):
        app.register_blueprint(blueprint)

    @app.errorhandler(404)
    def not_found(error: Exception) -> object:
        if request.path.startswith(("/v1/", "/_sandbox/")):
            return jsonify({"message": "Not Found"}), 404
        return error

    @app.errorhandler(405)
    def not_allowed(error: Exception) -> object:
        if request.path.startswith(("/v1/", "/_sandbox/")):
            return jsonify({"message": "Method Not Allowed"}), 405
        return error

    return app


def serve(host: str = "localhost", port: int = 5001, config: SandboxConfig | None = None) -> None:
    """Run the sandbox on a threaded werkzeug server until interrupted (the `flask sandbox` CLI).

    The default host is `localhost` so that the admin page and the app (127.0.0.1:5000) are
    different sites, and the app meets the third-party-cookie rules it meets under Jumpseller.
    """
    from werkzeug.serving import make_server

    app = create_sandbox(config)
    server = make_server(host, port, app, threaded=True)
    s = app.extensions["sandbox"].config
    print(
        f"Jumpseller sandbox on http://{host}:{port}\n"
        f"  admin:      http://{host}:{port}/admin  (frames {s.app_url})\n"
        f"  accounts:   JUMPSELLER_AUTH_URL=http://{host}:{port}\n"
        f"  API:        JUMPSELLER_API_URL=http://{host}:{port}/v1\n"
        f"  client:     JUMPSELLER_CLIENT_ID={s.client_id}"
        f" JUMPSELLER_CLIENT_SECRET={s.client_secret}\n"
        f"  redirects:  {', '.join(s.redirect_uris)}\n"
        f"  store:      {s.store_code} ({s.product_count} products, seed {s.seed})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
