"""terms and school orders

A region's school terms (`terms`), schools' orders of whitelisted service items for a
term (`school_orders`, the fee copied from the entry's published fee), and the people
named to teach each order (`school_order_people`, indexed by person so that the orders
naming someone are found at once). Standing is derived when read: no column holds it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:18.280971
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "terms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("timetable_due_on", sa.Date(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("ends_on > starts_on", name="ck_terms_dates"),
        sa.CheckConstraint("timetable_due_on >= starts_on", name="ck_terms_timetable_due"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_terms_region_code"), "terms", ["region_code"], unique=False)
    op.create_table(
        "school_orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("term_id", sa.Uuid(), nullable=False),
        sa.Column("service_item_id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("weekdays", postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("venue", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("class_size", sa.Integer(), nullable=False),
        sa.Column("grade_bands", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.Column("fee_unit", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("state IN ('placed', 'accepted', 'declined', 'cancelled')", name="ck_school_orders_state"),
        sa.CheckConstraint("cardinality(weekdays) >= 1", name="ck_school_orders_weekdays"),
        sa.CheckConstraint("class_size >= 1", name="ck_school_orders_class_size"),
        sa.CheckConstraint("end_time > start_time", name="ck_school_orders_times"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
        ),
        sa.ForeignKeyConstraint(
            ["service_item_id"],
            ["service_items.id"],
        ),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["terms.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_school_orders_region_code"), "school_orders", ["region_code"], unique=False)
    op.create_index(op.f("ix_school_orders_school_id"), "school_orders", ["school_id"], unique=False)
    op.create_index(op.f("ix_school_orders_service_item_id"), "school_orders", ["service_item_id"], unique=False)
    op.create_index(op.f("ix_school_orders_term_id"), "school_orders", ["term_id"], unique=False)
    op.create_index(op.f("ix_school_orders_vendor_id"), "school_orders", ["vendor_id"], unique=False)
    op.create_table(
        "school_order_people",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["school_orders.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
        ),
        sa.PrimaryKeyConstraint("order_id", "person_id"),
    )
    op.create_index(op.f("ix_school_order_people_person_id"), "school_order_people", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_school_order_people_person_id"), table_name="school_order_people")
    op.drop_table("school_order_people")
    op.drop_index(op.f("ix_school_orders_vendor_id"), table_name="school_orders")
    op.drop_index(op.f("ix_school_orders_term_id"), table_name="school_orders")
    op.drop_index(op.f("ix_school_orders_service_item_id"), table_name="school_orders")
    op.drop_index(op.f("ix_school_orders_school_id"), table_name="school_orders")
    op.drop_index(op.f("ix_school_orders_region_code"), table_name="school_orders")
    op.drop_table("school_orders")
    op.drop_index(op.f("ix_terms_region_code"), table_name="terms")
    op.drop_table("terms")
