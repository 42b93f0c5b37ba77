from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlmodel import Field, SQLModel

from service.timeutil import utcnow

ORG_TYPES = ("enterprise", "private_non_enterprise", "social_organization", "public_institution")


class Vendor(SQLModel, table=True):
    __tablename__ = "vendors"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    credit_code: str = Field(max_length=18, unique=True)
    name: str = Field(max_length=200)
    org_type: str = Field(max_length=32)
    region_code: str = Field(foreign_key="regions.code", max_length=6, index=True)
    address: str = Field(max_length=300)
    contact_name: str = Field(max_length=100)
    contact_phone: str = Field(max_length=32)
    legal_representative: str = Field(max_length=100)
    public_welfare_pledge: bool
    created_at: datetime = Field(default_factory=utcnow, index=True)
    created_by: UUID | None = Field(default=None, foreign_key="accounts.id")
