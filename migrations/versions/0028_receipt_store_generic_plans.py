"""the receipt store keeps generic plans

`lookup_store_receipts` (0024, 0026) runs a few statements over its array arguments.
PL/pgSQL caches their plans, but PostgreSQL's default (`plan_cache_mode = auto`) plans a
statement afresh on every call while a custom plan is estimated cheaper than the generic
one — which it is for small groups, whose arrays it sees. A group of four receipts then
cost PostgreSQL ~325 µs of CPU per receipt, mostly planning, against ~138 µs with the
generic plans (`tests/bench/bench_receipt_store.py --group 4`); groups of 32 cost the same
either way (~45–50 µs). The statements' plans do not depend on the arrays' contents, so
the function now runs with `plan_cache_mode = force_generic_plan`.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 21:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = (
    "uuid[], text[], text[], bytea[], uuid[], uuid[], text[], timestamptz[], timestamptz[], "
    "bigint[], bytea[], bigint[], bigint[], timestamptz[], text[], text[], text[], text[], bigint[], "
    "boolean[], bytea[], integer[], integer[], bytea[]"
)


def upgrade() -> None:
    op.execute(f"ALTER FUNCTION lookup_store_receipts({SIGNATURE}) SET plan_cache_mode = force_generic_plan")


def downgrade() -> None:
    op.execute(f"ALTER FUNCTION lookup_store_receipts({SIGNATURE}) RESET plan_cache_mode")
