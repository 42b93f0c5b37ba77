from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlmodel import Field, SQLModel

from service.timeutil import utcnow


class Account(SQLModel, table=True):
    __tablename__ = "accounts"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=16)
    region_code: str | None = Field(default=None, foreign_key="regions.code", max_length=6)
    school_id: UUID | None = Field(default=None, foreign_key="schools.id")
    vendor_credit_code: str | None = Field(default=None, max_length=18, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    # Console sign-in (migration 0013). An account without a login name signs in by token only.
    login: str | None = Field(default=None, max_length=64, unique=True)
    password_hash: str | None = Field(default=None, max_length=200)
    must_change_password: bool = Field(default=False)
    password_changed_at: datetime | None = None
    disabled_at: datetime | None = None


class ApiToken(SQLModel, table=True):
    """Only the SHA-256 of a token is stored: the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    account_id: UUID = Field(foreign_key="accounts.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the cookie value is stored, so a copy
    of the table signs nobody in; revoking the row signs the browser out everywhere."""

    __tablename__ = "console_sessions"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    account_id: UUID = Field(foreign_key="accounts.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins per key: a keyed hash of a login name or of a client address
    (never the name or address itself), counted within a window, locked past a limit."""

    __tablename__ = "sign_in_throttle"

    key: str = Field(primary_key=True, max_length=80)
    failures: int = Field(default=0)
    window_started_at: datetime
    locked_until: datetime | None = None
