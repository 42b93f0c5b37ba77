"""Remembered answers to POSTs sent with an `Idempotency-Key`: per account, and per
public scope for the forms that need no account."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow


class IdempotencyRecord(SQLModel, table=True):
    """One key of one account. The row is inserted at the start of the transaction that
    does the work and completed (status + body) at its end, so it becomes visible only
    together with the change it answers for; a rolled-back request leaves no row."""

    __tablename__ = "idempotency_keys"

    account_id: UUID = Field(foreign_key="accounts.id", primary_key=True)
    key: str = Field(max_length=200, primary_key=True)
    fingerprint: str = Field(max_length=64)  # SHA-256 of method, path, body and preconditions
    status_code: int | None = None
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class PublicIdempotencyRecord(SQLModel, table=True):
    """The same, for a POST that needs no account (a parent's public complaint): the key
    is scoped by what it is sent to (e.g. `public_complaint:<school id>`), not by who."""

    __tablename__ = "public_idempotency_keys"

    scope: str = Field(max_length=80, primary_key=True)
    key: str = Field(max_length=200, primary_key=True)
    fingerprint: str = Field(max_length=64)
    status_code: int | None = None
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)
