"""Service items: what a vendor offers, with grades, fee and class size."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from schemas.inputs import Input, Int32
from schemas.text import MultilineText, Text


class ServiceItemCreate(Input, forbid_unknown_fields=True):
    category_code: Int32  # 1-8, the notice's activity categories
    activity: Text
    description: MultilineText
    grade_bands: list[Text]  # lower_primary | upper_primary | junior_secondary, one or more
    fee: Int32  # fen (1/100 yuan) per fee_unit
    fee_unit: Text  # per_session | per_term | free
    max_class_size: Int32
    venue: Text
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
