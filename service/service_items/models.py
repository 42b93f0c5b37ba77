"""The service-item catalogue: one row per activity a vendor offers.

Items are immutable once created (there is no edit endpoint): applications and
whitelist entries point at them, and the fee a school sees must stay the fee that was
reviewed and published. A vendor that changes an activity or a fee adds a new item.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Column, String, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow

#: The eight activity categories of the notice's attachment (MISSION.md); codes are stable.
CATEGORIES: dict[int, str] = {
    1: "辅导答疑",
    2: "科技活动",
    3: "美育",
    4: "体育锻炼",
    5: "劳动实践",
    6: "阅读朗诵",
    7: "心理健康和安全教育",
    8: "校外活动",
}

#: Grade bands in school order (§1: content graded by age).
GRADE_BANDS: dict[str, str] = {
    "lower_primary": "小学低年级",
    "upper_primary": "小学高年级",
    "junior_secondary": "初中",
}

#: Fee units: a fee in fen per session or per term, or free (fee 0).
FEE_UNITS: dict[str, str] = {"per_session": "元/次", "per_term": "元/学期", "free": "免费"}


class ServiceItem(SQLModel, table=True):
    __tablename__ = "service_items"
    __table_args__ = (
        CheckConstraint("category_code BETWEEN 1 AND 8", name="ck_service_items_category_code"),
        CheckConstraint("fee >= 0", name="ck_service_items_fee"),
        CheckConstraint("max_class_size >= 1", name="ck_service_items_max_class_size"),
        CheckConstraint("cardinality(grade_bands) >= 1", name="ck_service_items_grade_bands"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    vendor_id: UUID = Field(foreign_key="vendors.id", index=True)
    category_code: int
    activity: str = Field(max_length=100)
    description: str = Field(max_length=2000)
    grade_bands: list[str] = Field(sa_column=Column(ARRAY(String(32)), nullable=False))
    fee: int  # fen (1/100 yuan), per `fee_unit`
    fee_unit: str = Field(max_length=16)
    max_class_size: int
    venue: str = Field(max_length=200)
    # The people who deliver the item. Personnel vetting (issue 5) owns people; until it
    # lands these are plain UUIDs with no foreign key (see docs/applications.md).
    personnel_ids: list[UUID] = Field(sa_column=Column(ARRAY(Uuid()), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    created_by: UUID | None = Field(default=None, foreign_key="accounts.id")
