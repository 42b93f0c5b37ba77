"""Audit tables. Rows are only ever inserted; the database refuses anything else."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, Column, Identity, LargeBinary
from sqlmodel import Field, SQLModel


class AuditEvent(SQLModel, table=True):
    """One event. `canonical` holds the exact bytes that become the Merkle leaf;
    the other columns are copies of fields inside it, kept for filtering."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    event_id: UUID = Field(unique=True)
    occurred_at: datetime = Field(index=True)
    actor_account_id: UUID | None = Field(default=None, index=True)
    actor_role: str = Field(max_length=16)
    action: str = Field(max_length=100, index=True)
    object_type: str = Field(max_length=50)
    object_id: str = Field(max_length=100)
    region_code: str | None = Field(default=None, max_length=6, index=True)
    request_id: str | None = Field(default=None, max_length=64)
    canonical: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
