"""batch receipts stored in compact form

A batch receipt (`person_batch`, up to 500 people) cost PostgreSQL more to store than
the lookup cost to read: ~160 KB of canonical JSON compressed with pglz, the same query
and answer again as JSONB, and 500 keyed hashes of 64 characters in a GIN index. Now:

- `query_compact` (bytea, `STORAGE EXTERNAL`: keyed hashes do not compress) holds the
  batch's entries, 82 bytes each (`service.lookup.receipts.compact_batch_query`), and
  `canonical` holds the signed document with `query` null; the signed bytes are
  restored exactly on read (`receipts.restore_canonical`), so every receipt verifies and
  says what it said;
- `query` and `answer` (JSONB copies for reading) are NULL for batch receipts: readers
  take both from the canonical bytes;
- `subjects` becomes `bigint[]`: the first 64 bits of each keyed hash, derived by the
  store from `query_compact`. A GIN over 8-byte integers costs a fraction of one over
  64-character strings; `lookups_of` confirms every match against the full hash, so a
  prefix collision never lists a receipt for the wrong person. Old receipts' hashes are
  converted in place;
- `canonical` is compressed with lz4 where the server was built with it
  (`default_toast_compression` offers `lz4`), else it stays pglz: nothing to configure.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 07:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SIGNATURE = (
    "uuid[], text[], text[], text[], uuid[], uuid[], text[], text[], text[], timestamptz[], timestamptz[], "
    "bigint[], bytea[], bigint[], bigint[], timestamptz[], text[], text[], text[], text[], bigint[], "
    "boolean[], bytea[], integer[], integer[], bytea[]"
)
NEW_SIGNATURE = (
    "uuid[], text[], text[], bytea[], uuid[], uuid[], text[], text[], text[], timestamptz[], timestamptz[], "
    "bigint[], bytea[], bigint[], bigint[], timestamptz[], text[], text[], text[], text[], bigint[], "
    "boolean[], bytea[], integer[], integer[], bytea[]"
)

#: The first 64 bits of a keyed hash given as 64 hex digits, as a signed bigint.
HEX_PREFIX = "('x' || substr({0}, 1, 16))::bit(64)::bigint"
#: The subject keys of a compact batch query: the first 8 bytes of each 82-byte entry.
COMPACT_KEYS = (
    "ARRAY(SELECT DISTINCT ('x' || encode(substr(q, o * 82 + 1, 8), 'hex'))::bit(64)::bigint"
    " FROM (SELECT {0} AS q) c, generate_series(0, length(c.q) / 82 - 1) AS o)"
)

STORE = f"""
CREATE FUNCTION lookup_store_receipts(
    p_id uuid[], p_kind text[], p_subject text[], p_query_compact bytea[], p_account uuid[], p_school uuid[],
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
                                     created_at, checkpoint_size, canonical, signature, subjects, query_compact,
                                     group_size, group_index, group_path)
        VALUES (p_id[i], p_kind[i], p_subject[i], p_account[i], p_school[i], p_region[i], p_query[i]::jsonb,
                p_answer[i]::jsonb, p_as_of[i], p_created[i], p_checkpoint[i], p_canonical[i], p_signature[i],
                CASE WHEN p_query_compact[i] IS NULL THEN NULL
                     ELSE {COMPACT_KEYS.format("p_query_compact[i]")} END,
                p_query_compact[i], p_group_size[i], p_group_index[i], p_group_path[i]);
        out_outcome := 'stored';
        RETURN NEXT;
    END LOOP;
END $$
"""

LZ4 = """
DO $$
BEGIN
    IF 'lz4' = ANY(SELECT unnest(enumvals) FROM pg_settings WHERE name = 'default_toast_compression') THEN
        ALTER TABLE lookup_receipts ALTER COLUMN canonical SET COMPRESSION lz4;
    END IF;
END $$
"""


def upgrade() -> None:
    op.execute(
        "ALTER TABLE lookup_receipts ALTER COLUMN query DROP NOT NULL, ALTER COLUMN answer DROP NOT NULL, "
        "ADD COLUMN query_compact bytea"
    )
    op.execute("ALTER TABLE lookup_receipts ALTER COLUMN query_compact SET STORAGE EXTERNAL")
    op.drop_index("ix_lookup_receipts_subjects", table_name="lookup_receipts", postgresql_using="gin")
    # A USING expression may not hold a subquery: a function does the unnesting.
    op.execute(
        "CREATE FUNCTION pg_temp.hex_prefixes(hashes varchar[]) RETURNS bigint[] LANGUAGE sql IMMUTABLE STRICT AS "
        f"$$ SELECT ARRAY(SELECT {HEX_PREFIX.format('s')} FROM unnest(hashes) AS s) $$"
    )
    op.execute("ALTER TABLE lookup_receipts ALTER COLUMN subjects TYPE bigint[] USING pg_temp.hex_prefixes(subjects)")
    op.execute("DROP FUNCTION pg_temp.hex_prefixes(varchar[])")
    op.create_index(
        "ix_lookup_receipts_subjects", "lookup_receipts", ["subjects"], unique=False, postgresql_using="gin"
    )
    op.execute(LZ4)
    op.execute(f"DROP FUNCTION lookup_store_receipts({OLD_SIGNATURE})")
    op.execute(STORE)


def downgrade() -> None:
    """Back to 0012's storage: only for a database without compact batch receipts
    (their entries would be lost); old subjects cannot be turned back into full hashes,
    so `subjects` comes back empty for every receipt."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("r0011", Path(__file__).with_name("0011_lookup_receipt_groups.py"))
    r0011 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(r0011)
    op.execute(f"DROP FUNCTION lookup_store_receipts({NEW_SIGNATURE})")
    op.execute(r0011.STORE)
    op.drop_index("ix_lookup_receipts_subjects", table_name="lookup_receipts", postgresql_using="gin")
    op.execute("ALTER TABLE lookup_receipts ALTER COLUMN subjects TYPE varchar(128)[] USING NULL")
    op.create_index(
        "ix_lookup_receipts_subjects", "lookup_receipts", ["subjects"], unique=False, postgresql_using="gin"
    )
    op.execute("ALTER TABLE lookup_receipts DROP COLUMN query_compact")
    op.execute("ALTER TABLE lookup_receipts ALTER COLUMN query SET NOT NULL, ALTER COLUMN answer SET NOT NULL")
