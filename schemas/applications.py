"""Entry applications, their transitions, objections and the public notice board."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from schemas.inputs import Input, Int32
from schemas.text import MultilineText, Text


class ApplicationCreate(Input, forbid_unknown_fields=True):
    vendor_id: UUID
    region_code: Text  # the county or city bureau applied to
    service_item_ids: list[UUID]
    document_ids: list[UUID] = []


class ApplicationPatch(Input, forbid_unknown_fields=True):
    """Only while draft or returned; omitted fields stay as they are."""

    region_code: Text | None = None  # drafts only
    service_item_ids: list[UUID] | None = None
    document_ids: list[UUID] | None = None
    version: Int32 | None = None  # or If-Match


class TransitionRequest(Input, forbid_unknown_fields=True):
    action: Text  # submit, accept, pass_preliminary, pass_verification, approve, return, resubmit, reject, withdraw
    reason: MultilineText | None = None  # required for return, reject and approve
    version: Int32 | None = None  # the version the decision is based on (or If-Match)


class ObjectionCreate(Input, forbid_unknown_fields=True):
    reason: MultilineText


class ObjectionResolution(Input, forbid_unknown_fields=True):
    outcome: Text  # upheld | dismissed
    reason: MultilineText
    version: Int32 | None = None  # the application's version (or If-Match)


class ItemOut(msgspec.Struct):
    id: UUID
    category_code: int
    category_name: str
    activity: str
    description: str
    grade_bands: list[str]
    fee: int  # fen
    fee_unit: str
    max_class_size: int
    venue: str
    personnel_ids: list[UUID]


class DocumentRefOut(msgspec.Struct):
    id: UUID
    doc_type: str
    number: str
    sha256: str
    valid_until: date
    status: str  # not_yet_valid | valid | expiring | expired, now


class HistoryActor(msgspec.Struct):
    account_id: UUID | None
    name: str | None
    role: str  # workflow role tag: vendor, county_reviewer, city_reviewer, province_reviewer, system


class HistoryOut(msgspec.Struct):
    version: int
    action: str
    action_label: str
    from_stage: str
    to_stage: str
    actor: HistoryActor
    at: datetime
    reason: str | None
    evidence: list[str]  # SHA-256 of the documents the decision relied on


class ObjectionOut(msgspec.Struct):
    id: UUID
    application_id: UUID
    status: str  # open | upheld | dismissed | closed
    reason: str
    filed_at: datetime
    filed_by: UUID | None  # shown to reviewers, auditors and admins only
    resolved_at: datetime | None
    resolution_reason: str | None
    application_stage: str | None = None
    application_version: int | None = None


class WhitelistEntryOut(msgspec.Struct):
    id: UUID
    service_item_id: UUID
    region_code: str
    status: str
    valid_from: datetime
    valid_until: datetime
    fee: int
    fee_unit: str
    fee_published_on: date


class Checks(msgspec.Struct):
    missing_documents: list[str]
    expired_documents: list[str]
    not_yet_valid_documents: list[str]  # referenced, but none of their validity has started
    uncleared_personnel: list[str]


class ApplicationOut(msgspec.Struct):
    id: UUID
    number: str  # 申请编号 as people read it: 赣白申〔2026〕360104-0017
    vendor_id: UUID
    vendor_name: str
    vendor_credit_code: str
    region_code: str
    region_name: str
    workflow: str
    stage: str
    stage_label: str
    version: int
    stage_entered_at: datetime
    time_in_stage_seconds: int
    created_at: datetime
    submitted_at: datetime | None
    notice_started_at: datetime | None
    notice_ends_at: datetime | None
    notice_paused_at: datetime | None
    preliminary_reviewer_id: UUID | None
    service_items: list[ItemOut]
    documents: list[DocumentRefOut]
    checks: Checks
    allowed_actions: list[str]
    history: list[HistoryOut]
    objections: list[ObjectionOut]
    whitelist_entries: list[WhitelistEntryOut]


class QueueItemOut(msgspec.Struct):
    id: UUID
    number: str
    vendor_id: UUID
    vendor_name: str
    region_code: str
    region_name: str
    stage: str
    stage_label: str
    version: int
    item_count: int
    submitted_at: datetime | None
    stage_entered_at: datetime
    time_in_stage_seconds: int
    notice_ends_at: datetime | None


class ApplicationPage(msgspec.Struct):
    items: list[QueueItemOut]
    next_cursor: str | None


class NoticeItemOut(msgspec.Struct):
    category_code: int
    category_name: str
    activity: str
    grade_bands: list[str]
    fee: int  # fen
    fee_unit: str
    max_class_size: int
    venue: str


class NoticeOut(msgspec.Struct):
    application_id: UUID
    vendor_name: str
    vendor_credit_code: str
    region_code: str
    region_name: str
    status: str  # in_notice | paused (an objection is being reviewed)
    notice_started_at: datetime
    notice_ends_at: datetime | None  # null while paused
    notice_ends_on: date | None  # the end date in China
    service_items: list[NoticeItemOut]


class NoticePage(msgspec.Struct):
    items: list[NoticeOut]
    next_cursor: str | None
