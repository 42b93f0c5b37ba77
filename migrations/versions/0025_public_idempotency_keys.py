"""public idempotency keys: remembered answers to POSTs that need no account

`public_idempotency_keys`: like `idempotency_keys`, but scoped by what the key is sent to
(a parent's public complaint: `public_complaint:<school id>`) instead of by account.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 16:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "public_idempotency_keys",
        sa.Column("scope", S(length=80), nullable=False),
        sa.Column("key", S(length=200), nullable=False),
        sa.Column("fingerprint", S(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_index(
        op.f("ix_public_idempotency_keys_created_at"), "public_idempotency_keys", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_public_idempotency_keys_created_at"), table_name="public_idempotency_keys")
    op.drop_table("public_idempotency_keys")
