"""Reminders at 30, 7 and 1 days before a document, an entry or a clearance ends (§7).

The scan asks the owning domains what ends on each of those days — a vendor's latest
document of a type (documents), an active whitelist entry's validity (whitelist), a
cleared person's clearance, i.e. the earliest of their mandatory checks (personnel) —
and writes one reminder per recipient: the vendor's accounts and the reviewers whose
region covers the vendor's (for an entry, the entry's region). The unique key makes it
once, whoever scans; `send_due` claims unsent rows (SKIP LOCKED), hands them to the
sender and marks them sent in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.accounts import accounts_to_notify
from service.db import Database
from service.documents import documents_ending_on
from service.personnel import clearances_ending_on
from service.reminders.models import DAYS_BEFORE, Reminder
from service.reminders.senders import Message, Sender
from service.security import Actor
from service.timeutil import today_in_china, utcnow
from service.vendors import vendors_by_ids
from service.whitelist import entries_ending_on

DOC_NAMES = {
    "business_license": "营业执照",
    "school_permit": "办学许可证",
    "non_enterprise_registration": "民办非企业单位登记证书",
    "other": "其他资质材料",
}
SEND_BATCH = 200


@dataclass(frozen=True)
class Due:
    subject_type: str
    subject_id: UUID
    vendor_id: UUID
    region_code: str | None  # None: the vendor's own region
    ends_on: date
    what: str  # in words, masked names only


def _text(due: Due, vendor_name: str, days: int) -> str:
    return f"{vendor_name}：{due.what}将于 {due.ends_on.isoformat()} 到期（还有 {days} 天），请及时处理"


async def _due(session: AsyncSession, days: list[date], now: datetime) -> list[Due]:
    found = [
        Due(
            "document",
            d.document_id,
            d.vendor_id,
            None,
            d.last_day,
            f"资质材料（{DOC_NAMES.get(d.doc_type, d.doc_type)}）",
        )
        for d in await documents_ending_on(session, days)
    ]
    found += [
        Due("entry", e.entry_id, e.vendor_id, e.region_code, e.last_day, "服务项目的白名单有效期")
        for e in await entries_ending_on(session, days)
    ]
    found += [
        Due("clearance", c.person_id, c.vendor_id, None, c.last_day, f"授课人员 {c.masked_name} 的入校核验")
        for c in await clearances_ending_on(session, days, now)
    ]
    return found


async def scan(db: Database, now: datetime | None = None) -> int:
    """Write the reminders due today (30, 7 and 1 days before each end); the new ones."""
    now = now or utcnow()
    async with db.transaction() as session:
        return await _scan(session, now)


CLAIM_DAY = text(
    "INSERT INTO reminder_scans (day, scanned_at) VALUES (:day, :at) ON CONFLICT (day) DO NOTHING RETURNING day"
)


async def scan_once_today(db: Database, now: datetime | None = None) -> int | None:
    """The background duty's scan: only the first worker to claim today scans (None for
    the others, and after a restart). The claim commits with the reminders, so a scan
    that fails leaves the day to the next round or worker."""
    now = now or utcnow()
    async with db.transaction() as session:
        claim = await (await session.connection()).execute(CLAIM_DAY, {"day": today_in_china(now), "at": now})
        if claim.first() is None:
            return None
        return await _scan(session, now)


async def _scan(session: AsyncSession, now: datetime) -> int:
    today = today_in_china(now)
    offsets = {today + timedelta(days=n): n for n in DAYS_BEFORE}
    found = await _due(session, sorted(offsets), now)
    vendors = await vendors_by_ids(session, [d.vendor_id for d in found])
    conn, added = await session.connection(), 0
    for due in found:
        vendor = vendors[due.vendor_id]
        region = due.region_code or vendor.region_code
        message = _text(due, vendor.name, offsets[due.ends_on])
        for account_id, _ in await accounts_to_notify(session, vendor.credit_code, region):
            result = await conn.execute(
                INSERT_REMINDER,
                {
                    "subject_type": due.subject_type,
                    "subject_id": due.subject_id,
                    "ends_on": due.ends_on,
                    "days": offsets[due.ends_on],
                    "account": account_id,
                    "vendor": due.vendor_id,
                    "region": region,
                    "message": message,
                    "at": now,
                },
            )
            added += result.rowcount
    return added


INSERT_REMINDER = text(
    "INSERT INTO reminders (id, subject_type, subject_id, ends_on, days_before, recipient_account_id, "
    "vendor_id, region_code, message, created_at) VALUES (gen_random_uuid(), :subject_type, :subject_id, "
    ":ends_on, :days, :account, :vendor, :region, :message, :at) "
    "ON CONFLICT ON CONSTRAINT uq_reminders_once DO NOTHING"
)


async def send_due(db: Database, sender: Sender, *, limit: int = SEND_BATCH) -> int:
    """Hand unsent reminders to the sender, oldest first; the number sent."""
    async with db.transaction() as session:
        rows = list(
            (
                await session.exec(
                    select(Reminder)
                    .where(col(Reminder.sent_at).is_(None))
                    .order_by(col(Reminder.created_at), col(Reminder.id))
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
        for row in rows:
            await sender.send(
                Message(row.id, row.recipient_account_id, row.subject_type, row.days_before, row.ends_on, row.message)
            )
            row.sent_at, row.sent_by = utcnow(), sender.name
            session.add(row)
        return len(rows)


async def my_reminders(db: Database, actor: Actor, *, now: datetime | None = None, limit: int = 50) -> list[Reminder]:
    """The acting account's reminders whose end has not passed, soonest end first."""
    if actor.account_id is None:
        return []
    today = today_in_china(now or utcnow())
    async with db.transaction() as session:
        query = (
            select(Reminder)
            .where(Reminder.recipient_account_id == actor.account_id, col(Reminder.ends_on) >= today)
            .order_by(col(Reminder.ends_on), col(Reminder.days_before), col(Reminder.created_at))
            .limit(limit)
        )
        return list((await session.exec(query)).all())
