"""lookup state version and the grouped receipt store

- `lookup_state_version`: one row, a counter bumped once per transaction (at commit,
  by deferred constraint triggers) by every transaction that changes what a vendor
  lookup answers: vendors, documents, service_items, whitelist_entries,
  whitelist_entry_status, region_settings. Workers cache vendor state and region
  settings tagged with the version they read; the receipt store below refuses a cached
  answer whose version is no longer current.
- `lookup_store_receipts(...)`: stores several lookups' receipts in one call (one
  transaction, one durable commit — group commit), each row in order of account: check
  the bearer token is still valid for exactly that account, role and scope (a cached
  token is re-validated here), check the cached state's version and the audit
  checkpoint size still hold, count the lookups against the account's rate limit, and
  insert the signed receipt. Returns one outcome per row: stored | unauthenticated |
  stale | limited.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("vendors", "documents", "service_items", "whitelist_entries", "whitelist_entry_status", "region_settings")

STORE = """
CREATE FUNCTION lookup_store_receipts(
    p_id uuid[], p_kind text[], p_subject text[], p_subjects text[], p_account uuid[], p_school uuid[],
    p_region text[], p_query text[], p_answer text[], p_as_of timestamptz[], p_created timestamptz[],
    p_checkpoint bigint[], p_canonical bytea[], p_signature bytea[], p_count bigint[], p_limit bigint[],
    p_window timestamptz[], p_token text[], p_role text[], p_actor_region text[], p_vendor_code text[],
    p_expect_version bigint[], p_expect_checkpoint boolean[])
RETURNS TABLE (out_ord integer, out_outcome text, out_n bigint, out_version bigint, out_checkpoint bigint)
LANGUAGE plpgsql AS $$
DECLARE
    current_version bigint;
    current_checkpoint bigint;
    counted bigint;
    i integer;
BEGIN
    SELECT v.version INTO current_version FROM lookup_state_version v WHERE v.id = 1;
    SELECT coalesce(max(c.size), 0) INTO current_checkpoint FROM audit_checkpoints c;
    -- In order of account: the rate-limit rows are locked in one order by every caller.
    FOR i IN SELECT o FROM generate_subscripts(p_id, 1) AS o ORDER BY p_account[o], o LOOP
        out_ord := i; out_version := current_version; out_checkpoint := current_checkpoint; out_n := NULL;
        IF p_token[i] IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM api_tokens t JOIN accounts a ON a.id = t.account_id
             WHERE t.token_hash = p_token[i] AND t.revoked_at IS NULL AND a.id = p_account[i]
               AND a.role = p_role[i] AND a.region_code IS NOT DISTINCT FROM p_actor_region[i]
               AND a.school_id IS NOT DISTINCT FROM p_school[i]
               AND a.vendor_credit_code IS NOT DISTINCT FROM p_vendor_code[i]) THEN
            out_outcome := 'unauthenticated';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF (p_expect_version[i] IS NOT NULL AND p_expect_version[i] IS DISTINCT FROM current_version)
           OR (p_expect_checkpoint[i] AND p_checkpoint[i] <> current_checkpoint) THEN
            out_outcome := 'stale';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF p_count[i] > 0 THEN
            counted := NULL;
            INSERT INTO lookup_rate_windows AS w (account_id, window_start, n)
                 VALUES (p_account[i], p_window[i], p_count[i])
            ON CONFLICT (account_id, window_start) DO UPDATE SET n = w.n + EXCLUDED.n
                 WHERE w.n + EXCLUDED.n <= p_limit[i]
            RETURNING w.n INTO counted;
            IF counted IS NULL THEN
                out_outcome := 'limited';
                RETURN NEXT;
                CONTINUE;
            END IF;
            out_n := counted;
        END IF;
        INSERT INTO lookup_receipts (id, kind, subject, account_id, school_id, region_code, query, answer, as_of,
                                     created_at, checkpoint_size, canonical, signature, subjects)
        VALUES (p_id[i], p_kind[i], p_subject[i], p_account[i], p_school[i], p_region[i], p_query[i]::jsonb,
                p_answer[i]::jsonb, p_as_of[i], p_created[i], p_checkpoint[i], p_canonical[i], p_signature[i],
                CASE WHEN p_subjects[i] IS NULL THEN NULL
                     ELSE ARRAY(SELECT jsonb_array_elements_text(p_subjects[i]::jsonb))::varchar[] END);
        out_outcome := 'stored';
        RETURN NEXT;
    END LOOP;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "lookup_state_version",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_lookup_state_version_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO lookup_state_version (id, version) VALUES (1, 1)")
    # Once per transaction, at commit (deferred): the bump's row lock is held only while
    # the transaction commits, after every other statement — it cannot take part in a
    # deadlock with the locks the transaction took before.
    op.execute("""
CREATE FUNCTION lookup_state_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('schoolgate.lookup_state_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        UPDATE lookup_state_version SET version = version + 1 WHERE id = 1;
        PERFORM set_config('schoolgate.lookup_state_bumped', txid_current()::text, true);
    END IF;
    RETURN NULL;
END $$""")
    for table in WATCHED:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER lookup_state_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lookup_state_changed()"
        )
        op.execute(
            f"CREATE TRIGGER lookup_state_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION lookup_state_changed()"
        )
    op.execute(STORE)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION lookup_store_receipts(uuid[], text[], text[], text[], uuid[], uuid[], text[], text[], "
        "text[], timestamptz[], timestamptz[], bigint[], bytea[], bytea[], bigint[], bigint[], timestamptz[], "
        "text[], text[], text[], text[], bigint[], boolean[])"
    )
    for table in WATCHED:
        op.execute(f"DROP TRIGGER lookup_state_truncated ON {table}")
        op.execute(f"DROP TRIGGER lookup_state_changed ON {table}")
    op.execute("DROP FUNCTION lookup_state_changed()")
    op.drop_table("lookup_state_version")
