"""The long-running processes, `flask worker` and `flask scheduler`, with the app's settings."""

from __future__ import annotations

import click

from feedapp.cli.operator import OperatorCommand, require_redis
from feedapp.web.context import current_services


@click.command("worker", cls=OperatorCommand, needs="worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run an RQ worker that builds feeds, with this app's settings."""
    from workers.jobs import run_worker

    require_redis()
    run_worker(current_services().config, burst=burst)


@click.command("scheduler", cls=OperatorCommand, needs="scheduler")
def scheduler_command() -> None:
    """Run the scheduler that enqueues due rebuilds (run exactly one)."""
    from workers.scheduler import run_scheduler

    require_redis()
    run_scheduler(current_services().config)
