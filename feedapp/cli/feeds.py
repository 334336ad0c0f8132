"""`flask feeds ...`: rebuild, inspect and manage the URL of store feeds from a terminal."""

from __future__ import annotations

import json
import sys

import click

from feedapp.builds import queueing
from feedapp.builds.status import explain, store_status
from feedapp.cli.operator import OperatorGroup, fail
from feedapp.services import Services
from feedapp.stores import Store, StoreRegistry, TokenKeyError, UnknownStore
from feedapp.web.context import current_services

feeds_cli = OperatorGroup("feeds", help="Rebuild feeds, show their status and manage their URLs.")


def feed_url(store_token: str) -> str:
    """The public feed URL Merchant Center fetches."""
    return f"{current_services().config.PUBLIC_URL}/feeds/{store_token}.xml"


def protection(store: Store | None) -> str:
    """Whether fetching the feed needs a password, in words (never the password)."""
    if store is None or not store.feed_protected:
        return "off (anyone with the URL can fetch the feed)"
    return f"on (username {store.basic_user}; 'flask feeds auth {store.code} --on' for a new one)"


def _codes(registry: StoreRegistry, store: str | None, all_: bool) -> list[str]:
    if store:
        if registry.find(store) is None:
            fail(str(UnknownStore(store)))
        return [store]
    if all_:
        return [s.code for s in registry if s.installed]
    fail("Name a STORE, or pass --all or --due.")
    return []


@feeds_cli.command("rebuild")
@click.argument("store", required=False)
@click.option("--all", "all_", is_flag=True, help="Every installed store.")
@click.option("--due", is_flag=True, help="Only stores whose feed is due, as the scheduler would.")
@click.option("--sync", is_flag=True, help="Build here, with a progress bar, instead of queueing.")
@click.option("--force", is_flag=True, help="Publish even if the feed shrank by more than half.")
def rebuild(store: str | None, all_: bool, due: bool, sync: bool, force: bool) -> None:
    """Queue (or with --sync, run) a feed build."""
    from workers.scheduler import due_stores

    svc = current_services()
    codes = due_stores(svc) if due else _codes(svc.registry, store, all_)
    if not codes:
        click.echo("No store needs a build.")
        return
    failed = 0
    for code in codes:
        if sync:
            failed += not _build_here(svc, code, force)
        else:
            outcome = queueing.request_build(svc, code, reason="operator", force=force)
            click.echo(f"{code}: {outcome}")
    sys.exit(1 if failed else 0)


def _build_here(svc: Services, code: str, force: bool) -> bool:
    from feedapp.builds import builder

    with click.progressbar(length=1, label=f"{code}: fetching", show_pos=True) as bar:

        def progress(update: dict[str, object]) -> None:
            bar.length = int(update.get("pages_total") or 1)
            bar.label = f"{code}: {update.get('items', 0)} items"
            bar.update(int(update["pages_done"]) - bar.pos)

        try:
            result = queueing.run_with_lock(
                svc, code, lambda: builder.build_feed(svc, code, force=force, progress=progress)
            )
        except Exception as exc:
            click.echo(f"\n{code}: build failed: {explain(exc, code)}", err=True)
            return False
    if result is None:
        click.echo(f"{code}: a build is already running; one more will follow it.")
        return True
    click.echo(
        f"{code}: published {result.items} items from {result.products} products "
        f"in {result.duration:.1f}s ({result.requests} API requests)."
    )
    return True


@feeds_cli.command("status")
@click.argument("store", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per store, one per line.")
def status(store: str | None, as_json: bool) -> None:
    """Age, items, problems, last error and running or queued job of each feed."""
    svc = current_services()
    codes = [store] if store else svc.registry.codes()
    if store and svc.registry.find(store) is None:
        fail(str(UnknownStore(store)))
    failed = False
    for code in codes:
        info = store_status(svc, code)
        failed |= info["state"] == "failed"
        record = svc.registry.find(code)
        if as_json:
            info["password_protected"] = bool(record and record.feed_protected)
            click.echo(json.dumps(info, sort_keys=True))
            continue
        age = info["age_seconds"]
        click.echo(
            f"{code}: {info['state']}; last good feed "
            + (
                f"{age / 3600:.1f} h old with {info['items']} items"
                if age is not None
                else "never published"
            )
        )
        if info["progress"]:
            click.echo(
                f"  progress: page {info['progress']['pages_done']} of "
                f"{info['progress']['pages_total']}"
            )
        for code_name, count in info["problems"].items():
            click.echo(f"  {code_name}: {count}")
        if info["error"]:
            click.echo(f"  last error: {info['error']}")
        click.echo(f"  feed password: {protection(record)}")
    sys.exit(1 if failed and store else 0)


@feeds_cli.command("url")
@click.argument("store")
def url(store: str) -> None:
    """Print the feed URL to paste into Merchant Center."""
    try:
        record = current_services().registry.get(store)
    except (UnknownStore, TokenKeyError) as exc:
        fail(str(exc))
    click.echo(feed_url(record.feed_token))
    if record.feed_protected:
        click.echo(f"Password protection: {protection(record)}", err=True)


@feeds_cli.command("rotate-url")
@click.argument("store")
def rotate_url(store: str) -> None:
    """Give a store a new feed URL; the old one keeps working for 48 hours."""
    try:
        record = current_services().registry.rotate_feed_token(store)
    except (UnknownStore, TokenKeyError) as exc:
        fail(str(exc))
    click.echo(f"{store}: new feed URL {feed_url(record.feed_token)}")
    click.echo("The old URL keeps working for 48 hours; update Merchant Center before then.")


@feeds_cli.command("auth")
@click.argument("store")
@click.option(
    "--on/--off",
    "on",
    default=None,
    help="--on: a username and a new password, shown once; --off: no password. Neither: show.",
)
def auth(store: str, on: bool | None) -> None:
    """Password-protect a store's feed (HTTP Basic) or open it again; the URL stays the same."""
    registry = current_services().registry
    try:
        record = registry.get(store)
        if on is None:
            click.echo(f"{store}: feed password {protection(record)}")
            return
        if not on:
            registry.unprotect_feed(store)
            click.echo(f"{store}: the feed needs no password any more (same URL).")
            click.echo(
                "Merchant Center may keep the old username and password in its fetch "
                "settings; they are no longer checked."
            )
            return
        given = registry.protect_feed(store)
    except (UnknownStore, TokenKeyError) as exc:
        fail(str(exc))
    click.echo(f"{store}: fetching the feed now needs this username and password.")
    click.echo(f"  username: {given.username}")
    click.echo(f"  password: {given.password}")
    click.echo("Shown this once: nothing keeps the password but its hash.")
    click.echo(
        "Paste them into Merchant Center: Products > Feeds > this feed > Settings > Fetch "
        "settings > username and password (or Settings > Data sources > this source > fetch "
        "settings). Until then its fetches are refused (401)."
    )
    click.echo(f"Feed URL (unchanged): {feed_url(record.feed_token)}")
