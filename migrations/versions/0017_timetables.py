"""timetables

One row per school and term: the school's own after-school sessions (JSONB, as it wrote
them), the workflow state (draft, filed, published) and, once published, the whole
timetable as published (sessions with the ordered items, and the §1(1) numbers).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 07:49:40.707870
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "timetables",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("term_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sessions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("published", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("filed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("state IN ('draft', 'filed', 'published')", name="ck_timetables_state"),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
        ),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["terms.id"],
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("school_id", "term_id", name="uq_timetables_school_term"),
    )
    op.create_index(op.f("ix_timetables_region_code"), "timetables", ["region_code"], unique=False)
    op.create_index(op.f("ix_timetables_school_id"), "timetables", ["school_id"], unique=False)
    op.create_index(op.f("ix_timetables_term_id"), "timetables", ["term_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_timetables_term_id"), table_name="timetables")
    op.drop_index(op.f("ix_timetables_school_id"), table_name="timetables")
    op.drop_index(op.f("ix_timetables_region_code"), table_name="timetables")
    op.drop_table("timetables")
