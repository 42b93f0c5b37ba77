"""HTTP for reminders: the signed-in account's own."""

from __future__ import annotations

from litestar import get

from schemas.reminders import ReminderList, ReminderOut
from service.reminders import my_reminders
from service.reminders.models import Reminder
from service.web.access import ANY_ROLE, access
from service.web.deps import DB, CurrentActor


def reminder_out(r: Reminder) -> ReminderOut:
    return ReminderOut(
        id=r.id,
        subject_type=r.subject_type,
        subject_id=r.subject_id,
        vendor_id=r.vendor_id,
        ends_on=r.ends_on,
        days_before=r.days_before,
        message=r.message,
        created_at=r.created_at,
        sent_at=r.sent_at,
    )


@get("/api/v1/reminders", tags=["reminders"], **access(*sorted(ANY_ROLE)))
async def reminders(db: DB, actor: CurrentActor) -> ReminderList:
    """The caller's reminders (30, 7 and 1 days before a document, a whitelist entry or a
    person's clearance ends) whose end has not passed, soonest first."""
    return ReminderList(items=[reminder_out(r) for r in await my_reminders(db, actor)])
