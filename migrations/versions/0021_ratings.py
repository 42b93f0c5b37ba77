"""ratings: one-time rating codes, order ratings, items' re-reviews, the region threshold

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 11:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.add_column("region_settings", sa.Column("satisfaction_threshold_percent", sa.Integer(), nullable=True))
    op.create_table(
        "rating_codes",
        sa.Column("code_hash", sa.String(length=64, collation="C"), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("used_at", T(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["school_orders.id"],
        ),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    op.create_index(op.f("ix_rating_codes_order_id"), "rating_codes", ["order_id"], unique=False)
    op.create_table(
        "order_ratings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("service_item_id", sa.Uuid(), nullable=False),
        sa.Column("term_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", S(length=6), nullable=False),
        sa.Column("rater", S(length=8), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.CheckConstraint("rater IN ('school', 'public')", name="ck_order_ratings_rater"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["school_orders.id"],
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
            ["region_code"],
            ["regions.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("order_id", "service_item_id", "term_id"):
        op.create_index(op.f(f"ix_order_ratings_{column}"), "order_ratings", [column], unique=False)
    op.create_index(
        "uq_order_ratings_school",
        "order_ratings",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("rater = 'school'"),
    )
    op.create_table(
        "item_re_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_item_id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", S(length=6), nullable=False),
        sa.Column("term_id", sa.Uuid(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("threshold_percent", sa.Integer(), nullable=False),
        sa.Column("state", S(length=8), nullable=False),
        sa.Column("opened_at", T(), nullable=False),
        sa.Column("closed_at", T(), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("close_reason", S(length=2000), nullable=True),
        sa.CheckConstraint("state IN ('open', 'closed')", name="ck_item_re_reviews_state"),
        sa.ForeignKeyConstraint(
            ["service_item_id"],
            ["service_items.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
        ),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["terms.id"],
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service_item_id", "region_code", "term_id", name="uq_item_re_reviews_item_region_term"),
    )
    op.create_index(op.f("ix_item_re_reviews_region_code"), "item_re_reviews", ["region_code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_item_re_reviews_region_code"), table_name="item_re_reviews")
    op.drop_table("item_re_reviews")
    op.drop_index("uq_order_ratings_school", table_name="order_ratings")
    for column in ("order_id", "service_item_id", "term_id"):
        op.drop_index(op.f(f"ix_order_ratings_{column}"), table_name="order_ratings")
    op.drop_table("order_ratings")
    op.drop_index(op.f("ix_rating_codes_order_id"), table_name="rating_codes")
    op.drop_table("rating_codes")
    op.drop_column("region_settings", "satisfaction_threshold_percent")
