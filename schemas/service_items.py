"""Service items: what a vendor offers, with grades, fee and class size."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class ServiceItemCreate(msgspec.Struct, forbid_unknown_fields=True):
    category_code: int  # 1-8, the notice's activity categories
    activity: str
    description: str
    grade_bands: list[str]  # lower_primary | upper_primary | junior_secondary, one or more
    fee: int  # fen (1/100 yuan) per fee_unit
    fee_unit: str  # per_session | per_term | free
    max_class_size: int
    venue: str
    personnel_ids: list[UUID] = []  # the people who deliver it (personnel vetting)


class ServiceItemOut(msgspec.Struct):
    id: UUID
    vendor_id: UUID
    category_code: int
    category_name: str
    activity: str
    description: str
    grade_bands: list[str]
    fee: int
    fee_unit: str
    max_class_size: int
    venue: str
    personnel_ids: list[UUID]
    created_at: datetime


class ServiceItemList(msgspec.Struct):
    items: list[ServiceItemOut]
