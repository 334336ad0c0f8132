"""Where a request or command finds its process's services: on the Flask app that serves it."""

from __future__ import annotations

from flask import Flask, current_app

from feedapp.services import Services


def init_app(app: Flask, services: Services) -> None:
    """Attach the services to the app, so every request and command shares one set."""
    app.extensions["feedapp"] = services


def current_services() -> Services:
    """The services of the app handling this request or command."""
    return current_app.extensions["feedapp"]
