"""A school's after-school timetable for a term (课后服务安排表)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from schemas.inputs import Input, Int32
from schemas.text import MultilineText, Text


class SessionIn(Input, forbid_unknown_fields=True):
    weekday: Int32  # 1 = Monday … 7 = Sunday
    start_time: Text  # "15:40"
    end_time: Text
    category_code: Int32  # 1 (辅导答疑, the "1") … 8; 2-8 are interest activities (the "N")
    content: Text
    venue: Text
    teacher: Text  # one of the school's staff, by name
    class_size: Int32


class TimetableWrite(Input, forbid_unknown_fields=True):
    sessions: list[SessionIn]
    version: Int32 | None = None  # the current version (0 when there is none yet), or If-Match


class TimetableAction(Input, forbid_unknown_fields=True):
    version: Int32 | None = None
    reason: MultilineText | None = None  # required to revise a published timetable


class SessionOut(msgspec.Struct, omit_defaults=True):
    weekday: int
    start_time: str
    end_time: str
    category_code: int
    category_name: str
    content: str
    venue: str
    teacher: str
    class_size: int
    provider: str | None = None  # the vendor, for an ordered item
    order_id: str | None = None
    fee: int | None = None  # fen per fee_unit, for an ordered item
    fee_unit: str | None = None


class DayNumbersOut(msgspec.Struct):
    weekday: int
    total_minutes: int
    interest_minutes: int
    interest_share: float  # 0.0-1.0; §1(1) asks at least 0.5
    interest_activities: int


class NumbersOut(msgspec.Struct):
    days: list[DayNumbersOut]
    science_sessions: int
    conforms: bool
    problems: list[dict]


class TimetableOut(msgspec.Struct):
    school_code: str
    term_id: UUID
    state: str  # draft | filed | published
    version: int  # 0: nothing written yet
    sessions: list[SessionOut]
    numbers: NumbersOut
    allowed_actions: list[str]
    filed_at: datetime | None
    published_at: datetime | None


class PublicTimetableOut(msgspec.Struct):
    school_code: str
    school_name: str
    term_id: UUID
    term_name: str
    published_at: str
    sessions: list[SessionOut]
    numbers: NumbersOut


class SchoolProgressOut(msgspec.Struct):
    school_code: str
    school_name: str
    state: str | None  # None: nothing written yet
    published_at: datetime | None
    overdue: bool


class RegionProgressOut(msgspec.Struct):
    region_code: str
    term_id: UUID
    timetable_due_on: str
    schools: list[SchoolProgressOut]
