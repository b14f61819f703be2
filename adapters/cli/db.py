"""IT's hands on the database: migrate it (for deployments that migrate in a job and start
servers with `serve --no-migrate`), say where it stands, take it back for a rollback, and back
up a SQLite file while the server runs."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.engine import make_url

from adapters.cli.context import Context, config_option, fail, load_settings
from bot import migrate
from bot.storage import Store

_T = TypeVar("_T")


def on_database(
    ctx: Context, config_file: Path | None, work: Callable[[Store], Awaitable[_T]]
) -> _T:
    """Run `work` on the configured database; a migration problem is one line and exit 1."""
    settings = load_settings(ctx, config_file)

    async def run() -> _T:
        store = Store.connect(settings.database_url)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except migrate.MigrationError as exc:
        fail(str(exc), status=1)


@click.group()
def db() -> None:
    """Migrate the database, see where it stands, roll it back, back it up."""


@db.command("upgrade")
@config_option
@click.pass_obj
def db_upgrade(ctx: Context, config_file: Path | None) -> None:
    """Bring the tables up to this release (what `serve` does unless --no-migrate)."""

    async def upgrade(store: Store) -> str | None:
        await migrate.migrate(store.engine)
        return await migrate.current(store.engine)

    click.echo(f"database at revision {on_database(ctx, config_file, upgrade)}")


@db.command("current")
@config_option
@click.pass_obj
def db_current(ctx: Context, config_file: Path | None) -> None:
    """The database's revision, and this release's."""

    async def current(store: Store) -> str | None:
        return await migrate.current(store.engine)

    found = on_database(ctx, config_file, current)
    click.echo(f"database: {found or 'no tables yet'}; this release: {migrate.head()}")


@db.command("history")
def db_history() -> None:
    """The revisions this release knows, oldest first."""
    for revision in migrate.history():
        click.echo(f"{revision.id}  {revision.about}")


@db.command("downgrade")
@click.argument("revision")
@config_option
@click.pass_obj
def db_downgrade(ctx: Context, revision: str, config_file: Path | None) -> None:
    """Take the tables back to REVISION, to run an older release against them. Run it with
    the newer release (it knows how), servers stopped; what later revisions added is dropped."""

    async def downgrade(store: Store) -> str | None:
        await migrate.downgrade(store.engine, revision)
        return await migrate.current(store.engine)

    click.echo(f"database at revision {on_database(ctx, config_file, downgrade)}")


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@config_option
@click.pass_obj
def db_backup(ctx: Context, file: Path, config_file: Path | None) -> None:
    """Copy a SQLite database to FILE, consistently, while the server runs (SQLite's online
    backup). For PostgreSQL use pg_dump (see the README)."""
    url = make_url(load_settings(ctx, config_file).database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        fail("backup copies a SQLite database; for PostgreSQL use pg_dump (see the README)")
    if not Path(url.database).is_file():
        fail(f"there is no database at {url.database}")
    if file.exists():
        fail(f"{file} exists: choose a new file")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.touch(mode=0o600)  # reports, names and phone numbers: readable by its owner only
    with (
        contextlib.closing(sqlite3.connect(url.database)) as source,
        contextlib.closing(sqlite3.connect(file)) as copy,
    ):
        source.backup(copy)
    click.echo(f"backed up to {file}")
