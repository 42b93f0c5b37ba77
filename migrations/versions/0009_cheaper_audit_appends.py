"""cheaper audit appends

Bulk imports append one audit event per record. Two costs per event that bought
nothing: B-tree deduplication on the low-cardinality actor, action and region indexes
(each full leaf page rewritten as it fills), and the foreign key from `audit_pending`
to `audit_events` (only the insert trigger writes the queue, from the rows it was
fired for, and events are never deleted). Measured on 100,000 events: ~30 % less
database CPU per append.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOW_CARDINALITY = ("ix_audit_events_actor_account_id", "ix_audit_events_action", "ix_audit_events_region_code")


def upgrade() -> None:
    op.drop_constraint("audit_pending_event_id_fkey", "audit_pending", type_="foreignkey")
    for index in LOW_CARDINALITY:
        op.execute(f"ALTER INDEX {index} SET (deduplicate_items = off)")


def downgrade() -> None:
    for index in LOW_CARDINALITY:
        op.execute(f"ALTER INDEX {index} RESET (deduplicate_items)")
    op.create_foreign_key("audit_pending_event_id_fkey", "audit_pending", "audit_events", ["event_id"], ["id"])
