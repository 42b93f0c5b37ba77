"""application numbers: a short number people read and say, from the letters' counter

The notice board, the reviewer's queue and the vendor's list showed an application's
UUID as its 申请编号: nobody can read that over the phone or write it in a letter of
objection. Each application gets `number` (`赣白申〔2026〕360104-0017`: region and
China year of creation, then its place in that region's year), unique.

The numbers come from the counter the decision letters already use
(`document_number_counters`), which gains `series` (`letter` for the rows it has,
`application` for the new ones) so that both count per region and year without a
second counter table. Existing applications are numbered in creation order (ties by
id) and the counters continue after them.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-08 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same as service.applications.rules.application_number (China time is UTC+8, as
# service.timeutil.CHINA_TZ), frozen here as of 0030.
BACKFILL = """
WITH numbered AS (
    SELECT id, region_code,
           extract(year FROM (created_at AT TIME ZONE 'UTC') + interval '8 hours')::int AS year,
           row_number() OVER (
               PARTITION BY region_code, extract(year FROM (created_at AT TIME ZONE 'UTC') + interval '8 hours')
               ORDER BY created_at, id
           ) AS seq
    FROM applications
), written AS (
    UPDATE applications a
    SET number = '赣白申〔' || n.year || '〕' || n.region_code || '-'
                 || lpad(n.seq::text, greatest(4, length(n.seq::text)), '0')
    FROM numbered n WHERE a.id = n.id
    RETURNING n.region_code, n.year, n.seq
)
INSERT INTO document_number_counters (series, region_code, year, last)
SELECT 'application', region_code, year, max(seq) FROM written GROUP BY region_code, year
"""


def upgrade() -> None:
    op.add_column(
        "document_number_counters",
        sa.Column("series", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="letter"),
    )
    op.alter_column("document_number_counters", "series", server_default=None)
    op.drop_constraint("document_number_counters_pkey", "document_number_counters", type_="primary")
    op.create_primary_key(
        "document_number_counters_pkey", "document_number_counters", ["series", "region_code", "year"]
    )
    op.add_column("applications", sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    op.execute(BACKFILL)
    # The backfill queued the deferred notice_state_version trigger (0023); fire it now,
    # or PostgreSQL refuses to ALTER a table with pending trigger events.
    op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    op.alter_column("applications", "number", nullable=False)
    op.create_index(op.f("ix_applications_number"), "applications", ["number"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_applications_number"), table_name="applications")
    op.drop_column("applications", "number")
    op.execute("DELETE FROM document_number_counters WHERE series <> 'letter'")
    op.drop_constraint("document_number_counters_pkey", "document_number_counters", type_="primary")
    op.create_primary_key("document_number_counters_pkey", "document_number_counters", ["region_code", "year"])
    op.drop_column("document_number_counters", "series")
