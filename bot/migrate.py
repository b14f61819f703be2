"""Bring a database's tables up to date with Alembic, on startup and from `policybot db`; say
where a database stands, and take it back to an earlier revision for a rollback.

Migrations run inside one transaction on the caller's connection. On PostgreSQL an advisory lock
makes replicas starting together take turns; a database made before migrations existed (tables,
no version) is stamped as the first revision, then upgraded. A database newer than this code
(a release rolled back without downgrading first) is refused, naming both revisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
FIRST_REVISION = "0001"
ADVISORY_LOCK = 0x706F6C69  # "poli": any constant shared by every replica


class MigrationError(Exception):
    """The database and this code disagree about the schema; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Revision:
    id: str
    about: str  # the first paragraph of the migration's docstring


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The revision this code's tables are at."""
    found = ScriptDirectory.from_config(_config()).get_current_head()
    assert found is not None
    return found


def history() -> list[Revision]:
    """Every revision this code knows, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [
        Revision(each.revision, " ".join((each.doc or "").strip().split("\n\n")[0].split()))
        for each in reversed(list(script.walk_revisions()))
    ]


def _schema(connection: Connection) -> str | None:
    schema = (connection.get_execution_options().get("schema_translate_map") or {}).get(None)
    if schema and connection.dialect.name == "postgresql":
        # ALTER TABLE as Alembic writes it ignores the schema translation: name the schema.
        connection.execute(text(f'SET LOCAL search_path TO "{schema}"'))
    return str(schema) if schema else None


def _current(connection: Connection) -> str | None:
    _schema(connection)
    return MigrationContext.configure(connection).get_current_revision()


def _refuse_newer(connection: Connection) -> None:
    current = _current(connection)
    known = {revision.id for revision in history()}
    if current is not None and current not in known:
        raise MigrationError(
            f"the database is at revision {current}, newer than this release's {head()}: "
            f"run the newer release, or with it `policybot db downgrade {head()}` first"
        )


def _upgrade(connection: Connection) -> None:
    schema = _schema(connection)
    _refuse_newer(connection)
    config = _config(connection)
    tables = set(inspect(connection).get_table_names(schema=schema))
    if "asked" in tables and "alembic_version" not in tables:
        command.stamp(config, FIRST_REVISION)
    command.upgrade(config, "head")


def _downgrade(connection: Connection, revision: str) -> None:
    _schema(connection)
    _refuse_newer(connection)
    if revision not in {each.id for each in history()}:
        raise MigrationError(f"no revision {revision!r}: `policybot db history` lists them")
    command.downgrade(_config(connection), revision)


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade to this code's head (what `serve` does on startup)."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})"))
        await connection.run_sync(_upgrade)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the tables back to `revision`, before running an older release against them."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})"))
        await connection.run_sync(_downgrade, revision)


async def current(engine: AsyncEngine) -> str | None:
    """The database's revision (None: no tables made yet)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def check_current(engine: AsyncEngine) -> None:
    """For a server that does not migrate (`serve --no-migrate`): refuse a database that is
    not at this code's head, saying which way to go."""
    found = await current(engine)
    if found == head():
        return
    async with engine.connect() as connection:
        await connection.run_sync(_refuse_newer)
    raise MigrationError(
        f"the database is at revision {found or 'none'}, this release needs {head()}: "
        "run `policybot db upgrade` (or the deployment's migration job) first"
    )
