"""Reminder table: one row per thing ending, day before and recipient.

The unique key (subject, its end date, how many days before, recipient) is what makes a
reminder happen once: the scan inserts with ON CONFLICT DO NOTHING, so several workers
scanning at once add each reminder once; sending claims unsent rows with SKIP LOCKED and
marks them sent in the same transaction. The scan itself runs once per China day across
all workers and restarts: the worker that claims the day's `reminder_scans` row scans in
the same transaction (the scan reads every engaged person's clearance, so N workers
scanning N times a day, and again at each restart, cost N times that for nothing).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Column, Index, SmallInteger, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow

SUBJECT_TYPES = ("document", "entry", "clearance")
DAYS_BEFORE = (30, 7, 1)


class Reminder(SQLModel, table=True):
    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint(
            "subject_type", "subject_id", "ends_on", "days_before", "recipient_account_id", name="uq_reminders_once"
        ),
        CheckConstraint("subject_type IN ('document', 'entry', 'clearance')", name="ck_reminders_subject_type"),
        Index("ix_reminders_unsent", "created_at", postgresql_where=text("sent_at IS NULL")),
        Index("ix_reminders_recipient", "recipient_account_id", "ends_on"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    subject_type: str = Field(max_length=16)
    subject_id: UUID  # the document, the whitelist entry, or the person (clearance)
    ends_on: date  # the last valid day (China date)
    days_before: int = Field(sa_column=Column(SmallInteger, nullable=False))
    recipient_account_id: UUID = Field(foreign_key="accounts.id")
    vendor_id: UUID = Field(foreign_key="vendors.id")
    region_code: str = Field(max_length=6)
    # In words, with masked names only (a person appears as 王**), never check content.
    message: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    sent_by: str | None = Field(default=None, max_length=32)  # the sender's name (log, smtp, …)


class ReminderScan(SQLModel, table=True):
    """A China day whose reminders have been scanned (claimed in the scan's transaction)."""

    __tablename__ = "reminder_scans"

    day: date = Field(primary_key=True)
    scanned_at: datetime = Field(default_factory=utcnow)
