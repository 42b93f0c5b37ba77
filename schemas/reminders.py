"""Reminders of what ends soon, for the signed-in account."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec


class ReminderOut(msgspec.Struct):
    id: UUID
    subject_type: str  # document | entry | clearance
    subject_id: UUID
    vendor_id: UUID
    ends_on: date
    days_before: int  # 30, 7 or 1
    message: str
    created_at: datetime
    sent_at: datetime | None


class ReminderList(msgspec.Struct):
    items: list[ReminderOut]
