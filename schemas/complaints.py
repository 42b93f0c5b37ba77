"""Complaints about schools' after-school services, and their public status."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from schemas.inputs import Input, Int32
from schemas.text import MultilineText, Text


class ComplaintCreate(Input, forbid_unknown_fields=True):
    """Signed in: a school (about itself), a vendor's account, an inspector."""

    school_code: Text
    category: Text  # safety | conduct | fee_overcharge | fee_bundling | forced_participation | new_lessons
    description: MultilineText
    order_id: UUID | None = None  # the order complained about (its item and vendor follow)
    person_id: UUID | None = None  # a person named on that order


class PublicComplaintCreate(Input, forbid_unknown_fields=True):
    """A parent, no account: the school is in the path."""

    category: Text
    description: MultilineText
    order_id: UUID | None = None  # an ordered item of the school's published timetable


class PublicComplaintCreated(msgspec.Struct):
    case_code: str  # keep it to follow the case: GET /api/v1/public/complaints/{case_code}
    state: str
    state_label: str
    status_url: str


class PublicComplaintStatus(msgspec.Struct):
    case_code: str
    state: str
    state_label: str
    category: str
    category_label: str
    received_at: datetime
    updated_at: datetime


class ComplaintTransition(Input, forbid_unknown_fields=True):
    action: Text  # investigate | uphold | dismiss
    version: Int32 | None = None
    reason: MultilineText | None = None
    serious: bool = False  # uphold: a serious breach — request the whitelist suspension (four eyes)
    suspend: Text | None = None  # uphold + serious: item (default when the complaint names one) | vendor


class ComplaintLift(Input, forbid_unknown_fields=True):
    reason: MultilineText


class EvidenceOut(msgspec.Struct):
    id: UUID
    sha256: str
    size: int
    content_type: str
    filename: str
    created_at: datetime


class SuspensionRequestOut(msgspec.Struct):
    id: UUID
    action: str
    status: str  # pending | confirmed | declined
    entry_ids: list[UUID]


class ComplaintOut(msgspec.Struct):
    id: UUID
    case_code: str
    school_code: str
    region_code: str
    category: str
    category_label: str
    description: str
    source: str  # school | vendor | inspector | public
    order_id: UUID | None
    service_item_id: UUID | None
    vendor_id: UUID | None
    person_id: UUID | None
    person_suspended: bool  # the named person's entry is suspended pending this case
    state: str
    state_label: str
    version: int
    serious: bool | None
    decision_reason: str | None
    decided_at: datetime | None
    evidence: list[EvidenceOut]
    suspension_request: SuspensionRequestOut | None
    allowed_actions: list[str]
    created_at: datetime
    updated_at: datetime


class ComplaintList(msgspec.Struct):
    items: list[ComplaintOut]
