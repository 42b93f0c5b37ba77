from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

OrgType = Literal["enterprise", "private_non_enterprise", "social_organization", "public_institution"]


class VendorCreate(msgspec.Struct, forbid_unknown_fields=True):
    credit_code: str
    name: str
    org_type: str
    region_code: str
    address: str
    contact_name: str
    contact_phone: str
    legal_representative: str
    public_welfare_pledge: bool


class VendorOut(msgspec.Struct):
    id: UUID
    credit_code: str
    name: str
    org_type: str
    region_code: str
    address: str
    contact_name: str
    contact_phone: str
    legal_representative: str
    public_welfare_pledge: bool
    created_at: datetime
    warnings: list[str] = []


class VendorPage(msgspec.Struct):
    items: list[VendorOut]
    next_cursor: str | None
