"""Issued decision letters and their document numbers.

A letter is made from the audit event of a decision (`audit_event_id`), once: its
document number (unique per region and year, from `document_number_counters`) and its
verification code are fixed at issue, so every later copy of the letter is the same
file. Rows are only inserted.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import BigInteger, Column, ForeignKey, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow

LETTER_KINDS = ("admission", "rejection", "return", "suspension", "revocation", "reinstatement")


class DocumentNumberCounter(SQLModel, table=True):
    """The last document number issued per region and (China) year."""

    __tablename__ = "document_number_counters"

    region_code: str = Field(foreign_key="regions.code", max_length=6, primary_key=True)
    year: int = Field(primary_key=True)
    last: int


class DecisionLetter(SQLModel, table=True):
    __tablename__ = "decision_letters"
    __table_args__ = (UniqueConstraint("region_code", "year", "seq", name="uq_decision_letters_number"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    audit_event_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("audit_events.id"), nullable=False, unique=True)
    )
    kind: str = Field(max_length=16)
    subject_type: str = Field(max_length=32)  # application | whitelist_entry
    subject_id: UUID = Field(index=True)
    vendor_id: UUID = Field(foreign_key="vendors.id", index=True)
    region_code: str = Field(foreign_key="regions.code", max_length=6)  # the deciding bureau's region
    year: int
    seq: int
    number: str = Field(max_length=64, unique=True)
    verification_code: str = Field(max_length=32, unique=True)
    issued_at: datetime = Field(default_factory=utcnow)
