"""lookup receipts stored set-based: one statement per group commit, not one per row

`lookup_store_receipts` (0014) walked its group row by row in PL/pgSQL: per receipt an
EXISTS for the token, an upsert of the rate-limit row (a new row version each time)
and a one-row INSERT, each with its executor start-up. PostgreSQL spent ~115 µs of CPU
per receipt in groups of 64 (tests/bench/bench_receipt_store.py). Now, per group:

1. the rate-limit rows of the group's accounts are created if missing and locked, in
   one statement in account order (so two groups never lock them in opposite orders);
2. one statement decides every row and writes: the token re-validation,
   the cached state's version and checkpoint check, the rate limit walked per account
   in the group's order by a recursive CTE (so a group still behaves exactly as its
   rows one after another: a refused batch of 500 counts nothing and does not keep a
   later single lookup of the same account out), one UPDATE per rate-limit row with
   the group's total, and one INSERT … SELECT FROM unnest(…) of the admitted receipts.

The signature and the outcomes are those of 0014: the writer (service/lookup/writer.py)
is unchanged. It is still one call, one transaction, one durable commit per group, and
no answer leaves before its commit.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 16:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = (
    "uuid[], text[], text[], bytea[], uuid[], uuid[], text[], text[], text[], timestamptz[], timestamptz[], "
    "bigint[], bytea[], bigint[], bigint[], timestamptz[], text[], text[], text[], text[], bigint[], "
    "boolean[], bytea[], integer[], integer[], bytea[]"
)

#: The subject keys of a compact batch query: the first 8 bytes of each 82-byte entry (as 0014).
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
BEGIN
    SELECT v.version INTO current_version FROM lookup_state_version v WHERE v.id = 1;
    SELECT coalesce(max(c.size), 0) INTO current_checkpoint FROM audit_checkpoints c;
    -- The group's rate-limit rows exist and are ours until the commit, created or locked
    -- in one pass in account order (a DO UPDATE whose WHERE is false still locks the
    -- row, and writes no new version): concurrent groups queue here, never deadlock.
    INSERT INTO lookup_rate_windows AS w (account_id, window_start, n)
    SELECT DISTINCT t.a, t.win, 0 FROM unnest(p_account, p_window, p_count) AS t(a, win, c)
     WHERE t.c > 0 ORDER BY t.a, t.win
    ON CONFLICT (account_id, window_start) DO UPDATE SET n = w.n WHERE false;
    RETURN QUERY
    WITH RECURSIVE input AS (
        SELECT t.*, t.ord::integer AS i
          FROM unnest(p_id, p_kind, p_subject, p_query_compact, p_account, p_school, p_region, p_query, p_answer,
                      p_as_of, p_created, p_checkpoint, p_canonical, p_count, p_limit, p_window, p_token, p_role,
                      p_actor_region, p_vendor_code, p_expect_version, p_expect_checkpoint, p_signature,
                      p_group_size, p_group_index, p_group_path)
               WITH ORDINALITY AS t(id, kind, subject, query_compact, account, school, region, query, answer,
                                    as_of, created, checkpoint, canonical, n, lim, win, token, role,
                                    actor_region, vendor_code, expect_version, expect_checkpoint, signature,
                                    group_size, group_index, group_path, ord)
    ), checked AS (
        SELECT i.*, CASE
                WHEN i.token IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM api_tokens t JOIN accounts a ON a.id = t.account_id
                     WHERE t.token_hash = i.token AND t.revoked_at IS NULL AND a.id = i.account
                       AND a.role = i.role AND a.region_code IS NOT DISTINCT FROM i.actor_region
                       AND a.school_id IS NOT DISTINCT FROM i.school
                       AND a.vendor_credit_code IS NOT DISTINCT FROM i.vendor_code) THEN 'unauthenticated'
                WHEN (i.expect_version IS NOT NULL AND i.expect_version IS DISTINCT FROM current_version)
                     OR (i.expect_checkpoint AND i.checkpoint <> current_checkpoint) THEN 'stale'
               END AS refused
          FROM input i
    ), counting AS MATERIALIZED (
        SELECT c.i, c.account, c.win, c.n, c.lim,
               row_number() OVER (PARTITION BY c.account, c.win ORDER BY c.i) AS k
          FROM checked c WHERE c.refused IS NULL AND c.n > 0
    ), walk AS (
        -- The rate limit, row after row within each account: admitted when it fits in
        -- what the rows before it left; a refused row counts nothing.
        SELECT c.i, c.account, c.win, c.k, w.n + c.n <= c.lim AS ok,
               CASE WHEN w.n + c.n <= c.lim THEN w.n + c.n ELSE w.n END AS total
          FROM counting c JOIN lookup_rate_windows w ON w.account_id = c.account AND w.window_start = c.win
         WHERE c.k = 1
        UNION ALL
        SELECT c.i, c.account, c.win, c.k, p.total + c.n <= c.lim,
               CASE WHEN p.total + c.n <= c.lim THEN p.total + c.n ELSE p.total END
          FROM walk p JOIN counting c ON c.account = p.account AND c.win = p.win AND c.k = p.k + 1
    ), decided AS MATERIALIZED (
        SELECT c.*, CASE WHEN c.refused IS NOT NULL THEN c.refused
                         WHEN c.n > 0 AND NOT k.ok THEN 'limited' ELSE 'stored' END AS outcome,
               CASE WHEN k.ok THEN k.total END AS counted
          FROM checked c LEFT JOIN walk k ON k.i = c.i
    ), totals AS (
        UPDATE lookup_rate_windows w SET n = s.total
          FROM (SELECT k.account, k.win, max(k.total) AS total FROM walk k GROUP BY k.account, k.win) s
         WHERE w.account_id = s.account AND w.window_start = s.win AND w.n <> s.total
    ), stored AS (
        INSERT INTO lookup_receipts (id, kind, subject, account_id, school_id, region_code, query, answer, as_of,
                                     created_at, checkpoint_size, canonical, signature, subjects, query_compact,
                                     group_size, group_index, group_path)
        SELECT d.id, d.kind, d.subject, d.account, d.school, d.region, d.query::jsonb, d.answer::jsonb, d.as_of,
               d.created, d.checkpoint, d.canonical, d.signature,
               CASE WHEN d.query_compact IS NULL THEN NULL ELSE {COMPACT_KEYS.format("d.query_compact")} END,
               d.query_compact, d.group_size, d.group_index, d.group_path
          FROM decided d WHERE d.outcome = 'stored'
    )
    SELECT d.i, d.outcome, d.counted, current_version, current_checkpoint FROM decided d;
END $$
"""


def upgrade() -> None:
    op.execute(f"DROP FUNCTION lookup_store_receipts({SIGNATURE})")
    op.execute(STORE)


def downgrade() -> None:
    """Back to 0014's row-by-row function (its text, from that revision's file)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("r0014", Path(__file__).with_name("0014_compact_batch_receipts.py"))
    r0014 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(r0014)
    op.execute(f"DROP FUNCTION lookup_store_receipts({SIGNATURE})")
    op.execute(r0014.STORE)
