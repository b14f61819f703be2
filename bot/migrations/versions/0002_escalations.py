"""Escalations: cases, their timeline, and the outbox of alerts and notices to deliver.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
CASE = sa.ForeignKey("escalation_case.id")


def upgrade() -> None:
    op.create_table(
        "escalation_case",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("org", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("routes", sa.String(64), nullable=False),
        sa.Column("clause", sa.String(128)),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("manager_involved", sa.Boolean, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("reporter_id", sa.String(256), nullable=False, index=True),
        sa.Column("reporter_platform", sa.String(16), nullable=False),
        sa.Column("reporter_address", sa.String(512)),
        sa.Column("assigned_to", sa.String(256)),
        sa.Column("outcome", sa.String(32)),
        sa.Column("legal_hold", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", WHEN, nullable=False, index=True),
        sa.Column("acknowledged_at", WHEN),
        sa.Column("resolved_at", WHEN),
        sa.Column("next_reminder_at", WHEN, index=True),
        sa.Column("reminders_sent", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "case_id",
            sa.String(32),
            sa.ForeignKey("escalation_case.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("dedupe", sa.String(256), unique=True),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "case_id",
            sa.String(32),
            sa.ForeignKey("escalation_case.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("dedupe", sa.String(256), nullable=False, unique=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("route", sa.String(16)),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("address", sa.String(512), nullable=False),
        sa.Column("thread_of", sa.String(32)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("claimed_until", WHEN),
        sa.Column("message_id", sa.String(256)),
        sa.Column("error", sa.String(256)),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    for table in ("outbox", "case_event", "escalation_case"):
        op.drop_table(table)
