"""Long-running processes: `flask worker`, `scheduler` and `sandbox`, with the app's settings."""

from __future__ import annotations

import click
from flask import current_app

from feedapp import services
from feedapp.cli.operator import require_redis


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
