"""lookup receipts signed in groups

The receipts stored by one group commit are now signed together: they are the leaves
of an RFC 6962 Merkle tree and one Ed25519 signature covers its root (one signature per
commit instead of one per lookup). Each receipt keeps its place and inclusion proof:
`group_size`, `group_index`, `group_path` (the proof's 32-byte hashes, concatenated);
`signature` holds the group's signature. Receipts signed one by one before this
revision keep NULL there and still verify (service/lookup/receipts.py).

`lookup_store_receipts` takes the signature and the group columns (at the end).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SIGNATURE = (
    "uuid[], text[], text[], text[], uuid[], uuid[], text[], text[], text[], timestamptz[], timestamptz[], "
    "bigint[], bytea[], bytea[], bigint[], bigint[], timestamptz[], text[], text[], text[], text[], "
    "bigint[], boolean[]"
)
NEW_SIGNATURE = (
    "uuid[], text[], text[], text[], uuid[], uuid[], text[], text[], text[], timestamptz[], timestamptz[], "
    "bigint[], bytea[], bigint[], bigint[], timestamptz[], text[], text[], text[], text[], bigint[], "
    "boolean[], bytea[], integer[], integer[], bytea[]"
)

STORE = """
CREATE FUNCTION lookup_store_receipts(
    p_id uuid[], p_kind text[], p_subject text[], p_subjects text[], p_account uuid[], p_school uuid[],
    p_region text[], p_query text[], p_answer text[], p_as_of timestamptz[], p_created timestamptz[],
    p_checkpoint bigint[], p_canonical bytea[], p_count bigint[], p_limit bigint[],
    p_window timestamptz[], p_token text[], p_role text[], p_actor_region text[], p_vendor_code text[],
    p_expect_version bigint[], p_expect_checkpoint boolean[], p_signature bytea[],
    p_group_size integer[], p_group_index integer[], p_group_path bytea[])
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
                                     created_at, checkpoint_size, canonical, signature, subjects, group_size,
                                     group_index, group_path)
        VALUES (p_id[i], p_kind[i], p_subject[i], p_account[i], p_school[i], p_region[i], p_query[i]::jsonb,
                p_answer[i]::jsonb, p_as_of[i], p_created[i], p_checkpoint[i], p_canonical[i], p_signature[i],
                CASE WHEN p_subjects[i] IS NULL THEN NULL
                     ELSE ARRAY(SELECT jsonb_array_elements_text(p_subjects[i]::jsonb))::varchar[] END,
                p_group_size[i], p_group_index[i], p_group_path[i]);
        out_outcome := 'stored';
        RETURN NEXT;
    END LOOP;
END $$
"""


def upgrade() -> None:
    op.add_column("lookup_receipts", sa.Column("group_size", sa.Integer(), nullable=True))
    op.add_column("lookup_receipts", sa.Column("group_index", sa.Integer(), nullable=True))
    op.add_column("lookup_receipts", sa.Column("group_path", sa.LargeBinary(), nullable=True))
    op.execute(f"DROP FUNCTION lookup_store_receipts({OLD_SIGNATURE})")
    op.execute(STORE)


def downgrade() -> None:
    """Back to one signature per receipt: the function of 0010 (its text, from that
    revision's file). Receipts stored in groups stay, but lose their group columns and
    then no longer verify: downgrade only a database without any."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("r0010", Path(__file__).with_name("0010_lookup_state_version.py"))
    r0010 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(r0010)
    op.execute(f"DROP FUNCTION lookup_store_receipts({NEW_SIGNATURE})")
    op.execute(r0010.STORE)
    op.drop_column("lookup_receipts", "group_path")
    op.drop_column("lookup_receipts", "group_index")
    op.drop_column("lookup_receipts", "group_size")
