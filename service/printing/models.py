"""Issued decision letters and their document numbers.

A letter is made from the audit event of a decision (`audit_event_id`), once: its
document number (unique per region and year, from the `letter` series of
`service.numbering`) and its
verification code are fixed at issue, so every later copy of the letter is the same
file. Rows are only inserted.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, LargeBinary, SmallInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow

LETTER_KINDS = ("admission", "rejection", "return", "suspension", "revocation", "reinstatement")


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


class PublishedList(SQLModel, table=True):
    """The publication in force of one published list (`kind`) for one query (`scope`),
    and its rendered PDF: one row per scope, replaced when the list's content changes.

    `content_hash` names what the publication was made from (the list without its
    instant, and the signing key); `served` is the signed JSON issued for it, once, at
    `published_at`. `pdf` is rendered from `served` by the one worker holding the
    render claim (`render_token` until `render_until`); `layout` names the templates it
    was rendered with, so a new layout re-renders the same publication.

    `source_version`, `fresh_until` and `key_id` say while the publication is still the
    list's truth without reading the list: the source version it was read at
    (`published_source_version(kind)`, read before the list), the next instant the list
    can change with no write, and the signing key.
    """

    __tablename__ = "published_lists"

    kind: str = Field(max_length=16, primary_key=True)  # whitelist | notices
    scope: str = Field(max_length=64, primary_key=True)  # the query: "region=360104&category=4"
    content_hash: str = Field(max_length=64)
    published_at: datetime
    served: str  # the signed JSON, as GET /api/v1/public/<kind>.json serves it
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    layout: str | None = Field(default=None, max_length=16)
    rendered_at: datetime | None = None
    render_token: UUID | None = None
    render_until: datetime | None = None
    source_version: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    fresh_until: datetime | None = None
    key_id: str | None = Field(default=None, max_length=64)


class NoticeStateVersion(SQLModel, table=True):
    """One row: a counter bumped at commit by every transaction that changes
    applications or their items (migration 0023), as `lookup_state_version` is for the
    whitelist's tables. Together they say whether the notice board can have changed
    (`published_source_version('notices')`)."""

    __tablename__ = "notice_state_version"
    __table_args__ = (CheckConstraint("id = 1", name="ck_notice_state_version_one_row"),)

    id: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
