"""Per-region settings. On PUT, an omitted field is left unchanged and `null` clears the
region's own value so that it inherits from the parent region again."""

from __future__ import annotations

import msgspec

from schemas.inputs import Input, Int32
from schemas.text import Text


class RegionSettingsUpdate(Input, forbid_unknown_fields=True):
    notice_days: Int32 | msgspec.UnsetType | None = msgspec.UNSET  # 0-30; 0 = no notice period
    city_review_required: bool | msgspec.UnsetType | None = msgspec.UNSET
    mandatory_document_types: list[Text] | msgspec.UnsetType | None = msgspec.UNSET
    whitelist_validity_days: Int32 | msgspec.UnsetType | None = msgspec.UNSET  # 1-3650
    mandatory_checks: list[Text] | msgspec.UnsetType | None = msgspec.UNSET  # check types clearance requires
    check_validity_days: dict[Text, Int32] | msgspec.UnsetType | None = msgspec.UNSET  # per check type, 1-3650
    satisfaction_threshold_percent: Int32 | msgspec.UnsetType | None = msgspec.UNSET  # 1-100; below it: re-review


class RegionSettingsValues(msgspec.Struct):
    """What the region itself sets; null = inherited."""

    notice_days: int | None
    city_review_required: bool | None
    mandatory_document_types: list[str] | None
    whitelist_validity_days: int | None
    mandatory_checks: list[str] | None
    check_validity_days: dict[str, int] | None
    satisfaction_threshold_percent: int | None


class RegionSettingsOut(msgspec.Struct):
    region_code: str
    region_name: str
    level: str
    notice_days: int
    city_review_required: bool
    mandatory_document_types: list[str]
    whitelist_validity_days: int
    mandatory_checks: list[str]
    check_validity_days: dict[str, int]
    satisfaction_threshold_percent: int
    own: RegionSettingsValues
    sources: dict[str, str]  # field -> region code whose value applies, or "default"
