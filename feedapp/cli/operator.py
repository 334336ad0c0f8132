"""What every operator command shares: one-line errors and a Redis outage told as such."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from redis.exceptions import RedisError

from feedapp.web.context import current_services


def fail(message: str) -> None:
    """Print an operator-facing error and exit 1."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


class OperatorGroup(AppGroup):
    """A command group whose commands answer an unreachable Redis with a message, not a trace."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; turn a Redis outage into one actionable line."""
        try:
            return super().invoke(ctx)
        except RedisError as exc:
            redis_unreachable(exc)
            return None


def redis_unreachable(exc: RedisError) -> None:
    """Stop with a line that names the Redis and what to do."""
    url = current_services().config.REDIS_URL or "(REDIS_URL is empty)"
    fail(f"Redis at {url} does not answer ({exc}). Start it, or fix REDIS_URL.")


def require_redis() -> None:
    """A long-running process checks Redis once at start, so an outage reads as one line."""
    try:
        current_services().redis.ping()
    except RedisError as exc:
        redis_unreachable(exc)
