from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlmodel import Field, SQLModel

from service.timeutil import utcnow


class School(SQLModel, table=True):
    __tablename__ = "schools"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    code: str = Field(max_length=10, unique=True)  # 10-digit national school identifier
    name: str = Field(max_length=200)
    region_code: str = Field(foreign_key="regions.code", max_length=6, index=True)
    created_at: datetime = Field(default_factory=utcnow)
