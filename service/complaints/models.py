"""Complaints tables: a case about a school's after-school service, its evidence files,
and the per-key rate windows of the public complaint form.

A complaint belongs to the school it is about (`school_id`, `region_code` = the
school's); it may name an order, and through it the item and the vendor, and one person
named on that order. Its state is the workflow state (workflows/complaint.py). The
`description` may hold personal data: it is shown only to the bureau in scope, never on
the public status page, and never logged.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, String, text
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow

#: The categories a complaint can have (§3(2)–(3), the "five prohibitions"), and their labels.
CATEGORIES: dict[str, str] = {
    "safety": "安全问题",
    "conduct": "人员言行、师德问题",
    "fee_overcharge": "超出公示标准收费",
    "fee_bundling": "捆绑收费、搭车收费",
    "forced_participation": "强制或变相强制参加",
    "new_lessons": "借课后服务名义讲授新课",
}
SOURCES = ("school", "vendor", "inspector", "public")


class Complaint(SQLModel, table=True):
    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint("state IN ('received', 'investigating', 'upheld', 'dismissed')", name="ck_complaints_state"),
        CheckConstraint("source IN ('school', 'vendor', 'inspector', 'public')", name="ck_complaints_source"),
        CheckConstraint(
            "category IN ('safety', 'conduct', 'fee_overcharge', 'fee_bundling', "
            "'forced_participation', 'new_lessons')",
            name="ck_complaints_category",
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_code: str = Field(sa_column=Column(String(20, collation="C"), nullable=False, unique=True))
    school_id: UUID = Field(foreign_key="schools.id", index=True)
    region_code: str = Field(foreign_key="regions.code", max_length=6, index=True)  # the school's
    category: str = Field(max_length=32)
    description: str = Field(max_length=2000)
    order_id: UUID | None = Field(default=None, foreign_key="school_orders.id", index=True)
    service_item_id: UUID | None = Field(default=None, foreign_key="service_items.id")
    vendor_id: UUID | None = Field(default=None, foreign_key="vendors.id", index=True)
    person_id: UUID | None = Field(default=None, foreign_key="people.id", index=True)
    source: str = Field(max_length=16)
    filed_by: UUID | None = Field(default=None, foreign_key="accounts.id")  # None: the public form
    state: str = Field(max_length=16, index=True)
    version: int = 1
    serious: bool | None = None  # set when upheld
    decision_reason: str | None = Field(default=None, max_length=2000)
    decided_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ComplaintEvidence(SQLModel, table=True):
    """A file attached to a complaint by the bureau handling it (the documents' checks)."""

    __tablename__ = "complaint_evidence"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    complaint_id: UUID = Field(foreign_key="complaints.id", index=True)
    sha256: str = Field(max_length=64)
    size: int
    content_type: str = Field(max_length=40)
    filename: str = Field(max_length=200)
    uploaded_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    created_at: datetime = Field(default_factory=utcnow)


class PublicRateWindow(SQLModel, table=True):
    """Public-form submissions counted per key (a keyed hash of the client address, or a
    school) and fixed window, in PostgreSQL so every worker shares the count."""

    __tablename__ = "public_rate_windows"

    key: str = Field(sa_column=Column(String(80, collation="C"), primary_key=True))
    window_start: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    n: int = Field(sa_column=Column(BigInteger, nullable=False, server_default=text("0")))
