"""The long-running processes, `flask worker` and `flask scheduler`, with the app's settings."""

from __future__ import annotations

import click

from feedapp import services
from feedapp.cli.operator import require_redis
from feedapp.web.context import current_services


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run an RQ worker that builds feeds, with this app's settings."""
    from workers.jobs import run_worker

    config = current_services().config
    services.require_settings(config, "worker")
    require_redis()
    run_worker(config, burst=burst)


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler that enqueues due rebuilds (run exactly one)."""
    from workers.scheduler import run_scheduler

    config = current_services().config
    services.require_settings(config, "scheduler")
    require_redis()
    run_scheduler(config)
