"""Google Shopping feeds for Jumpseller stores: the web application factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from redis import Redis

    from config import Config


def create_app(config: Config | dict | None = None, redis: Redis | None = None) -> Flask:
    """Build the web app; nothing connects or reads the environment before this is called."""
    from flask import Flask

    from config import Config
    from feedapp import cli, services, web
    from feedapp.web import context

    cfg = config if config is not None else Config()
    settings = cfg.as_flask() if isinstance(cfg, Config) else dict(cfg)
    if config is None and not _loaded_by_cli():
        services.require_settings(settings, "web")
    app = Flask(__name__, template_folder="../templates")
    app.config.from_mapping(settings)
    context.init_app(app, services.Services(app.config, redis))
    web.init_app(app)
    cli.init_app(app)
    return app


def _loaded_by_cli() -> bool:
    """The flask CLI loads the app for every command; each command checks what it needs."""
    import click

    return click.get_current_context(silent=True) is not None
