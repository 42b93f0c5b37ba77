"""a bar lift request may be declined or withdrawn

A pending request to lift a bar may now be closed: declined by a second province-level
reviewer, or withdrawn by its requester (`closed_as`, `closed_by`, `closed_at`,
`close_reason`). The closed request stays as a record and lifts nothing. UNIQUE(check_id)
becomes a partial unique index over requests not closed, so at most one request per
check is open or confirmed, and a new one may follow a closed one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 03:04:19
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("bar_lifts", sa.Column("closed_as", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
    op.add_column("bar_lifts", sa.Column("closed_by", sa.Uuid(), nullable=True))
    op.add_column("bar_lifts", sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("bar_lifts", sa.Column("close_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
    op.create_foreign_key("bar_lifts_closed_by_fkey", "bar_lifts", "accounts", ["closed_by"], ["id"])
    op.create_check_constraint("ck_bar_lifts_closed_as", "bar_lifts", "closed_as IN ('declined', 'withdrawn')")
    op.create_check_constraint(
        "ck_bar_lifts_closed",
        "bar_lifts",
        "(closed_as IS NULL) = (closed_at IS NULL) AND (closed_at IS NULL OR confirmed_at IS NULL)",
    )
    op.drop_constraint("bar_lifts_check_id_key", "bar_lifts", type_="unique")
    op.create_index(
        "uq_bar_lifts_check_open", "bar_lifts", ["check_id"], unique=True, postgresql_where=sa.text("closed_at IS NULL")
    )


def downgrade() -> None:
    """Back to one request per check, ever. Closed requests are records and are not
    deleted here: downgrade only a database without any (it fails otherwise)."""
    op.execute("""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM bar_lifts WHERE closed_at IS NOT NULL) THEN
            RAISE EXCEPTION 'bar_lifts holds declined or withdrawn requests; 0011 cannot represent them';
          END IF;
        END $$""")
    op.drop_index("uq_bar_lifts_check_open", table_name="bar_lifts", postgresql_where=sa.text("closed_at IS NULL"))
    op.create_unique_constraint("bar_lifts_check_id_key", "bar_lifts", ["check_id"])
    op.drop_constraint("ck_bar_lifts_closed", "bar_lifts", type_="check")
    op.drop_constraint("ck_bar_lifts_closed_as", "bar_lifts", type_="check")
    op.drop_constraint("bar_lifts_closed_by_fkey", "bar_lifts", type_="foreignkey")
    op.drop_column("bar_lifts", "close_reason")
    op.drop_column("bar_lifts", "closed_at")
    op.drop_column("bar_lifts", "closed_by")
    op.drop_column("bar_lifts", "closed_as")
