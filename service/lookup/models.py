"""Lookup receipts and the shared rate-limit counters.

A receipt is written for every lookup, in PostgreSQL, before the answer leaves the
server. `canonical` holds the exact signed bytes (canonical JSON; for a batch, without
its entries — see `subjects` below), the one stored form of its query and answer
(migration 0026 dropped the JSONB copies); `subject` is what was looked up (a credit
code, or for people the keyed hash of the ID number — never the number itself) so the
looked-up side can list who checked it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

RECEIPT_KINDS = ("vendor", "person", "person_batch")


class LookupReceipt(SQLModel, table=True):
    __tablename__ = "lookup_receipts"
    __table_args__ = (
        Index("ix_lookup_receipts_subject_created", "subject", "created_at"),
        Index("ix_lookup_receipts_account_created", "account_id", "created_at"),
        Index("ix_lookup_receipts_subjects", "subjects", postgresql_using="gin"),
    )

    id: UUID = Field(sa_column=Column(Uuid(), primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    subject: str = Field(sa_column=Column(String(128), nullable=False))
    # A batch receipt (`person_batch`) is about many people: the first 64 bits of each
    # one's keyed hash are here (GIN-indexed; `lookups_of` confirms the full hash), so
    # "who looked me up" finds it; `subject` then says "batch". Derived by the store
    # from `query_compact`, which holds the batch's entries (82 bytes each,
    # `receipts.compact_batch_query`); `canonical` then holds the signed document with
    # `query` null (migration 0014).
    subjects: list[int] | None = Field(default=None, sa_column=Column(ARRAY(BigInteger), nullable=True))
    query_compact: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    account_id: UUID = Field(sa_column=Column(Uuid(), nullable=False))
    school_id: UUID | None = Field(default=None, sa_column=Column(Uuid(), nullable=True, index=True))
    region_code: str | None = Field(default=None, sa_column=Column(String(6), nullable=True))
    as_of: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    checkpoint_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    canonical: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The group's signature (one per group commit) and this receipt's place in the group's
    # Merkle tree: size, index, inclusion proof (32-byte hashes, concatenated). Receipts
    # signed one by one, before groups, have no group (`lookup.receipts`).
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    group_size: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    group_index: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    group_path: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class LookupRateWindow(SQLModel, table=True):
    """Lookups counted per account and fixed 60-second window, shared by every worker."""

    __tablename__ = "lookup_rate_windows"

    account_id: UUID = Field(sa_column=Column(Uuid(), primary_key=True))
    window_start: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    n: int = Field(sa_column=Column(BigInteger, nullable=False, server_default=text("0")))


class LookupStateVersion(SQLModel, table=True):
    """One row: a counter bumped by every transaction that changes what a vendor lookup
    answers (vendors, documents, service items, whitelist entries and their status
    history, region settings). Deferred constraint triggers (migration 0010) bump it once
    per transaction, at commit, so the change and the new version become visible
    together. Workers cache vendor state and region settings tagged with the version
    they were read at; the receipt statement refuses a cached answer whose version is no
    longer current (`lookup_store_receipts`), so a cache can never answer stale."""

    __tablename__ = "lookup_state_version"
    __table_args__ = (CheckConstraint("id = 1", name="ck_lookup_state_version_one_row"),)

    id: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
