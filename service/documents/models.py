from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

from sqlmodel import Field, SQLModel

from service.timeutil import utcnow

DOC_TYPES = ("business_license", "school_permit", "non_enterprise_registration", "other")


class Document(SQLModel, table=True):
    __tablename__ = "documents"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    vendor_id: UUID = Field(foreign_key="vendors.id", index=True)
    doc_type: str = Field(max_length=40)
    number: str = Field(max_length=100)
    issuer: str = Field(max_length=200)
    valid_from: date
    valid_until: date
    sha256: str = Field(max_length=64, index=True)
    size: int
    content_type: str = Field(max_length=40)
    filename: str = Field(max_length=255)
    uploaded_at: datetime = Field(default_factory=utcnow)
    uploaded_by: UUID | None = Field(default=None, foreign_key="accounts.id")
