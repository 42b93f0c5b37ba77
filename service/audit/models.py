"""Audit tables. Rows are only ever inserted; the database refuses anything else."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    SmallInteger,
)
from sqlmodel import Field, SQLModel


class AuditEvent(SQLModel, table=True):
    """One event. `canonical` holds the exact bytes that become the Merkle leaf;
    the other columns are copies of fields inside it, kept for filtering."""

    __tablename__ = "audit_events"
    # Every index is paid on every append (and bulk imports append one event per record),
    # so only the filters auditors use are indexed: time as BRIN (rows arrive in time
    # order), the object (histories), the actor, the action and the region. `event_id`
    # is a random UUID4 inside the signed bytes; it needs no unique index of its own.
    # Actor, action and region have few distinct values, appended in bulk: B-tree
    # deduplication would rewrite each full leaf page as it fills (it made a 100,000-
    # event import ~15 % slower), so it is off for them — larger indexes, cheaper appends.
    __table_args__ = (
        Index("ix_audit_events_occurred_at_brin", "occurred_at", postgresql_using="brin"),
        Index("ix_audit_events_object", "object_type", "object_id"),
        *(
            Index(f"ix_audit_events_{column}", column, postgresql_with={"deduplicate_items": "off"})
            for column in ("actor_account_id", "action", "region_code")
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    event_id: UUID
    occurred_at: datetime
    actor_account_id: UUID | None = None
    actor_role: str = Field(max_length=16)
    action: str = Field(max_length=100)
    object_type: str = Field(max_length=50)
    object_id: str = Field(max_length=100)
    region_code: str | None = Field(default=None, max_length=6)
    request_id: str | None = Field(default=None, max_length=64)
    canonical: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditPending(SQLModel, table=True):
    """Events committed but not yet in the Merkle tree (a trigger fills it on insert).

    The sequencer moves them into the tree in id order and deletes them here; this is
    the only audit table rows leave, and leaving it means entering the tree. No foreign
    key: only the insert trigger writes here, from the rows just inserted, and events
    are never deleted — a key check per queued event would only cost (~5 µs each).
    """

    __tablename__ = "audit_pending"

    event_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


class AuditLeaf(SQLModel, table=True):
    """Leaf `seq` of the tree is event `event_id`; seqs are dense from 0."""

    __tablename__ = "audit_leaves"

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: int = Field(sa_column=Column(BigInteger, ForeignKey("audit_events.id"), nullable=False, unique=True))


class AuditNode(SQLModel, table=True):
    """The hash of every perfect subtree (level, index); level 0 holds the leaf hashes.
    Any root or proof needs O(log n) of these rows."""

    __tablename__ = "audit_nodes"

    level: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditCheckpoint(SQLModel, table=True):
    """A signed tree head, stored as the exact signed note text; never rewritten."""

    __tablename__ = "audit_checkpoints"

    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    note: str
    created_at: datetime
