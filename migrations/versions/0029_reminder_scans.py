"""reminder scans: the day's scan runs once across workers and restarts

The reminder scan reads every engaged person's clearance (about 110 s of CPU at a million
people by the rate measured in docs/performance.md). It ran once per China day in every
worker, and again at each worker's start; the unique key kept the reminders once, but not
the work. `reminder_scans` holds one row per scanned day, inserted in the scan's own
transaction by the worker that claims the day, so one worker scans and a failed scan
leaves the day unclaimed.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-08 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder_scans",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("scanned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )


def downgrade() -> None:
    op.drop_table("reminder_scans")
