"""Whitelist entries: one per admitted service item and region.

Created by an approved entry application (in the same transaction as the decision).
The dynamic adjustments (suspend, remove, reinstate, expire) and the lookups are built
on these rows by later work; `status` is stored, validity is derived from the dates.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow

ENTRY_STATUSES = ("active", "superseded")


class WhitelistEntry(SQLModel, table=True):
    __tablename__ = "whitelist_entries"
    __table_args__ = (
        # At most one active entry per item and region: a renewal supersedes the old one.
        Index("uq_whitelist_entries_active_item_region", "service_item_id", "region_code", unique=True,
              postgresql_where=text("status = 'active'")),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    vendor_id: UUID = Field(foreign_key="vendors.id", index=True)
    service_item_id: UUID = Field(foreign_key="service_items.id", index=True)
    region_code: str = Field(foreign_key="regions.code", max_length=6, index=True)
    status: str = Field(max_length=16)
    valid_from: datetime
    valid_until: datetime
    application_id: UUID = Field(foreign_key="applications.id", index=True)
    # The fee as reviewed and published (a snapshot: the item row is immutable anyway).
    fee: int
    fee_unit: str = Field(max_length=16)
    fee_published_on: date  # the China date on which the application's public notice started
    created_at: datetime = Field(default_factory=utcnow)
