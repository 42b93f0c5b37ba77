"""Terms and schools' orders of whitelisted service items (点单)."""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID

import msgspec

from schemas.inputs import Input, Int32
from schemas.text import MultilineText, Text


class TermCreate(Input, forbid_unknown_fields=True):
    region_code: Text
    name: Text  # e.g. 2026-2027 学年第一学期
    starts_on: date
    ends_on: date
    timetable_due_on: date | None = None  # default: one month after starts_on


class TermOut(msgspec.Struct):
    id: UUID
    region_code: str
    name: str
    starts_on: date
    ends_on: date
    timetable_due_on: date
    created_at: datetime


class TermList(msgspec.Struct):
    items: list[TermOut]


class OrderCreate(Input, forbid_unknown_fields=True):
    term_id: UUID
    service_item_id: UUID
    weekdays: list[Int32]  # ISO weekdays, 1 = Monday … 7 = Sunday
    start_time: Text  # "15:40" (or "15:40:00"), China time
    end_time: Text
    venue: Text
    class_size: Int32
    grade_bands: list[Text]  # a subset of the item's
    people: list[UUID]  # the vendor's people who will teach


class StandingReason(msgspec.Struct, omit_defaults=True):
    code: str  # item_suspended | item_revoked | item_expired | item_not_listed | person_not_cleared |
    #           entry_ending | documents_ending | clearance_ending
    message: str
    person_id: str | None = None
    until: str | None = None  # the last valid day, for the *_ending reasons


class OrderWarning(msgspec.Struct, omit_defaults=True):
    code: str  # clearance_ends_before_term_end | entry_ends_before_term_end | documents_end_before_term_end
    message: str
    until: str
    person_id: str | None = None


class OrderPerson(msgspec.Struct):
    person_id: UUID
    masked_name: str


class OrderOut(msgspec.Struct):
    id: UUID
    school_code: str
    term_id: UUID
    service_item_id: UUID
    vendor_id: UUID
    vendor_name: str
    activity: str
    category_code: int
    weekdays: list[int]
    start_time: time
    end_time: time
    venue: str
    class_size: int
    grade_bands: list[str]
    people: list[OrderPerson]
    fee: int  # fen per fee_unit: the published fee
    fee_unit: str
    state: str  # placed | accepted | declined | cancelled
    state_label: str
    version: int
    allowed_actions: list[str]  # for the caller, from the workflow table
    standing: str  # in_force | at_risk | blocked | closed (declined or cancelled)
    standing_reasons: list[StandingReason]
    warnings: list[OrderWarning]  # at placing: what ends before the term's end
    created_at: datetime


class OrderList(msgspec.Struct):
    items: list[OrderOut]


class OrderTransition(Input, forbid_unknown_fields=True):
    action: Text  # accept | decline (the vendor), cancel (the school)
    version: Int32 | None = None  # the version the action is based on (or If-Match)
    reason: MultilineText | None = None  # required to decline or cancel


class FeeRowOut(msgspec.Struct):
    order_id: UUID
    service_item_id: UUID
    vendor_name: str
    activity: str
    category_code: int
    fee: int  # fen per fee_unit
    fee_unit: str  # per_session | per_term | free
    published_on: date  # on the school's public list, and chargeable, from this day
    chargeable: bool  # on the day asked about (`on`)
    published_before_term_start: bool


class FeeListOut(msgspec.Struct):
    school_code: str
    school_name: str
    term_id: UUID
    term_name: str
    starts_on: date
    on: date
    items: list[FeeRowOut]
