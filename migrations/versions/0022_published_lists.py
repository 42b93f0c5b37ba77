"""published lists: the publication in force per list and query, and its rendered PDF

`published_lists`: one row per (kind, scope) — the whitelist or the notice board for one
query — holding the signed JSON issued for the list's current content, the PDF rendered
from it once, and the claim of the one worker rendering it (docs/documents.md).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "published_lists",
        sa.Column("kind", S(length=16), nullable=False),
        sa.Column("scope", S(length=64), nullable=False),
        sa.Column("content_hash", S(length=64), nullable=False),
        sa.Column("published_at", T(), nullable=False),
        sa.Column("served", S(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("layout", S(length=16), nullable=True),
        sa.Column("rendered_at", T(), nullable=True),
        sa.Column("render_token", sa.Uuid(), nullable=True),
        sa.Column("render_until", T(), nullable=True),
        sa.PrimaryKeyConstraint("kind", "scope"),
    )


def downgrade() -> None:
    op.drop_table("published_lists")
