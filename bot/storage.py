"""What staff ask and what they thought of the answers, stored for the policy owners' reports.

SQLAlchemy 2 (async): an SQLite file for one instance, PostgreSQL via a `postgresql+asyncpg://`
URL for several. Question text is never stored, only what the answer was: which council, which
kind of reply, which clause and how sure; the asker is an opaque id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    event,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    # Write-ahead logging lets readers and the writer work at once, and NORMAL sync is durable
    # against a process crash while not waiting for the disk on every answered question.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Base(DeclarativeBase):
    pass


class AskedRow(Base):
    __tablename__ = "asked"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    clause: Mapped[str | None] = mapped_column(String(128))
    score: Mapped[float] = mapped_column(Float)
    asker: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asked_id: Mapped[int] = mapped_column(ForeignKey("asked.id"), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class Asked:
    """One answered question, as stored."""

    org: str
    kind: str
    clause: str | None
    score: float
    asker: str
    channel: str


class UnknownQuestionError(LookupError):
    """Feedback names a question that was never stored."""


def opaque_asker(asker: str, *, salt: str) -> str:
    """The id stored for an asker: the same person maps to the same id, which says nothing."""
    return hashlib.sha256(f"{salt}:{asker}".encode()).hexdigest()[:32]


class Store:
    """The database behind the assistant. Create with `Store.connect(url)`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def connect(cls, url: str) -> Store:
        engine = create_async_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return cls(engine)

    async def create_tables(self) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        """Raises when the database cannot be reached."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def record_asked(self, asked: Asked, *, at: datetime | None = None) -> int:
        async with self._sessions.begin() as session:
            row = AskedRow(
                org=asked.org,
                kind=asked.kind,
                clause=asked.clause,
                score=asked.score,
                asker=asked.asker,
                channel=asked.channel,
                at=at or datetime.now(UTC),
            )
            session.add(row)
            await session.flush()
            return row.id

    async def record_feedback(
        self, asked_id: int, *, helpful: bool, at: datetime | None = None
    ) -> None:
        async with self._sessions.begin() as session:
            if await session.get(AskedRow, asked_id) is None:
                raise UnknownQuestionError(asked_id)
            session.add(FeedbackRow(asked_id=asked_id, helpful=helpful, at=at or datetime.now(UTC)))

    async def count_by_kind(self, org: str) -> dict[str, int]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(AskedRow.kind, func.count())
                .where(AskedRow.org == org)
                .group_by(AskedRow.kind)
            )
            return {row[0]: row[1] for row in rows}

    async def feedback_for(self, asked_id: int) -> list[bool]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(FeedbackRow.helpful).where(FeedbackRow.asked_id == asked_id)
            )
            return list(rows)
