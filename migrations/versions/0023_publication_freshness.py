"""publication freshness: a cached publication is checked without reading the list

- `notice_state_version`: one row, a counter bumped once per transaction, at commit (by
  deferred constraint triggers, like `lookup_state_version` in 0010), by every
  transaction that changes `applications` or `application_items` — what the notice
  board lists besides vendors and service items (those bump `lookup_state_version`).
- `published_source_version(kind)`: the version of what a published list is read from —
  for the whitelist `lookup_state_version`, for the notice board its sum with
  `notice_state_version` (both only grow, so any change grows the sum).
- `published_lists` gains `source_version` (that version, read before the list was
  read), `fresh_until` (the next instant at which the list can change with no write: an
  entry or suspension ending, a document expiring or starting to count, a notice period
  ending; NULL = none) and `key_id` (the signing key it was signed with). A stored
  publication is served without reading the list while all three still hold
  (docs/documents.md).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime
WATCHED = ("applications", "application_items")


def upgrade() -> None:
    op.create_table(
        "notice_state_version",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_notice_state_version_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO notice_state_version (id, version) VALUES (1, 1)")
    op.execute("""
CREATE FUNCTION notice_state_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('schoolgate.notice_state_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        UPDATE notice_state_version SET version = version + 1 WHERE id = 1;
        PERFORM set_config('schoolgate.notice_state_bumped', txid_current()::text, true);
    END IF;
    RETURN NULL;
END $$""")
    for table in WATCHED:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER notice_state_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION notice_state_changed()"
        )
        op.execute(
            f"CREATE TRIGGER notice_state_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION notice_state_changed()"
        )
    op.execute("""
CREATE FUNCTION published_source_version(p_kind text) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT (SELECT version FROM lookup_state_version WHERE id = 1)
         + CASE WHEN p_kind = 'notices' THEN (SELECT version FROM notice_state_version WHERE id = 1) ELSE 0 END
$$""")
    op.add_column("published_lists", sa.Column("source_version", sa.BigInteger(), nullable=True))
    op.add_column("published_lists", sa.Column("fresh_until", T(), nullable=True))
    op.add_column("published_lists", sa.Column("key_id", S(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("published_lists", "key_id")
    op.drop_column("published_lists", "fresh_until")
    op.drop_column("published_lists", "source_version")
    op.execute("DROP FUNCTION published_source_version(text)")
    for table in WATCHED:
        op.execute(f"DROP TRIGGER notice_state_truncated ON {table}")
        op.execute(f"DROP TRIGGER notice_state_changed ON {table}")
    op.execute("DROP FUNCTION notice_state_changed()")
    op.drop_table("notice_state_version")
