"""`flask sandbox`, a Flask CLI plugin: the command exists only where this package is installed."""

from __future__ import annotations

import click

from feedapp.services import load_config
from feedapp_dev.sandbox import SandboxConfig, serve


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
    cfg = load_config()  # a plugin command gets no app (nor its context): read the settings
    config = SandboxConfig(
        client_id=cfg.JUMPSELLER_CLIENT_ID or "sandbox-client",
        client_secret=cfg.JUMPSELLER_CLIENT_SECRET or "sandbox-secret",
        app_url=app_url or f"{cfg.PUBLIC_URL}/",
        redirect_uris=[f"{cfg.PUBLIC_URL}/callback"],
        product_count=products,
        auto_approve=auto_approve,
    )
    serve(host, port, config)
