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


class ApiToken(SQLModel, table=True):
    """Only the SHA-256 of a token is stored: the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    account_id: UUID = Field(foreign_key="accounts.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
