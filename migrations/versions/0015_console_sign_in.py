"""console sign-in: login names, passwords, sessions, sign-in throttling

Accounts get an optional login name (unique), an argon2id password hash, a flag that
forces a password change at the next sign-in, and a disable date. Browser sessions are
rows (`console_sessions`, only the SHA-256 of the cookie value), so they survive
restarts and can be revoked. `sign_in_throttle` counts failed sign-ins per keyed hash
of a login name or client address.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("login", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column("accounts", sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    op.add_column(
        "accounts", sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.alter_column("accounts", "must_change_password", server_default=None)
    op.add_column("accounts", sa.Column("password_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("accounts", sa.Column("disabled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_unique_constraint("accounts_login_key", "accounts", ["login"])
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_console_sessions_account_id"), "console_sessions", ["account_id"], unique=False)
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("sign_in_throttle")
    op.drop_index(op.f("ix_console_sessions_account_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_constraint("accounts_login_key", "accounts", type_="unique")
    for column in ("disabled_at", "password_changed_at", "must_change_password", "password_hash", "login"):
        op.drop_column("accounts", column)
