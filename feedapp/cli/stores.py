"""`flask stores ...`: list, inspect, connect and remove installed stores, and rotate token keys."""

from __future__ import annotations

import json

import click

from feedapp.cli.operator import OperatorGroup, fail, require_redis
from feedapp.stores import TokenKeyError, UnknownStore, masked
from feedapp.web.context import current_services

stores_cli = OperatorGroup("stores", help="List, inspect and remove installed stores.")


@stores_cli.command("list")
def stores_list() -> None:
    """One line per store: code, state, name, URL."""
    registry = current_services().registry
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
        store = current_services().registry.get(store_code)
    except (UnknownStore, TokenKeyError) as exc:
        fail(str(exc))
    click.echo(json.dumps(masked(store), indent=2, sort_keys=True))


@stores_cli.command("remove")
@click.argument("store_code")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def stores_remove(store_code: str, yes: bool) -> None:
    """Delete a store's record and its published feed."""
    from feedapp.feed.publishing import remove_store_feeds

    svc = current_services()
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
        count = current_services().registry.rotate_keys()
    except TokenKeyError as exc:
        fail(str(exc))
    click.echo(f"Re-encrypted {count} store(s) with the newest key. Old keys may now be removed.")


@stores_cli.command("connect", needs="worker")
def stores_connect() -> None:
    """Install the sandbox store through the OAuth flow (sandbox in auto-approve mode)."""
    from requests import RequestException

    from feedapp.jumpseller.installation import InstallError, connect_sandbox

    svc = current_services()
    require_redis()  # before the OAuth code is spent: the store could not be saved
    try:
        store = connect_sandbox(svc)
    except InstallError as exc:
        fail(str(exc))
    except RequestException as exc:
        fail(
            f"The accounts server at {svc.config.JUMPSELLER_AUTH_URL} does not answer "
            f"({type(exc).__name__}). Start the sandbox with --auto-approve, or fix "
            "JUMPSELLER_AUTH_URL."
        )
    click.echo(f"Store '{store.code}' connected ({store.name}).")
