"""decision letters and document numbers

`decision_letters`: one row per decision letter issued, made from the audit event of the
decision (unique `audit_event_id`), with its document number (unique per region and
year: `uq_decision_letters_number`, and as text) and its verification code.
`document_number_counters`: the last number issued per region and year.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_number_counters",
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"]),
        sa.PrimaryKeyConstraint("region_code", "year"),
    )
    op.create_table(
        "decision_letters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("audit_event_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("subject_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("verification_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("issued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["audit_event_id"], ["audit_events.id"]),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"]),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("audit_event_id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("verification_code"),
        sa.UniqueConstraint("region_code", "year", "seq", name="uq_decision_letters_number"),
    )
    op.create_index(op.f("ix_decision_letters_subject_id"), "decision_letters", ["subject_id"], unique=False)
    op.create_index(op.f("ix_decision_letters_vendor_id"), "decision_letters", ["vendor_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_decision_letters_vendor_id"), table_name="decision_letters")
    op.drop_index(op.f("ix_decision_letters_subject_id"), table_name="decision_letters")
    op.drop_table("decision_letters")
    op.drop_table("document_number_counters")
