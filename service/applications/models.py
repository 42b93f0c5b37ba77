"""Entry applications, what they list, their stage history and objections.

`stage` and `version` change together under a row lock: every change to an
application (edit, transition, objection) increments `version`, and a request based on
an older version is refused, so no decision is ever lost or applied twice.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Identity,
    Index,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow

OBJECTION_STATUSES = ("open", "upheld", "dismissed", "closed")


class Application(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint("version >= 1", name="ck_applications_version"),
        # The notice job's query: applications in public notice whose period is over.
        Index("ix_applications_stage_notice_ends_at", "stage", "notice_ends_at"),
        # The reviewer queue: by stage, oldest in its stage first.
        Index("ix_applications_stage_entered", "stage", "stage_entered_at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    # What people read and say (公示, letters, a call to the bureau): rules.application_number.
    number: str = Field(max_length=32, unique=True, index=True)
    vendor_id: UUID = Field(foreign_key="vendors.id", index=True)
    region_code: str = Field(foreign_key="regions.code", max_length=6, index=True)
    workflow: str = Field(max_length=50)  # the table in use (workflows/entry_review.py), fixed at submission
    stage: str = Field(max_length=32)
    version: int = 1
    stage_entered_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None  # first submission; reviewers see nothing before it
    preliminary_reviewer_id: UUID | None = Field(default=None, foreign_key="accounts.id")
    notice_started_at: datetime | None = None
    notice_ends_at: datetime | None = None
    notice_paused_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    created_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ApplicationItem(SQLModel, table=True):
    """A service item listed on an application, in the vendor's order."""

    __tablename__ = "application_items"

    application_id: UUID = Field(foreign_key="applications.id", primary_key=True)
    service_item_id: UUID = Field(foreign_key="service_items.id", primary_key=True, index=True)
    position: int


class ApplicationDocument(SQLModel, table=True):
    """A qualification document the application relies on."""

    __tablename__ = "application_documents"

    application_id: UUID = Field(foreign_key="applications.id", primary_key=True)
    document_id: UUID = Field(foreign_key="documents.id", primary_key=True, index=True)


class StageChange(SQLModel, table=True):
    """One row per transition: the stage history shown on the application."""

    __tablename__ = "application_stage_changes"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    application_id: UUID = Field(foreign_key="applications.id", index=True)
    version: int  # the application's version after this change
    action: str = Field(max_length=40)
    from_stage: str = Field(max_length=32)
    to_stage: str = Field(max_length=32)
    actor_account_id: UUID | None = Field(default=None, foreign_key="accounts.id")
    actor_role: str = Field(max_length=32)  # the workflow role tag (vendor, county_reviewer, ..., system)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    evidence: list[str] = Field(sa_column=Column(ARRAY(String(64)), nullable=False))  # document SHA-256s
    occurred_at: datetime = Field(default_factory=utcnow)


class Objection(SQLModel, table=True):
    """An objection (异议) filed during the public notice."""

    __tablename__ = "objections"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    application_id: UUID = Field(foreign_key="applications.id", index=True)
    filed_by: UUID = Field(foreign_key="accounts.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)  # open | upheld | dismissed | closed
    filed_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    resolved_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    resolution_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
