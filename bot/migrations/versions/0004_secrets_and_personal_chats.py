"""Secrets a deployment makes for itself and every replica shares, such as the salt askers are
stored under when the settings give none (security review M5: the default was a public
constant); and which stored conversations are a person's own chat, kept only while a case of
theirs is (security review L5).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployment_secret",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )
    # A database from before migrations may have only the questions table (it is stamped
    # 0001 as it is): it has no conversations to mark.
    if "conversation" in sa.inspect(op.get_bind()).get_table_names():
        op.add_column(
            "conversation",
            sa.Column("personal", sa.Boolean, nullable=False, server_default=sa.false()),
        )


def downgrade() -> None:
    if "conversation" in sa.inspect(op.get_bind()).get_table_names():
        with op.batch_alter_table("conversation") as conversation:
            conversation.drop_column("personal")
    op.drop_table("deployment_secret")
