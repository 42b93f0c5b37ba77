"""complaints, person-level suspensions, fee publication of orders

- `complaints` and `complaint_evidence`: cases about schools' after-school services
  (workflows/complaint.py), with the bureau's evidence files;
- `public_rate_windows`: the public complaint form's rate limit, per address and school;
- `person_suspensions`: a person's entry suspended everywhere pending a complaint's
  investigation (the lookups answer `not_cleared`, orders naming the person are blocked);
- `whitelist_action_requests`: may also ask for a suspension (an upheld serious
  complaint's, confirmed by a second reviewer), with the complaint it comes from;
- `school_orders.accepted_at`: from that day the order's fee is on the school's public
  fee list and chargeable (§3(2)).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_code", sa.String(length=20, collation="C"), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", S(length=6), nullable=False),
        sa.Column("category", S(length=32), nullable=False),
        sa.Column("description", S(length=2000), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("service_item_id", sa.Uuid(), nullable=True),
        sa.Column("vendor_id", sa.Uuid(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("source", S(length=16), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=True),
        sa.Column("state", S(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=True),
        sa.Column("decision_reason", S(length=2000), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", T(), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
        sa.CheckConstraint("state IN ('received', 'investigating', 'upheld', 'dismissed')", name="ck_complaints_state"),
        sa.CheckConstraint("source IN ('school', 'vendor', 'inspector', 'public')", name="ck_complaints_source"),
        sa.CheckConstraint(
            "category IN ('safety', 'conduct', 'fee_overcharge', 'fee_bundling', "
            "'forced_participation', 'new_lessons')",
            name="ck_complaints_category",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["school_orders.id"],
        ),
        sa.ForeignKeyConstraint(
            ["service_item_id"],
            ["service_items.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_code"),
    )
    for column in ("school_id", "region_code", "order_id", "vendor_id", "person_id", "state"):
        op.create_index(op.f(f"ix_complaints_{column}"), "complaints", [column], unique=False)

    op.create_table(
        "complaint_evidence",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("complaint_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", S(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", S(length=40), nullable=False),
        sa.Column("filename", S(length=200), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_complaint_evidence_complaint_id"), "complaint_evidence", ["complaint_id"], unique=False)

    op.create_table(
        "public_rate_windows",
        sa.Column("key", sa.String(length=80, collation="C"), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start"),
    )

    op.create_table(
        "person_suspensions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("complaint_id", sa.Uuid(), nullable=True),
        sa.Column("suspended_at", T(), nullable=False),
        sa.Column("suspended_by", sa.Uuid(), nullable=True),
        sa.Column("lifted_at", T(), nullable=True),
        sa.Column("lifted_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.ForeignKeyConstraint(
            ["suspended_by"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_person_suspensions_person_id"), "person_suspensions", ["person_id"], unique=False)
    op.create_index(
        "ix_person_suspensions_open",
        "person_suspensions",
        ["person_id"],
        unique=False,
        postgresql_where=sa.text("lifted_at IS NULL"),
    )

    op.drop_constraint("ck_whitelist_action_requests_action", "whitelist_action_requests", type_="check")
    op.create_check_constraint(
        "ck_whitelist_action_requests_action",
        "whitelist_action_requests",
        "action IN ('revoke', 'reinstate', 'suspend')",
    )
    op.add_column("whitelist_action_requests", sa.Column("complaint_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "whitelist_action_requests_complaint_id_fkey",
        "whitelist_action_requests",
        "complaints",
        ["complaint_id"],
        ["id"],
    )

    op.add_column("school_orders", sa.Column("accepted_at", T(), nullable=True))
    # Orders accepted before this revision: their last change was the acceptance.
    op.execute("UPDATE school_orders SET accepted_at = updated_at WHERE state = 'accepted'")


def downgrade() -> None:
    op.drop_column("school_orders", "accepted_at")
    op.drop_constraint("whitelist_action_requests_complaint_id_fkey", "whitelist_action_requests", type_="foreignkey")
    op.drop_column("whitelist_action_requests", "complaint_id")
    op.execute("DELETE FROM whitelist_action_requests WHERE action = 'suspend'")
    op.drop_constraint("ck_whitelist_action_requests_action", "whitelist_action_requests", type_="check")
    op.create_check_constraint(
        "ck_whitelist_action_requests_action", "whitelist_action_requests", "action IN ('revoke', 'reinstate')"
    )
    op.drop_index("ix_person_suspensions_open", table_name="person_suspensions")
    op.drop_index(op.f("ix_person_suspensions_person_id"), table_name="person_suspensions")
    op.drop_table("person_suspensions")
    op.drop_table("public_rate_windows")
    op.drop_index(op.f("ix_complaint_evidence_complaint_id"), table_name="complaint_evidence")
    op.drop_table("complaint_evidence")
    for column in ("school_id", "region_code", "order_id", "vendor_id", "person_id", "state"):
        op.drop_index(op.f(f"ix_complaints_{column}"), table_name="complaints")
    op.drop_table("complaints")
