"""What staff ask and what they thought of the answers, stored for the policy owners' reports.

SQLAlchemy 2 (async): an SQLite file for one instance, PostgreSQL via a `postgresql+asyncpg://`
URL for several. What is stored of a question is what the answer was: which council, which
kind of reply, which clause and how sure; the asker is an opaque id. The text is kept, redacted,
only for a question the bot did not answer or whose answer was marked not helpful (see
bot/answering.py), and forgotten after the council's retention period for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.assistant import Reply
from bot.matcher import Kind
from bot.migrate import migrate

log = logging.getLogger("policybot.storage")
MAX_BATCH = 500
_ASKED_ID = re.compile(r"[0-9a-f]{32}")  # uuid4().hex, as record_asked gives them out
RETRY_SECONDS = 1.0
# Records waiting for the database at most: while it cannot be written, answers go on but what
# is kept of them is bounded, so an outage cannot grow the server until it is killed.
MAX_QUEUED = 20_000
CLOSE_TIMEOUT_SECONDS = 10.0


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    # Write-ahead logging lets readers and the writer work at once, and NORMAL sync is durable
    # against a process crash while not waiting for the disk on every answered question.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class DatabaseFileError(OSError):
    """The SQLite file cannot be made or opened where the settings put it."""


def _private_file(path: Path) -> None:
    """The SQLite file, readable by this user alone: it holds reports, names and phone numbers.
    SQLite gives its -wal and -shm files the database file's permissions, so they are private
    too (security review M8). Made before SQLite opens it, so it is never readable by others."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
    except OSError as exc:
        raise DatabaseFileError(f"cannot make the database file {path}: {exc.strerror}") from None


class Base(DeclarativeBase):
    pass


class AskedRow(Base):
    __tablename__ = "asked"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    org: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    clause: Mapped[str | None] = mapped_column(String(128))
    score: Mapped[float] = mapped_column(Float)
    asker: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Redacted (bot/redaction.py), and only for a question not answered or marked not helpful.
    text: Mapped[str | None] = mapped_column(Text)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asked_id: Mapped[str] = mapped_column(ForeignKey("asked.id"), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class _AskedText(Base):
    """Not a table of its own: the text kept for a question after it was asked (marked not
    helpful), queued behind the question's own row and written into it."""

    __abstract__ = True


class ProcessedEventRow(Base):
    """Platform events already handled, so that a retried delivery is answered only once, across
    restarts and replicas."""

    __tablename__ = "processed_event"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConversationRow(Base):
    """Where a chat platform let the bot in (a Teams channel, say), kept so that alerts can later
    be posted there unprompted. `reference` is the adapter's own serialised data: the core
    stores it and never reads it."""

    __tablename__ = "conversation"

    id: Mapped[str] = mapped_column(String(512), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    org: Mapped[str | None] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A person's own chat with the bot (kept while a case they reported is), not a channel.
    personal: Mapped[bool] = mapped_column(Boolean, default=False)


class DeploymentSecretRow(Base):
    """A secret the deployment made for itself (`Store.kept_secret`), the same for every
    replica and every restart."""

    __tablename__ = "deployment_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class InstalledWorkspaceRow(Base):
    """A chat workspace the bot was installed in through the platform's install flow, the
    council it serves, and the bot's token there (a secret: never logged, never exported)."""

    __tablename__ = "installed_workspace"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # "slack:T0123"
    platform: Mapped[str] = mapped_column(String(16))
    org: Mapped[str] = mapped_column(String(64), index=True)
    bot_token: Mapped[str] = mapped_column(String(256))
    bot_user_id: Mapped[str | None] = mapped_column(String(64))
    installed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InstallStateRow(Base):
    """An install under way: the council it was started for, until it expires."""

    __tablename__ = "install_state"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    org: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class Workspace:
    """Where the bot is installed, for which council, with which token."""

    platform: str
    team_id: str
    org: str
    bot_token: str
    bot_user_id: str | None


@dataclass(frozen=True, slots=True)
class Asked:
    """One answered question, as stored."""

    org: str
    kind: str
    clause: str | None
    score: float
    asker: str
    channel: str
    text: str | None = None

    @classmethod
    def of(cls, reply: Reply, *, asker: str, channel: str, text: str | None = None) -> Asked:
        """What is stored of a reply: its council, kind, clause and score. `asker` must already
        be opaque (see `opaque_asker`); `text`, if any, already redacted."""
        best = reply.matches[0] if reply.matches else None
        return cls(
            org=reply.question.org,
            kind=reply.kind.value,
            clause=best.clause.id if best and reply.kind is not Kind.FALLBACK else None,
            score=best.score if best else 0.0,
            asker=asker,
            channel=channel,
            text=text,
        )


@dataclass(frozen=True, slots=True)
class AskedRecord:
    """One stored question as a person's data export shows it, with what they said of it."""

    id: str
    org: str
    kind: str
    clause: str | None
    score: float
    channel: str
    at: datetime
    helpful: list[bool]
    text: str | None = None


@dataclass(frozen=True, slots=True)
class DayCount:
    """How many of a council's questions one day got one kind of reply on one platform."""

    day: str  # YYYY-MM-DD, UTC
    kind: str
    channel: str
    count: int


@dataclass(frozen=True, slots=True)
class ClauseCount:
    clause: str
    answered: int  # times it was the answer
    not_helpful: int  # times staff marked that answer not helpful


@dataclass(frozen=True, slots=True)
class KeptQuestion:
    """A question whose (redacted) text was kept: not answered, or marked not helpful."""

    text: str
    asker: str  # opaque
    kind: str
    clause: str | None
    at: datetime
    not_helpful: bool


class UnknownQuestionError(LookupError):
    """Feedback names a question that was never stored."""


def aware_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for what was stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def opaque_asker(asker: str, *, salt: str) -> str:
    """The id stored for an asker: the same person maps to the same id, which says nothing."""
    return hashlib.sha256(f"{salt}:{asker}".encode()).hexdigest()[:32]


class Store:
    """The database behind the assistant. Create with `Store.connect(url)`."""

    def __init__(self, engine: AsyncEngine, *, max_queued: int = MAX_QUEUED) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._queue: asyncio.Queue[tuple[type[Base], dict[str, Any]]] = asyncio.Queue(max_queued)
        # Since when the writer has failed to write (None while writes succeed), and how many
        # records were not kept because the queue was full: /readyz and /metrics show both.
        self.writes_failing_since: datetime | None = None
        self.dropped = 0
        self._pending: set[str] = set()  # question ids queued but not yet written
        self._writer: asyncio.Task[None] | None = None
        # One write transaction at a time from this process: SQLite would otherwise make the
        # second writer sleep in its busy handler, which shows as latency spikes.
        self._write_lock = asyncio.Lock()
        self._secrets: dict[str, str] = {}

    @classmethod
    def connect(cls, url: str, *, schema: str | None = None, max_queued: int = MAX_QUEUED) -> Store:
        """`schema` puts the tables in a PostgreSQL schema of their own (tests use one each)."""
        # Errors quote the statement but not its parameters: those are people's reports.
        engine = create_async_engine(url, hide_parameters=True)
        if schema is not None:
            engine = engine.execution_options(schema_translate_map={None: schema})
        if engine.dialect.name == "sqlite":
            database = engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                _private_file(Path(database))
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return cls(engine, max_queued=max_queued)

    async def kept_secret(self, name: str) -> str:
        """The deployment's own secret called `name`: made at random the first time it is
        asked for, then read back (a replica racing to make it gets the winner's)."""
        if (known := self._secrets.get(name)) is not None:
            return known
        async with self.session() as session:
            value = await session.scalar(
                select(DeploymentSecretRow.value).where(DeploymentSecretRow.name == name)
            )
        if value is None:
            try:
                async with self.write_session() as session:
                    session.add(DeploymentSecretRow(name=name, value=secrets.token_urlsafe(32)))
            except IntegrityError:
                pass
            async with self.session() as session:
                value = await session.scalar(
                    select(DeploymentSecretRow.value).where(DeploymentSecretRow.name == name)
                )
        assert value is not None
        self._secrets[name] = value
        return value

    async def start_install(self, *, platform: str, org: str, seconds: float) -> str:
        """A one-time state for installing the bot for `org`, valid for `seconds`."""
        state = secrets.token_urlsafe(32)
        async with self.write_session() as session:
            session.add(
                InstallStateRow(
                    state=state,
                    platform=platform,
                    org=org,
                    expires_at=datetime.now(UTC) + timedelta(seconds=seconds),
                )
            )
        return state

    async def finish_install(self, *, platform: str, state: str) -> str | None:
        """The council an install was started for, once: None for an unknown, used or
        expired state."""
        async with self.write_session() as session:
            row = await session.get(InstallStateRow, state[:64])
            if row is None or row.platform != platform:
                return None
            await session.delete(row)
            expires = aware_utc(row.expires_at)
            return row.org if expires is not None and expires > datetime.now(UTC) else None

    async def save_workspace(self, workspace: Workspace) -> None:
        async with self.write_session() as session:
            await session.merge(
                InstalledWorkspaceRow(
                    id=f"{workspace.platform}:{workspace.team_id}",
                    platform=workspace.platform,
                    org=workspace.org,
                    bot_token=workspace.bot_token,
                    bot_user_id=workspace.bot_user_id,
                    installed_at=datetime.now(UTC),
                )
            )

    async def workspace(self, *, platform: str, team_id: str) -> Workspace | None:
        async with self.session() as session:
            row = await session.get(InstalledWorkspaceRow, f"{platform}:{team_id}")
        return _workspace_of(row) if row else None

    async def workspace_of_org(self, *, platform: str, org: str) -> Workspace | None:
        """The workspace most recently installed for `org` (where its desks are)."""
        async with self.session() as session:
            row = await session.scalar(
                select(InstalledWorkspaceRow)
                .where(InstalledWorkspaceRow.platform == platform, InstalledWorkspaceRow.org == org)
                .order_by(InstalledWorkspaceRow.installed_at.desc())
                .limit(1)
            )
        return _workspace_of(row) if row else None

    async def asker_salt(self, configured: str | None) -> str:
        """The salt askers are stored under: the settings' own, or else one this deployment
        made for itself and keeps in the database (never a constant anyone could know)."""
        return configured or await self.kept_secret("asker_salt")

    async def create_tables(self) -> None:
        """Create or upgrade the tables (Alembic migrations in bot/migrations)."""
        await migrate(self.engine)

    async def close(self) -> None:
        """Write what is still queued, then close the connections."""
        if self._writer is not None:
            try:
                await asyncio.wait_for(self._queue.join(), timeout=CLOSE_TIMEOUT_SECONDS)
            except TimeoutError:
                log.error("closing with %d rows not stored", self._queue.qsize())
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        await self.engine.dispose()

    def session(self) -> AsyncSession:
        """A session for reading."""
        return self._sessions()

    @contextlib.asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction, committed on exit; this process's writes take turns."""
        async with self._write_lock, self._sessions.begin() as session:
            yield session

    async def ping(self) -> None:
        """Raises when the database cannot be reached."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    # Writes go through one queue and one writer task that inserts whatever has gathered in a
    # single transaction: answering never waits for the disk, concurrent requests never fight
    # over SQLite's write lock, and a busy server writes hundreds of rows per commit.

    async def start(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_forever(), name="policybot-store")

    async def flush(self) -> None:
        """Wait until everything recorded so far is in the database."""
        if self._writer is None:
            await self._write(self._drain())
        else:
            await self._queue.join()

    async def record_asked(self, asked: Asked, *, at: datetime | None = None) -> str:
        """Store an answered question; returns its id at once (it is written shortly after)."""
        asked_id = uuid.uuid4().hex
        row = {"id": asked_id, **asdict(asked), "at": at or datetime.now(UTC)}
        if self._enqueue(AskedRow, row):
            self._pending.add(asked_id)
        return asked_id

    async def record_feedback(
        self,
        asked_id: str,
        *,
        helpful: bool,
        at: datetime | None = None,
        text: str | None = None,
    ) -> None:
        """`text`: the question's redacted text, kept with it when it was not helpful."""
        if not _ASKED_ID.fullmatch(asked_id):  # never given out: and a NUL would be a 500
            raise UnknownQuestionError(asked_id)
        if asked_id not in self._pending:
            async with self._sessions() as session:
                if await session.get(AskedRow, asked_id) is None:
                    raise UnknownQuestionError(asked_id)
        row = {"asked_id": asked_id, "helpful": helpful, "at": at or datetime.now(UTC)}
        self._enqueue(FeedbackRow, row)
        if text is not None and not helpful:
            self._enqueue(_AskedText, {"id": asked_id, "text": text})

    def _enqueue(self, table: type[Base], row: dict[str, Any]) -> bool:
        try:
            self._queue.put_nowait((table, row))
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.error("the database is not taking writes: %d records not kept", self.dropped)
            return False
        return True

    def _drain(self) -> list[tuple[type[Base], dict[str, Any]]]:
        batch: list[tuple[type[Base], dict[str, Any]]] = []
        while not self._queue.empty() and len(batch) < MAX_BATCH:
            batch.append(self._queue.get_nowait())
        return batch

    async def _write(self, batch: list[tuple[type[Base], dict[str, Any]]]) -> None:
        if not batch:
            return
        async with self._write_lock, self.engine.begin() as connection:
            # Questions before feedback, so that feedback never names a row not yet there.
            for table in (AskedRow, FeedbackRow):
                rows = [row for kind, row in batch if kind is table]
                if rows:
                    await connection.execute(insert(table), rows)
            for kind, row in batch:
                if kind is _AskedText:
                    await connection.execute(
                        update(AskedRow).where(AskedRow.id == row["id"]).values(text=row["text"])
                    )
        for kind, row in batch:
            if kind is AskedRow:
                self._pending.discard(row["id"])

    async def _write_forever(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first, *self._drain()]
            while True:
                try:
                    await self._write(batch)
                    self.writes_failing_since = None
                    break
                except Exception:  # the database is away: keep the rows and try again
                    if self.writes_failing_since is None:
                        self.writes_failing_since = datetime.now(UTC)
                    log.exception("could not store %d rows; retrying", len(batch))
                    await asyncio.sleep(RETRY_SECONDS)
            for _ in batch:
                self._queue.task_done()

    async def claim_event(self, event_id: str) -> bool:
        """True the first time an event id is claimed, False for every later delivery."""
        try:
            async with self._write_lock, self.engine.begin() as connection:
                await connection.execute(
                    insert(ProcessedEventRow), [{"id": event_id, "at": datetime.now(UTC)}]
                )
        except IntegrityError:
            return False
        return True

    async def save_conversation(
        self,
        *,
        platform: str,
        conversation_id: str,
        org: str | None,
        reference: str,
        personal: bool = False,
    ) -> None:
        """Remember (or refresh) where the bot may post later. A `personal` chat holds who the
        person is: it is kept only while a case they reported is (`Retention`)."""
        async with self._write_lock, self._sessions.begin() as session:
            await session.merge(
                ConversationRow(
                    id=f"{platform}:{conversation_id}",
                    platform=platform,
                    org=org,
                    reference=reference,
                    at=datetime.now(UTC),
                    personal=personal,
                )
            )

    async def conversation(self, *, platform: str, conversation_id: str) -> str | None:
        async with self._sessions() as session:
            row = await session.get(ConversationRow, f"{platform}:{conversation_id}")
            return row.reference if row else None

    async def count_by_kind(self, org: str) -> dict[str, int]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(AskedRow.kind, func.count())
                .where(AskedRow.org == org)
                .group_by(AskedRow.kind)
            )
            return {row[0]: row[1] for row in rows}

    async def feedback_summary(self, org: str) -> dict[bool, int]:
        """How many answers for `org` staff found helpful (True) and not (False)."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(FeedbackRow.helpful, func.count())
                .join(AskedRow, FeedbackRow.asked_id == AskedRow.id)
                .where(AskedRow.org == org)
                .group_by(FeedbackRow.helpful)
            )
            return {bool(row[0]): row[1] for row in rows}

    async def day_counts(self, org: str, since: datetime) -> list[DayCount]:
        """`org`'s questions since `since`, counted by day, kind of reply and platform."""
        day = func.date(AskedRow.at)
        async with self._sessions() as session:
            rows = await session.execute(
                select(day, AskedRow.kind, AskedRow.channel, func.count())
                .where(AskedRow.org == org, AskedRow.at >= since)
                .group_by(day, AskedRow.kind, AskedRow.channel)
                .order_by(day)
            )
            return [DayCount(str(row[0])[:10], row[1], row[2], int(row[3])) for row in rows]

    async def clause_counts(self, org: str, since: datetime) -> list[ClauseCount]:
        """How often each of `org`'s clauses was the answer since `since`, and how often staff
        found it not helpful."""
        answered = AskedRow.kind == Kind.ANSWER.value
        async with self._sessions() as session:
            asked = await session.execute(
                select(AskedRow.clause, func.count())
                .where(AskedRow.org == org, AskedRow.at >= since, answered)
                .group_by(AskedRow.clause)
            )
            counts = {row[0]: int(row[1]) for row in asked if row[0]}
            unhelpful = await session.execute(
                select(AskedRow.clause, func.count(func.distinct(AskedRow.id)))
                .join(FeedbackRow, FeedbackRow.asked_id == AskedRow.id)
                .where(AskedRow.org == org, AskedRow.at >= since, answered)
                .where(FeedbackRow.helpful.is_(False))
                .group_by(AskedRow.clause)
            )
            marked = {row[0]: int(row[1]) for row in unhelpful if row[0]}
        return [
            ClauseCount(clause, counts.get(clause, 0), marked.get(clause, 0))
            for clause in sorted(counts.keys() | marked.keys())
        ]

    async def kept_questions(
        self, org: str, since: datetime, *, limit: int = 2000
    ) -> list[KeptQuestion]:
        """The newest `limit` questions of `org` since `since` whose text was kept."""
        async with self._sessions() as session:
            rows = list(
                await session.scalars(
                    select(AskedRow)
                    .where(AskedRow.org == org, AskedRow.at >= since)
                    .where(AskedRow.text.is_not(None))
                    .order_by(AskedRow.at.desc())
                    .limit(limit)
                )
            )
            unhelpful: set[str] = set()
            if rows:
                unhelpful = set(
                    await session.scalars(
                        select(FeedbackRow.asked_id).where(
                            FeedbackRow.asked_id.in_([row.id for row in rows]),
                            FeedbackRow.helpful.is_(False),
                        )
                    )
                )
        return [
            KeptQuestion(
                text=row.text or "",
                asker=row.asker,
                kind=row.kind,
                clause=row.clause,
                at=aware_utc(row.at) or row.at,
                not_helpful=row.id in unhelpful,
            )
            for row in rows
        ]

    async def feedback_for(self, asked_id: str) -> list[bool]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(FeedbackRow.helpful).where(FeedbackRow.asked_id == asked_id)
            )
            return list(rows)

    async def asked_by(self, asker: str) -> list[AskedRecord]:
        """Every question stored for one (opaque) asker, oldest first, with its feedback."""
        async with self._sessions() as session:
            rows = list(
                await session.scalars(
                    select(AskedRow).where(AskedRow.asker == asker).order_by(AskedRow.at)
                )
            )
            feedback: dict[str, list[bool]] = {}
            if rows:
                found = await session.execute(
                    select(FeedbackRow.asked_id, FeedbackRow.helpful)
                    .where(FeedbackRow.asked_id.in_([row.id for row in rows]))
                    .order_by(FeedbackRow.id)
                )
                for asked_id, helpful in found:
                    feedback.setdefault(asked_id, []).append(bool(helpful))
        return [
            AskedRecord(
                id=row.id,
                org=row.org,
                kind=row.kind,
                clause=row.clause,
                score=row.score,
                channel=row.channel,
                at=aware_utc(row.at) or row.at,
                helpful=feedback.get(row.id, []),
                text=row.text,
            )
            for row in rows
        ]

    async def delete_claims_before(self, cutoff: datetime, *, dry_run: bool = False) -> int:
        """Forget the event ids claimed before `cutoff`: a platform re-delivers an event within
        minutes, so older claims only grow the table; returns how many were (or would be)
        deleted."""
        old = ProcessedEventRow.at < cutoff
        if dry_run:
            async with self._sessions() as session:
                query = select(func.count()).select_from(ProcessedEventRow).where(old)
                return int(await session.scalar(query) or 0)
        async with self.write_session() as session:
            deleted = await session.execute(delete(ProcessedEventRow).where(old))
            return int(getattr(deleted, "rowcount", 0) or 0)

    async def forget_texts_before(
        self, org: str, cutoff: datetime, *, dry_run: bool = False
    ) -> int:
        """Blank the kept text of `org`'s questions asked before `cutoff` (the records stay for
        their own, longer retention); returns how many texts were, or would be, forgotten."""
        kept = (AskedRow.org == org, AskedRow.at < cutoff, AskedRow.text.is_not(None))
        if dry_run:
            async with self._sessions() as session:
                query = select(func.count()).select_from(AskedRow).where(*kept)
                return int(await session.scalar(query) or 0)
        async with self.write_session() as session:
            forgotten = await session.execute(update(AskedRow).where(*kept).values(text=None))
            return int(getattr(forgotten, "rowcount", 0) or 0)

    async def delete_asked_before(
        self, org: str, cutoff: datetime, *, dry_run: bool = False
    ) -> int:
        """Delete `org`'s question records (and their feedback) asked before `cutoff`; returns
        how many questions were, or with `dry_run` would be, deleted."""
        old = select(AskedRow.id).where(AskedRow.org == org, AskedRow.at < cutoff)
        if dry_run:
            async with self._sessions() as session:
                return int(
                    await session.scalar(select(func.count()).select_from(old.subquery())) or 0
                )
        async with self.write_session() as session:
            await session.execute(delete(FeedbackRow).where(FeedbackRow.asked_id.in_(old)))
            deleted = await session.execute(delete(AskedRow).where(AskedRow.id.in_(old)))
            return int(getattr(deleted, "rowcount", 0) or 0)


def _workspace_of(row: InstalledWorkspaceRow) -> Workspace:
    return Workspace(
        platform=row.platform,
        team_id=row.id.partition(":")[2],
        org=row.org,
        bot_token=row.bot_token,
        bot_user_id=row.bot_user_id,
    )
