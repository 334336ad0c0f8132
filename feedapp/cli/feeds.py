"""`flask feeds ...`: a store's feeds (one per market), their builds, status, URLs and rules.

A store has one feed or more, each for a language and a country with its own URL and rules. A
build always builds all of a store's feeds, so the commands that take an optional FEED (url,
rotate-url, status, rebuild) mean every feed of the store when it is left out.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import NoReturn

import click

from feedapp.builds import queueing
from feedapp.builds.status import explain, store_status
from feedapp.cli.operator import OperatorGroup, fail
from feedapp.feed.options import FieldError
from feedapp.services import Services
from feedapp.storefeeds import StoreFeed, validate_market
from feedapp.stores import (
    FeedLimitError,
    Store,
    StoreRegistry,
    TokenKeyError,
    UnknownFeed,
    UnknownStore,
)
from feedapp.web.context import current_services

feeds_cli = OperatorGroup(
    "feeds", help="A store's feeds (one per market): builds, status, URLs and rules."
)


def feed_url(feed_token: str) -> str:
    """The public feed URL Merchant Center fetches."""
    return f"{current_services().config.PUBLIC_URL}/feeds/{feed_token}.xml"


def protection(store: Store | None) -> str:
    """Whether fetching the feed needs a password, in words (never the password)."""
    if store is None or not store.feed_protected:
        return "off (anyone with the URL can fetch the feed)"
    return f"on (username {store.basic_user}; 'flask feeds auth {store.code} --on' for a new one)"


def words(error: FieldError) -> str:
    """A validation message id with its values filled in: operators read the English text."""
    return error.msgid % dict(error.params) if error.params else error.msgid


def fail_all(lines: list[str], footer: str = "") -> NoReturn:
    """Print every error, one line each (an operator fixes them all in one go), and exit 1."""
    for line in lines:
        click.echo(f"Error: {line}", err=True)
    if footer:
        click.echo(footer, err=True)
    sys.exit(1)


def load_store(code: str) -> Store:
    """The store's record, or one line saying why there is none."""
    try:
        return current_services().registry.get(code)
    except (UnknownStore, TokenKeyError) as exc:
        fail_all([str(exc)])


def chosen_feeds(store: Store, feed_id: str | None) -> list[StoreFeed]:
    """The feed named on the command line, or every feed of the store when none is named."""
    if feed_id is None:
        return list(store.feeds)
    try:
        return [store.feed(feed_id)]
    except UnknownFeed as exc:
        fail_all([str(exc)])


def market(store: Store, feed: StoreFeed) -> tuple[str, str]:
    """The language and country a feed is for ("" in the record means the store's own)."""
    return feed.language or store.default_language, feed.country or store.country


def url_line(feed: StoreFeed) -> str:
    """One feed's URL as `feeds url` lists it: "id name: URL"."""
    return f"{feed.id} {feed.name}: {feed_url(feed.token)}"


def feed_row(store: Store, feed: StoreFeed, status: Mapping[str, object]) -> dict[str, object]:
    """One feed as `feeds list` shows it, from its FEED STATUS (feedapp.builds.status).

    state: "built" (it has a published file), "not built" or "refused" (its last build was
    refused: the live file, if any, stays); build: the state of its last or pending build.
    """
    built = status.get("finished_at") is not None
    language, country = market(store, feed)
    return {
        "store": store.code,
        "id": feed.id,
        "name": feed.name,
        "language": language,
        "country": country,
        "url": feed_url(feed.token),
        "state": "refused" if status.get("refused") else "built" if built else "not built",
        "items": status.get("items"),
        "published_at": status.get("published_at") or _iso(status.get("finished_at")),
        "build": status.get("state", "never"),
        "error": status.get("error"),
    }


def _iso(timestamp: object) -> str | None:
    """A stored epoch time as ISO 8601 UTC (a record from before published_at was kept)."""
    if not isinstance(timestamp, int | float):
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def feed_rows(svc: Services, store: Store, feeds: list[StoreFeed]) -> list[dict[str, object]]:
    """The rows of `feeds`, each with its FEED STATUS as store_status reports it."""
    statuses = {str(one["id"]): one for one in statuses_of(store_status(svc, store.code))}
    return [feed_row(store, feed, statuses.get(feed.id, {})) for feed in feeds]


def statuses_of(info: Mapping[str, object]) -> list[dict[str, object]]:
    """The FEED STATUS list that store_status puts under "feeds"."""
    feeds = info.get("feeds")
    return [one for one in feeds if isinstance(one, dict)] if isinstance(feeds, list) else []


def describe(row: Mapping[str, object]) -> str:
    """A feed's state in one phrase, e.g. "built, 250 items, last published <ISO time>"."""
    if row["state"] == "not built":
        parts = ["not built yet"]
    else:
        parts = [str(row["state"])]
        if row["items"] is not None:
            parts.append(f"{row['items']} items")
        if row["published_at"]:
            parts.append(f"last published {row['published_at']}")
    if row["state"] == "refused" and row["items"] is not None:
        parts[1] += " still live"
    text = ", ".join(parts)
    if row["build"] in ("queued", "running"):
        text += f"; build {row['build']}"
    elif row["build"] == "failed" and row["state"] != "refused":
        text += "; its last build failed"
    return text


def _codes(registry: StoreRegistry, store: str | None, all_: bool) -> list[str]:
    if store:
        if registry.find(store) is None:
            fail(str(UnknownStore(store)))
        return [store]
    if all_:
        return [s.code for s in registry if s.installed]
    fail("Name a STORE, or pass --all or --due.")
    return []


@feeds_cli.command("list")
@click.argument("store")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per feed, one per line.")
def list_feeds(store: str, as_json: bool) -> None:
    """Each feed of a store: id, name, language, country, URL and state."""
    svc = current_services()
    record = load_store(store)
    for row in feed_rows(svc, record, record.feeds):
        if as_json:
            click.echo(json.dumps(row, sort_keys=True))
            continue
        click.echo(
            f"{row['id']:<4} {row['name']}  language {row['language'] or '-'}, "
            f"country {row['country'] or '-'}  {describe(row)}"
        )
        click.echo(f"     {row['url']}")


@feeds_cli.command("add")
@click.argument("store")
@click.option("--language", default="", help="One of the store's languages (default: its own).")
@click.option("--country", default="", help="Two-letter code of the country it sells to: CL, BR.")
@click.option("--name", default="", help="How the page and the CLI name it (default: CL (es)).")
def add(store: str, language: str, country: str, name: str) -> None:
    """Add a feed for another market (language and country), with its own URL; queue a build."""
    svc = current_services()
    record = load_store(store)
    form = {"name": name, "language": language, "country": country}
    values, errors = validate_market(form, record.languages)
    if errors:
        hint = (
            [f"{store}: its languages are read by each build; build it once first."]
            if "language" in errors and not record.languages
            else []
        )
        fail_all([f"{store}: --{key}: {words(error)}" for key, error in errors.items()] + hint)
    try:
        feed = svc.registry.add_feed(store, values["name"], values["language"], values["country"])
    except (UnknownStore, FeedLimitError) as exc:
        fail(str(exc))
    click.echo(f"{store}: feed {feed.id} ({feed.name}) added.")
    click.echo(f"  id: {feed.id}")
    click.echo(f"  URL: {feed_url(feed.token)}")
    _queue(svc, record, "feed added")


def _queue(svc: Services, store: Store, reason: str) -> None:
    """Queue a build of the store after a change to its feeds (an uninstalled store has none):
    a re-render from the store's snapshot, which pages only what the snapshot lacks."""
    if not store.installed:
        click.echo(f"{store.code}: not built: the store is {store.state}.")
        return
    outcome = queueing.request_build(svc, store.code, reason=reason, mode="render")
    click.echo(f"{store.code}: build {outcome}.")


@feeds_cli.command("remove")
@click.argument("store")
@click.argument("feed")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove(store: str, feed: str, yes: bool) -> None:
    """Remove one feed of a store: its URL answers 404 at once and its files are deleted."""
    from feedapp.feed.publishing import remove_feed_files

    svc = current_services()
    target = chosen_feeds(load_store(store), feed)[0]
    if not yes:
        click.confirm(f"Remove feed {target.id} ({target.name}) of store '{store}'?", abort=True)
    try:
        svc.registry.remove_feed(store, feed)
    except (UnknownStore, UnknownFeed) as exc:
        fail(str(exc))
    except FeedLimitError as exc:
        fail(f"{exc} A store keeps at least one feed; add another first, or remove the store.")
    remove_feed_files(svc.feeds_dir, store, feed)
    click.echo(f"{store}: feed {target.id} ({target.name}) removed; its URL now answers 404.")


@feeds_cli.command("rules")
@click.argument("store")
@click.argument("feed")
@click.option("--export", "export", is_flag=True, help="Print the feed's rules as JSON.")
@click.option(
    "--import",
    "source",
    metavar="FILE",
    help="Replace the feed's rules with a JSON file ('-' for stdin), if it has no mistake.",
)
def rules(store: str, feed: str, export: bool, source: str | None) -> None:
    """Export a feed's rules as JSON, or import them from a file (README: "Feed rules")."""
    svc = current_services()
    record = load_store(store)
    target = chosen_feeds(record, feed)[0]
    if export == (source is not None):
        fail(f"{store}: pass either --export or --import FILE.")
    if source is None:
        click.echo(json.dumps(target.rules, indent=2, ensure_ascii=False))
        return
    document, count = _checked_rules(svc, record, target, source)
    try:
        svc.registry.update_feed(store, feed, lambda f: setattr(f, "rules", document))
    except (UnknownStore, UnknownFeed) as exc:
        fail(str(exc))
    click.echo(f"{store}: feed {target.id} ({target.name}): {count} rules saved.")
    _queue(svc, record, "rules imported")


def _checked_rules(
    svc: Services, store: Store, feed: StoreFeed, source: str
) -> tuple[dict[str, object], int]:
    """The rules document in `source` and its rule count, or every mistake printed with its
    place (and exit 1)."""
    from feedapp.feed.rules import MAX_FILE_BYTES, RuleContext, dump_rules, load_rules
    from feedapp.feed.textclean import plain_text

    raw = _read_bounded(source, MAX_FILE_BYTES + 1)  # one byte more: load_rules refuses it
    # The store's categories, once a build (or the page) has read them: the ids rules name.
    tree = (svc.registry.get_json(store.code, "categories") or {}).get("categories")
    known = RuleContext(tree).knows if isinstance(tree, list) and tree else None
    parsed, errors = load_rules(raw, known_category=known)
    if errors:
        where = f"{store.code}: feed {feed.id}"
        fail_all(
            [f"{where}: {e.place or 'file'}: {words(e.error)}" for e in errors],
            f"{where}: {len(errors)} mistake(s) in {source}; the rules were not changed.",
        )
    description = json.loads(raw.decode("utf-8-sig")).get("description")
    return dump_rules(parsed, plain_text(description)[0] if description else ""), len(parsed)


def _read_bounded(source: str, limit: int) -> bytes:
    """At most `limit` bytes of a file, or of stdin for '-': a huge file is never read whole."""
    try:
        if source == "-":
            return sys.stdin.buffer.read(limit)
        with open(source, "rb") as handle:
            return handle.read(limit)
    except OSError as exc:
        fail_all([f"Cannot read {source}: {exc.strerror or exc}."])


@feeds_cli.command("rebuild")
@click.argument("store", required=False)
@click.argument("feed", required=False)
@click.option("--all", "all_", is_flag=True, help="Every installed store.")
@click.option("--due", is_flag=True, help="Only stores whose feed is due, as the scheduler would.")
@click.option("--sync", is_flag=True, help="Build here, with a progress bar, instead of queueing.")
@click.option("--force", is_flag=True, help="Publish even if the feed shrank by more than half.")
def rebuild(
    store: str | None, feed: str | None, all_: bool, due: bool, sync: bool, force: bool
) -> None:
    """Queue (or with --sync, run) a build of a store's feeds (all of them, FEED included)."""
    from workers.scheduler import due_stores

    svc = current_services()
    if store and feed:
        target = chosen_feeds(load_store(store), feed)[0]
        click.echo(
            f"{store}: feed {target.id} ({target.name}) is built with the store's other feeds: "
            "a build always builds all of them."
        )
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
    for outcome in result.feeds:
        click.echo(f"  feed {outcome.feed_id} ({outcome.name}): {outcome.items} items")
    return True


@feeds_cli.command("status")
@click.argument("store", required=False)
@click.argument("feed", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per store, one per line.")
def status(store: str | None, feed: str | None, as_json: bool) -> None:
    """The build of each store (state, progress, last error) and the state of each of its feeds."""
    svc = current_services()
    codes = [store] if store else svc.registry.codes()
    failed = False
    for code in codes:
        record = load_store(code)
        info = store_status(svc, code)
        failed |= info["state"] == "failed"
        shown = {f.id for f in chosen_feeds(record, feed)}
        info["feeds"] = [one for one in statuses_of(info) if one["id"] in shown]
        if as_json:
            info["password_protected"] = record.feed_protected
            click.echo(json.dumps(info, sort_keys=True))
            continue
        _print_status(info, record)
    sys.exit(1 if failed and store else 0)


def _print_status(info: dict[str, object], record: Store) -> None:
    """A store's build and each of its feeds, as `feeds status` shows them to a person."""
    feeds = statuses_of(info)
    click.echo(f"{info['store']}: {info['state']}; {len(feeds)} feed(s) shown")
    progress = info["progress"]
    if isinstance(progress, dict):
        click.echo(f"  progress: page {progress['pages_done']} of {progress['pages_total']}")
    if info["error"]:
        click.echo(f"  last error: {info['error']}")
    click.echo(f"  feed password: {protection(record)}")
    for one in feeds:
        row = feed_row(record, record.feed(str(one["id"])), one)
        click.echo(
            f"  feed {row['id']} {row['name']} ({row['language'] or '-'}, "
            f"{row['country'] or '-'}): {describe(row)}"
        )
        if row["error"]:
            click.echo(f"    last build: {row['error']}")
        problems = one.get("problems")
        for code_name, count in (problems if isinstance(problems, dict) else {}).items():
            click.echo(f"    {code_name}: {count}")


@feeds_cli.command("url")
@click.argument("store")
@click.argument("feed", required=False)
def url(store: str, feed: str | None) -> None:
    """Print a feed's URL to paste into Merchant Center; without FEED, "id name: URL" for each."""
    record = load_store(store)
    for one in chosen_feeds(record, feed):
        click.echo(feed_url(one.token) if feed else url_line(one))
    if record.feed_protected:
        click.echo(f"Password protection: {protection(record)}", err=True)


@feeds_cli.command("rotate-url")
@click.argument("store")
@click.argument("feed", required=False)
def rotate_url(store: str, feed: str | None) -> None:
    """Give a feed (without FEED, every feed of the store) a new URL; old ones work 48 hours."""
    registry = current_services().registry
    for one in chosen_feeds(load_store(store), feed):
        try:
            rotated = registry.rotate_feed_token(store, one.id)
        except (UnknownStore, UnknownFeed, TokenKeyError) as exc:
            fail(str(exc))
        click.echo(
            f"{store}: feed {rotated.id} ({rotated.name}): new URL {feed_url(rotated.token)}"
        )
    click.echo("The old URLs keep working for 48 hours; update Merchant Center before then.")


@feeds_cli.command("auth")
@click.argument("store")
@click.option(
    "--on/--off",
    "on",
    default=None,
    help="--on: a username and a new password, shown once; --off: no password. Neither: show.",
)
def auth(store: str, on: bool | None) -> None:
    """Password-protect a store's feeds (HTTP Basic) or open them again; the URLs stay the same."""
    registry = current_services().registry
    try:
        record = registry.get(store)
        if on is None:
            click.echo(f"{store}: feed password {protection(record)}")
            return
        if not on:
            registry.unprotect_feed(store)
            click.echo(f"{store}: the feeds need no password any more (same URLs).")
            click.echo(
                "Merchant Center may keep the old username and password in its fetch "
                "settings; they are no longer checked."
            )
            return
        given = registry.protect_feed(store)
    except (UnknownStore, TokenKeyError) as exc:
        fail(str(exc))
    click.echo(f"{store}: fetching any of its feeds now needs this username and password.")
    click.echo(f"  username: {given.username}")
    click.echo(f"  password: {given.password}")
    click.echo("Shown this once: nothing keeps the password but its hash.")
    click.echo(
        "Paste them into Merchant Center: Products > Feeds > this feed > Settings > Fetch "
        "settings > username and password (or Settings > Data sources > this source > fetch "
        "settings). Until then its fetches are refused (401)."
    )
    click.echo("Feed URLs (unchanged):")
    for one in record.feeds:
        click.echo(f"  {url_line(one)}")
