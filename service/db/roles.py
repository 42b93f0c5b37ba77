"""The database role the application runs as, and what it may do.

Migrations run as the schema owner. The service connects as `app_role`, which may read
and write the domain tables but may only INSERT and SELECT the audit trail: even a
compromised application cannot rewrite history. Triggers (migration 0002) refuse UPDATE,
DELETE and TRUNCATE on the audit tables for everyone else, owner included.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

APPEND_ONLY_TABLES = ("audit_events", "audit_leaves", "audit_nodes", "audit_checkpoints")
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_app_privileges(connection: Connection, role: str) -> None:
    """Create `role` if missing (embedded database) and (re)apply its grants.

    Runs after every upgrade, so tables added by later migrations are covered. Only
    the owner of the schema can grant; other callers (the app role itself, running
    `db upgrade` at head) skip it.
    """
    if not ROLE_NAME.match(role):
        raise ValueError(f"bad role name {role!r}")
    owner = connection.execute(
        text("SELECT tableowner = current_user FROM pg_tables WHERE tablename = 'alembic_version'")
    ).scalar()
    if not owner:
        return
    connection.execute(
        text(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} LOGIN; END IF; END $$"
        )
    )
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
    connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    existing = set(connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    for table in [t for t in APPEND_ONLY_TABLES if t in existing]:
        connection.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}"))
    connection.execute(text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}"))


def as_role(url: str, role: str) -> str:
    """The same server and database, connecting as `role` (embedded: trust auth)."""
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)
