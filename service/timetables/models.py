"""The timetables table: one per school and term."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Column, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow


class Timetable(SQLModel, table=True):
    """A school's own sessions for a term (`sessions`, as the school wrote them); the
    ordered items join them when read. `published` is the whole timetable as it was
    published — sessions, ordered items and numbers — so the public sees what was
    published, not what is being revised."""

    __tablename__ = "timetables"
    __table_args__ = (
        UniqueConstraint("school_id", "term_id", name="uq_timetables_school_term"),
        CheckConstraint("state IN ('draft', 'filed', 'published')", name="ck_timetables_state"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    school_id: UUID = Field(foreign_key="schools.id", index=True)
    term_id: UUID = Field(foreign_key="terms.id", index=True)
    region_code: str = Field(foreign_key="regions.code", max_length=6, index=True)  # the school's
    state: str = Field(max_length=16)
    version: int = 1
    sessions: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    published: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    filed_at: datetime | None = None
    published_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: UUID | None = Field(default=None, foreign_key="accounts.id")
