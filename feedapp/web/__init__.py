"""Everything that speaks HTTP: App URL and OAuth, the merchant's page, feeds, webhooks, health."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Install the body limits, security headers and languages, and register every blueprint."""
    from feedapp.web import connect, health, i18n, limits, page, security, serving, webhooks

    limits.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    for blueprint in (health.bp, serving.bp, connect.bp, page.bp, webhooks.bp):
        app.register_blueprint(blueprint)
