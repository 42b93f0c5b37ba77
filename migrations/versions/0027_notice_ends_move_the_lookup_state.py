"""a public notice starting, moving or ending moves the lookup state version

A vendor's cached lookup state has a *horizon*: the next instant at which what it
answers can change with nothing written. The end of a running public notice is such an
instant (the application is admitted then: its whitelist entries count from
`notice_ends_at`), so the vendor state statement now counts it in the horizon, and a
lookup at or past it concludes the notice before answering (docs/lookup.md). For the
cached horizon to stay right, every change to *which* notices run and *when* they end
must move `lookup_state_version`, as changes to the whitelist's own tables do (0010):
an application entering or leaving `public_notice`, or its `notice_ends_at` changing
while in it (a pause resumes with a later end). The published whitelist's freshness
uses the same version (0023), so its stored copy is also read again then.

Other changes to applications (most of them) do not move it: the vendor caches of
every worker are emptied only when a notice starts, moves or ends.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTICE = "'public_notice'"
# name -> (event, condition)
TRIGGERS = {
    "lookup_state_notice_inserted": ("INSERT", f"NEW.stage = {NOTICE}"),
    "lookup_state_notice_updated": (
        "UPDATE OF stage, notice_ends_at",
        f"(OLD.stage = {NOTICE} OR NEW.stage = {NOTICE}) AND "
        "(OLD.stage IS DISTINCT FROM NEW.stage OR OLD.notice_ends_at IS DISTINCT FROM NEW.notice_ends_at)",
    ),
    "lookup_state_notice_deleted": ("DELETE", f"OLD.stage = {NOTICE}"),
}


def upgrade() -> None:
    # The function of 0010: once per transaction, at commit (deferred).
    for name, (event, condition) in TRIGGERS.items():
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {name} AFTER {event} ON applications DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION lookup_state_changed()"
        )
    op.execute(
        "CREATE TRIGGER lookup_state_notice_truncated AFTER TRUNCATE ON applications "
        "FOR EACH STATEMENT EXECUTE FUNCTION lookup_state_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER lookup_state_notice_truncated ON applications")
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON applications")
