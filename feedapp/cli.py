"""The operator's commands: `flask stores ...`, `flask worker`, `scheduler` and `sandbox`."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from redis.exceptions import RedisError

from feedapp import services
from feedapp.stores import TokenKeyError, UnknownStore, masked


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
    url = current_app.config.get("REDIS_URL") or "(REDIS_URL is empty)"
    fail(f"Redis at {url} does not answer ({exc}). Start it, or fix REDIS_URL.")


def require_redis() -> None:
    """A long-running process checks Redis once at start, so an outage reads as one line."""
    try:
        services.current().redis.ping()
    except RedisError as exc:
        redis_unreachable(exc)


stores_cli = OperatorGroup("stores", help="List, inspect and remove installed stores.")


@stores_cli.command("list")
def stores_list() -> None:
    """One line per store: code, state, name, URL."""
    registry = services.current().registry
    rows = list(registry)
    if not rows:
        click.echo(
            "No stores yet. Install the app from a Jumpseller admin, or run "
            "'flask stores connect' against the sandbox."
        )
        return
    for store in rows:
        click.echo(f"{store.code:<24} {store.state:<12} {store.name}  {store.url}")


@stores_cli.command("show")
@click.argument("store_code")
def stores_show(store_code: str) -> None:
    """A store's record with its secrets masked."""
    try:
        store = services.current().registry.get(store_code)
    except (UnknownStore, TokenKeyError) as exc:
        fail(str(exc))
    click.echo(json.dumps(masked(store), indent=2, sort_keys=True))


@stores_cli.command("remove")
@click.argument("store_code")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def stores_remove(store_code: str, yes: bool) -> None:
    """Delete a store's record and its published feed."""
    from feedapp.publishing import remove_store_feeds

    svc = services.current()
    if svc.registry.find(store_code) is None:
        fail(str(UnknownStore(store_code)))
    if not yes:
        click.confirm(f"Remove store '{store_code}' and its feed?", abort=True)
    svc.registry.remove(store_code)
    remove_store_feeds(svc.feeds_dir, store_code)
    click.echo(f"Store '{store_code}' removed.")


@stores_cli.command("rotate-keys")
def stores_rotate_keys() -> None:
    """Re-encrypt every store's tokens with the newest key in TOKEN_KEYS."""
    try:
        count = services.current().registry.rotate_keys()
    except TokenKeyError as exc:
        fail(str(exc))
    click.echo(f"Re-encrypted {count} store(s) with the newest key. Old keys may now be removed.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run an RQ worker that builds feeds, with this app's settings."""
    from workers.jobs import run_worker

    services.require_settings(current_app.config, "worker")
    require_redis()
    run_worker(current_app.config, burst=burst)


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler that enqueues due rebuilds (run exactly one)."""
    from workers.scheduler import run_scheduler

    services.require_settings(current_app.config, "scheduler")
    require_redis()
    run_scheduler(current_app.config)


@click.command("sandbox")
@click.option(
    "--host",
    default="localhost",
    show_default=True,
    help="localhost keeps the admin on another site than the app at 127.0.0.1.",
)
@click.option("--port", default=5001, show_default=True)
@click.option(
    "--app-url", default=None, help="App URL the admin page frames (default PUBLIC_URL/)."
)
@click.option("--products", default=200, show_default=True, help="Catalogue size.")
@click.option("--auto-approve", is_flag=True, help="Approve OAuth requests without a click.")
def sandbox_command(
    host: str, port: int, app_url: str | None, products: int, auto_approve: bool
) -> None:
    """Run the local Jumpseller stand-in (accounts, API, admin page)."""
    from feedapp.sandbox import SandboxSettings, serve

    cfg = current_app.config
    settings = SandboxSettings(
        client_id=cfg["JUMPSELLER_CLIENT_ID"] or "sandbox-client",
        client_secret=cfg["JUMPSELLER_CLIENT_SECRET"] or "sandbox-secret",
        app_url=app_url or f"{cfg['PUBLIC_URL']}/",
        redirect_uris=[f"{cfg['PUBLIC_URL']}/callback"],
        product_count=products,
        auto_approve=auto_approve,
    )
    serve(host, port, settings)


def init_app(app: Flask) -> None:
    """Register every command group on the app."""
    from feedapp.feeds_cli import feeds_cli

    for command in (stores_cli, feeds_cli, worker_command, scheduler_command, sandbox_command):
        app.cli.add_command(command)


@stores_cli.command("connect")
def stores_connect() -> None:
    """Install the sandbox store through the OAuth flow (sandbox in auto-approve mode)."""
    from feedapp.installation import InstallError, connect_sandbox

    try:
        store = connect_sandbox(services.current())
    except InstallError as exc:
        fail(str(exc))
    click.echo(f"Store '{store.code}' connected ({store.name}).")
