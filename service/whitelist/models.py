"""Whitelist entries: one per admitted service item and region, and their history.

An entry is created by an approved entry application (in the same transaction as the
decision). Its status changes over time — suspended, revoked, reinstated, renewed,
superseded by a later admission — and **every change is kept** as a row of
`whitelist_entry_status` with the interval during which it held
(`valid_from` ≤ t < `valid_to`, `valid_to` NULL = current). Rows are never rewritten
except to close the current interval, so any question can be answered `as_of` a past
instant. `expired` is never stored: it is derived when read, from the interval's
`entry_valid_until` and the vendor's mandatory documents (service/whitelist/status.py).

`WhitelistEntry.status` and `.valid_until` are copies of the current interval's values
for cheap listing; the history table is the source of truth.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Index,
    String,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow

#: Stored statuses. `expired` is derived when read, never stored.
ENTRY_STATUSES = ("active", "suspended", "revoked", "superseded")
#: What made an interval begin.
STATUS_ACTIONS = ("admit", "suspend", "reinstate", "revoke", "renew", "supersede")
#: Actions that need a second reviewer's confirmation before they take effect.
CONFIRMED_ACTIONS = ("revoke", "reinstate")
#: What a pending request may ask for: the two above, and a suspension opened by an
#: upheld serious complaint (service/complaints), which also waits for four eyes.
REQUEST_ACTIONS = ("revoke", "reinstate", "suspend")
REQUEST_STATUSES = ("pending", "confirmed", "declined")


class WhitelistEntry(SQLModel, table=True):
    __tablename__ = "whitelist_entries"
    __table_args__ = (
        # At most one active entry per item and region: a renewal supersedes the old one.
        Index(
            "uq_whitelist_entries_active_item_region",
            "service_item_id",
            "region_code",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    vendor_id: UUID = Field(foreign_key="vendors.id", index=True)
    service_item_id: UUID = Field(foreign_key="service_items.id", index=True)
    region_code: str = Field(foreign_key="regions.code", max_length=6, index=True)
    status: str = Field(max_length=16)  # the current interval's status (copy)
    valid_from: datetime
    valid_until: datetime  # the current interval's validity end (copy; renewals move it)
    application_id: UUID = Field(foreign_key="applications.id", index=True)
    # The fee as reviewed and published (a snapshot: the item row is immutable anyway).
    fee: int
    fee_unit: str = Field(max_length=16)
    fee_published_on: date  # the China date on which the application's public notice started
    created_at: datetime = Field(default_factory=utcnow)


class WhitelistActionRequest(SQLModel, table=True):
    """A revoke, a reinstate or a complaint's suspension waiting for a second reviewer
    (four eyes)."""

    __tablename__ = "whitelist_action_requests"
    __table_args__ = (
        CheckConstraint("action IN ('revoke', 'reinstate', 'suspend')", name="ck_whitelist_action_requests_action"),
        CheckConstraint("status IN ('pending', 'confirmed', 'declined')", name="ck_whitelist_action_requests_status"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    action: str = Field(max_length=16)
    status: str = Field(max_length=16, index=True)
    vendor_id: UUID = Field(foreign_key="vendors.id", index=True)
    entry_ids: list[UUID] = Field(sa_column=Column(ARRAY(Uuid()), nullable=False))
    # The narrowest region containing every entry: who may see and confirm the request.
    region_code: str = Field(foreign_key="regions.code", max_length=6, index=True)
    reason: str = Field(max_length=2000)
    ban_until: date | None = None  # revoke: no new application in the region before this China date
    requested_by: UUID = Field(foreign_key="accounts.id")
    requested_at: datetime = Field(default_factory=utcnow)
    decided_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    decided_at: datetime | None = None
    decision_reason: str | None = Field(default=None, max_length=2000)
    complaint_id: UUID | None = Field(default=None, foreign_key="complaints.id")  # the suspension's cause


class WhitelistEntryStatus(SQLModel, table=True):
    """One interval of an entry's status: [valid_from, valid_to)."""

    __tablename__ = "whitelist_entry_status"
    __table_args__ = (
        Index("uq_whitelist_entry_status_current", "entry_id", unique=True, postgresql_where=text("valid_to IS NULL")),
        Index("ix_whitelist_entry_status_entry_from", "entry_id", "valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="ck_whitelist_entry_status_interval"),
        CheckConstraint(
            "status IN ('active', 'suspended', 'revoked', 'superseded')", name="ck_whitelist_entry_status_status"
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    entry_id: UUID = Field(sa_column=Column(Uuid(), ForeignKey("whitelist_entries.id"), nullable=False))
    status: str = Field(max_length=16)
    action: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str | None = Field(default=None, max_length=2000)
    valid_from: datetime
    valid_to: datetime | None = None
    entry_valid_until: datetime  # the entry's validity end while this interval holds
    suspended_until: datetime | None = None  # suspend: the suspension ends by itself at this instant
    ban_until: date | None = None  # revoke: the ban date (China date)
    actor_account_id: UUID | None = Field(default=None, foreign_key="accounts.id")
    confirmed_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    request_id: UUID | None = Field(default=None, foreign_key="whitelist_action_requests.id")
    created_at: datetime = Field(default_factory=utcnow)
