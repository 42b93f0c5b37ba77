"""One row per region that sets anything. Every setting is a nullable column: NULL
means "inherit from the parent region" (and, at the top, the built-in default).

Other domains add their settings as further nullable columns here plus an entry in
`service.region_settings.services.FIELDS` (see docs/applications.md, "Region settings").
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Column, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow


class RegionSettings(SQLModel, table=True):
    __tablename__ = "region_settings"
    __table_args__ = (
        CheckConstraint("notice_days BETWEEN 0 AND 30", name="ck_region_settings_notice_days"),
        CheckConstraint("whitelist_validity_days BETWEEN 1 AND 3650", name="ck_region_settings_validity_days"),
    )

    region_code: str = Field(primary_key=True, foreign_key="regions.code", max_length=6)
    notice_days: int | None = None
    city_review_required: bool | None = None
    mandatory_document_types: list[str] | None = Field(default=None, sa_column=Column(ARRAY(String(40)), nullable=True))
    whitelist_validity_days: int | None = None
    # Personnel vetting (service/personnel/settings.py): which check types clearance
    # requires, and how long a result without a printed expiry stays valid, per type.
    mandatory_checks: list[str] | None = Field(default=None, sa_column=Column(ARRAY(String(40)), nullable=True))
    check_validity_days: dict[str, int] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    # Ratings (service/ratings): below this share of satisfied ratings (percent) an
    # item's term opens a re-review in the region.
    satisfaction_threshold_percent: int | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: UUID | None = Field(default=None, foreign_key="accounts.id")
