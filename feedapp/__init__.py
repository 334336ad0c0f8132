"""Google Shopping feeds for Jumpseller stores: the web application factory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from redis import Redis

    from config import Config


def create_app(config: Config | None = None, redis: Redis | None = None) -> Flask:
    """Build the web app; nothing connects or reads the environment before this is called.

    Without a config it reads the environment: a malformed setting stops the process (exit 2).
    """
    from flask import Flask

    from feedapp import cli, services, web
    from feedapp.logs import configure_logging
    from feedapp.web import context

    serving = _serving()
    if config is None:
        config = services.load_config()
        if serving:
            services.require_settings(config, "web")
    if not config.TESTING:  # a test runner's log capture (caplog) keeps its own level and handlers
        configure_logging(config)
    app = Flask(__name__, template_folder=_template_folder())
    app.config.from_mapping(config.as_flask())
    context.init_app(app, services.Services(config, redis))
    web.init_app(app)
    cli.init_app(app)
    if serving and _loaded_by_cli():  # `flask run`: Redis checked once at start, as by a worker
        from feedapp.cli.operator import require_redis

        with app.app_context():
            require_redis()
    return app


def _template_folder() -> str:
    """The templates ship in the wheel as feedapp/templates; a checkout keeps them at the top."""
    package = Path(__file__).resolve().parent
    installed = package / "templates"
    # An editable install maps feedapp.templates onto the checkout's templates/ through its import
    # finder, which Jinja's file loader cannot follow, so a checkout is read where it is.
    return str(installed if installed.is_dir() else package.parent / "templates")


def _loaded_by_cli() -> bool:
    """The flask CLI loads the app for every command; each command checks what it needs."""
    import click

    return click.get_current_context(silent=True) is not None


def _serving() -> bool:
    """This app will serve requests: under a WSGI server, or `flask run`'s development server.

    The CLI loads the app for every command (and for `--help`); those check what they need when
    they run, but `flask run` is Flask's own command, so its web process is recognised here.
    """
    import click
    from flask.cli import run_command

    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.command is run_command
