"""The operator's command line (`flask stores|feeds|worker|scheduler`), registered on the app."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every command group on the app."""
    from feedapp.cli.feeds import feeds_cli
    from feedapp.cli.processes import scheduler_command, worker_command
    from feedapp.cli.stores import stores_cli

    for command in (stores_cli, feeds_cli, worker_command, scheduler_command):
        app.cli.add_command(command)
