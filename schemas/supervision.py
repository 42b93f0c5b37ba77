"""A region's supervision dashboard."""

from __future__ import annotations

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
