"""How cases, their events, the outbox and the record of purged cases are stored, and how a
row is read back as the model."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.escalation.model import (
    Actor,
    Case,
    Event,
    EventKind,
    Outcome,
    PurgedCase,
    Reporter,
    Status,
)
from bot.escalation.report import IncidentReport
from bot.knowledge import IncidentKind, Route
from bot.storage import Base, aware_utc


class CaseRow(Base):
    __tablename__ = "escalation_case"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    org: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    routes: Mapped[str] = mapped_column(String(64))
    clause: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True)
    manager_involved: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[str] = mapped_column(Text)
    reporter_id: Mapped[str] = mapped_column(String(256), index=True)
    reporter_platform: Mapped[str] = mapped_column(String(16))
    reporter_address: Mapped[str | None] = mapped_column(String(512))
    assigned_to: Mapped[str | None] = mapped_column(String(256))
    outcome: Mapped[str | None] = mapped_column(String(32))
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_reminder_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    # Past retention: its messages are being removed, then the case is deleted.
    purge_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CaseEventRow(Base):
    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("escalation_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(256))
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The platform's id for the click or submission, so that a replay is recognised.
    dedupe: Mapped[str | None] = mapped_column(String(256), unique=True)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("escalation_case.id"), index=True)
    dedupe: Mapped[str] = mapped_column(String(256), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    route: Mapped[str | None] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(512))
    thread_of: Mapped[str | None] = mapped_column(String(32))
    # The address is a person (the reporter's direct messages), not a channel.
    direct: Mapped[bool] = mapped_column(Boolean, default=False)
    # A removal's target: the platform's id of the message to delete.
    removes: Mapped[str | None] = mapped_column(String(256))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The platform's id for what was posted; for a removal, what became of it (`Removal`).
    message_id: Mapped[str | None] = mapped_column(String(256))
    error: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PurgedCaseRow(Base):
    """That a case existed and was purged on schedule, for the council's records: no report,
    no names, no timeline."""

    __tablename__ = "purged_case"

    reference: Mapped[str] = mapped_column(String(16), primary_key=True)
    org: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    messages_deleted: Mapped[int] = mapped_column(Integer)
    messages_tombstoned: Mapped[int] = mapped_column(Integer)
    messages_kept: Mapped[int] = mapped_column(Integer)
    messages_failed: Mapped[int] = mapped_column(Integer)


def event_of(row: CaseEventRow) -> Event:
    return Event(
        kind=EventKind(row.kind),
        actor=Actor.parse(row.actor),
        at=aware_utc(row.at) or row.at,
        detail=json.loads(row.detail),
    )


def purged_of(row: PurgedCaseRow) -> PurgedCase:
    return PurgedCase(
        reference=row.reference,
        org=row.org,
        kind=IncidentKind(row.kind),
        created_at=aware_utc(row.created_at) or row.created_at,
        resolved_at=aware_utc(row.resolved_at),
        purged_at=aware_utc(row.purged_at) or row.purged_at,
        messages_deleted=row.messages_deleted,
        messages_tombstoned=row.messages_tombstoned,
        messages_kept=row.messages_kept,
        messages_failed=row.messages_failed,
    )


def case_of(row: CaseRow) -> Case:
    created = aware_utc(row.created_at)
    assert created is not None
    return Case(
        id=row.id,
        reference=row.reference,
        org=row.org,
        kind=IncidentKind(row.kind),
        routes=tuple(Route(route) for route in row.routes.split(",")),
        clause=row.clause,
        status=Status(row.status),
        manager_involved=row.manager_involved,
        report=IncidentReport.model_validate_json(row.report),
        reporter=Reporter(Actor.parse(row.reporter_id), address=row.reporter_address),
        assigned_to=Actor.parse(row.assigned_to) if row.assigned_to else None,
        outcome=Outcome(row.outcome) if row.outcome else None,
        legal_hold=row.legal_hold,
        created_at=created,
        acknowledged_at=aware_utc(row.acknowledged_at),
        resolved_at=aware_utc(row.resolved_at),
    )
