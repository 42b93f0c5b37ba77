"""Persistence plumbing: engine and transactions, the embedded server, migrations."""

from service.db.embedded import embedded_postgres
from service.db.engine import Database
from service.db.migrate import alembic_config, head_revision, schema_and_server, upgrade
from service.db.roles import as_role
from service.db.serverinfo import version_lines
from service.db.sql import driver_connection, run_sql
from service.db.unavailable import is_unavailable

__all__ = [
    "alembic_config",
    "as_role",
    "Database",
    "driver_connection",
    "embedded_postgres",
    "head_revision",
    "is_unavailable",
    "run_sql",
    "schema_and_server",
    "upgrade",
    "version_lines",
]
