"""A region's supervision dashboard."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from schemas.orders import StandingReason
from schemas.timetables import SchoolProgressOut


class AttentionOrder(msgspec.Struct):
    order_id: UUID
    school_code: str
    vendor_name: str
    activity: str
    standing: str  # blocked | at_risk
    standing_reasons: list[StandingReason]


class EndingDocumentOut(msgspec.Struct):
    vendor_id: UUID
    vendor_name: str
    doc_type: str
    last_day: str


class EndingClearanceOut(msgspec.Struct):
    person_id: UUID
    masked_name: str  # never the full name, never which check ends
    vendor_name: str
    last_day: str
    orders: int  # open orders of the region that name the person


class OpenComplaintOut(msgspec.Struct):
    complaint_id: UUID
    school_code: str
    category: str
    state: str  # received | investigating
    received_at: datetime
    age_days: int


class BelowThresholdOut(msgspec.Struct):
    service_item_id: UUID
    vendor_name: str
    activity: str
    region_code: str
    satisfied: int
    ratings: int
    threshold_percent: int
    opened_at: datetime  # when its re-review opened


class DashboardOut(msgspec.Struct):
    region_code: str
    term_id: UUID | None  # the term read: given, or the one in progress
    term_name: str | None
    orders_by_standing: dict[str, int]  # in_force, at_risk, blocked (open orders)
    attention: list[AttentionOrder]  # blocked first, then at risk
    timetables_overdue: list[SchoolProgressOut]  # not published after the term's deadline
    timetables_published: int
    schools: int
    documents_ending: list[EndingDocumentOut]  # within 30 days, soonest first
    clearances_ending: list[EndingClearanceOut]  # people named on open orders, within 30 days
    open_complaints_by_age: dict[str, int]  # within_7_days, 8_to_30_days, over_30_days
    open_complaints: list[OpenComplaintOut]  # oldest first
    below_threshold: list[BelowThresholdOut]  # items in re-review (satisfaction below the threshold)
