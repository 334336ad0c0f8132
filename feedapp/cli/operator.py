"""What every operator command shares: its settings checked first, one-line errors, no traces."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from redis.exceptions import RedisError

from config import masked_url
from feedapp import services
from feedapp.web.context import current_services


def fail(message: str) -> None:
    """Print an operator-facing error and exit 1."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


class OperatorCommand(click.Command):
    """A command that checks the settings it needs before it runs and tells a Redis outage as such.

    The check runs when the command is invoked, after its arguments are parsed, so `--help` works
    without any setting; a missing one stops it with the message that names it (exit 2) instead
    of a failure wherever the empty value is first used.
    """

    def __init__(self, *args: Any, needs: str = "operator", **kwargs: Any) -> None:
        """`needs`: the services.PROCESS_NEEDS entry this command cannot run without."""
        super().__init__(*args, **kwargs)
        self.needs = needs

    def invoke(self, ctx: click.Context) -> object:
        """Check the settings, then run the command; a Redis outage becomes one line."""
        if not current_app:  # as with_appcontext does, but before the check, not the callback
            ctx.with_resource(ctx.ensure_object(ScriptInfo).load_app().app_context())
        services.require_settings(
            current_services().config, self.needs, f"flask {_command_path(ctx)}"
        )
        try:
            return super().invoke(ctx)
        except RedisError as exc:
            redis_unreachable(exc)
            return None


class OperatorGroup(AppGroup):
    """A command group whose commands are OperatorCommands (settings checked, Redis told)."""

    command_class = OperatorCommand


def _command_path(ctx: click.Context) -> str:
    """The command as typed after `flask` (e.g. "stores list"), whatever ran the CLI."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def redis_unreachable(exc: RedisError) -> None:
    """Stop with a line that names the Redis (its password masked) and what to do."""
    url = masked_url(current_services().config.REDIS_URL)
    fail(f"Redis at {url} does not answer ({exc}). Start it, or fix REDIS_URL.")


def require_redis() -> None:
    """A long-running process checks Redis once at start, so an outage reads as one line."""
    try:
        current_services().redis.ping()
    except RedisError as exc:
        redis_unreachable(exc)
