"""Request and response shapes of the personnel API."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from schemas.inputs import Input
from schemas.text import MultilineText, Text


class PersonCreate(Input, forbid_unknown_fields=True):
    id_number: Text
    name: Text
    role: Text  # lead_instructor | assistant | driver | other
    start_date: date
    phone: Text | None = None


class CheckStatusOut(msgspec.Struct):
    """What anyone who may see the person sees of a check: never its result."""

    check_type: str
    status: str  # missing | present | pending | expired
    mandatory: bool
    valid_until: date | None
    expiring: bool  # last valid day within 30 days


class EngagementOut(msgspec.Struct):
    engagement_id: UUID
    vendor_id: UUID
    vendor_name: str
    role: str
    phone: str | None
    start_date: date
    end_date: date | None
    current: bool


class PersonOut(msgspec.Struct):
    person_id: UUID
    id_number_masked: str
    name: str
    gender: str
    birth_date: date
    clearance: str  # cleared | pending | expired | barred
    cleared_until: date | None  # last day cleared; clearance ends at 00:00 China time after it
    checks: list[CheckStatusOut]
    engagements: list[EngagementOut]
    created_at: datetime


class RosterItem(msgspec.Struct):
    person_id: UUID
    engagement_id: UUID
    id_number_masked: str
    name: str
    role: str
    start_date: date
    clearance: str
    cleared_until: date | None
    missing_checks: list[str]
    expiring_checks: list[str]
    expired_checks: list[str]


class Roster(msgspec.Struct):
    items: list[RosterItem]


class DepartureIn(Input, forbid_unknown_fields=True):
    end_date: date | None = None
    reason: MultilineText | None = None


class IdNumberOut(msgspec.Struct):
    person_id: UUID
    id_number: str


class CheckCreate(Input, forbid_unknown_fields=True):
    check_type: Text
    result: Text  # clear | adverse | pending
    query_date: date
    reference: Text
    issuing_authority: Text
    valid_until: date | None = None
    consent_document_id: UUID | None = None


class CheckOut(msgspec.Struct):
    id: UUID
    person_id: UUID
    check_type: str
    result: str
    query_date: date
    reference: str
    issuing_authority: str
    valid_until: date | None
    consent_document_id: UUID
    import_id: UUID | None
    recorded_at: datetime


class CheckList(msgspec.Struct):
    items: list[CheckOut]


class ConsentOut(msgspec.Struct):
    id: UUID
    kind: str  # person_consent | bureau_authorisation
    person_id: UUID | None
    region_code: str | None
    title: str
    signed_on: date | None
    sha256: str
    size: int
    content_type: str
    filename: str
    uploaded_at: datetime


class ConsentList(msgspec.Struct):
    items: list[ConsentOut]


class CertificateOut(msgspec.Struct):
    id: UUID
    person_id: UUID
    cert_type: str
    number: str
    issuer: str
    category_codes: list[int]
    valid_from: date
    valid_until: date | None
    sha256: str
    size: int
    content_type: str
    filename: str
    uploaded_at: datetime
    status: str  # not_yet_valid | valid | expiring | expired


class CertificateList(msgspec.Struct):
    items: list[CertificateOut]


class BarLiftCreate(Input, forbid_unknown_fields=True):
    check_id: UUID
    reason: MultilineText


class BarLiftConfirm(Input, forbid_unknown_fields=True):
    reason: MultilineText | None = None


class BarLiftDecline(Input, forbid_unknown_fields=True):
    reason: MultilineText | None = None  # required; checked by the service (422 reason_required)


class BarLiftWithdraw(Input, forbid_unknown_fields=True):
    reason: MultilineText | None = None


class BarLiftOut(msgspec.Struct):
    id: UUID
    person_id: UUID
    check_id: UUID
    reason: str
    requested_by: UUID | None
    requested_at: datetime
    confirmed_by: UUID | None
    confirmed_at: datetime | None
    effective: bool  # confirmed: the bar is lifted
    status: str  # pending | confirmed | declined | withdrawn
    closed_by: UUID | None  # who declined or withdrew it
    closed_at: datetime | None
    close_reason: str | None


class ImportProblemOut(msgspec.Struct):
    row: int
    column: str
    code: str
    message: str


class ImportOut(msgspec.Struct):
    import_id: UUID
    rows: int
    imported: int
    skipped: int
    people_created: int
    errors: list[ImportProblemOut]


class ImportJobOut(msgspec.Struct):
    job_id: UUID
    state: str  # queued | running | succeeded | failed
    filename: str
    rows_total: int | None
    rows_validated: int
    rows_stored: int
    imported: int
    skipped: int
    errors_total: int
    errors: list[ImportProblemOut]
    created_at: datetime
    finished_at: datetime | None
