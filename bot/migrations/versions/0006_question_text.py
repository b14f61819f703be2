"""The redacted text of questions the bot could not answer, or that staff marked not helpful,
so that policy owners can learn what their policy is missing (issue 16). Answered questions
stay stored without text.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("asked", sa.Column("text", sa.Text(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column only by copying the table: batch mode does that there.
    with op.batch_alter_table("asked") as batch:
        batch.drop_column("text")
