from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from schemas.inputs import Input
from schemas.text import Text

OrgType = Literal["enterprise", "private_non_enterprise", "social_organization", "public_institution"]


class VendorCreate(Input, forbid_unknown_fields=True):
    credit_code: Text
    name: Text
    org_type: Text
    region_code: Text
    address: Text
    contact_name: Text
    contact_phone: Text
    legal_representative: Text
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
