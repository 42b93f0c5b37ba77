"""one audit event per results import, committing to every record

An import now appends ONE `personnel:check:import` event (object `check_import`, the
import's id) instead of one per record. The event commits to every record it stored:
the file's SHA-256 and `records_root`, an RFC 6962 Merkle root over the records'
canonical forms (service/personnel/import_records.py). Each imported check keeps its
leaf index (`background_checks.import_leaf`); `check_imports` keeps the leaf hashes in
leaf order (`STORAGE EXTERNAL`: hashes do not compress), so one record is proved from
its own row plus those hashes (`GET /api/v1/checks/{check_id}/proof`).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 07:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "check_imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("file_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("records_root", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hashes", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("ALTER TABLE check_imports ALTER COLUMN leaf_hashes SET STORAGE EXTERNAL")
    op.add_column("background_checks", sa.Column("import_leaf", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("background_checks", "import_leaf")
    op.drop_table("check_imports")
