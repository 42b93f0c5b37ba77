"""Whitelist entries as a reader sees them: the status derived now, the documents in
force, the history, and the entries whose standing ends on given days (reminders)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import Database, driver_connection, run_sql
from service.errors import (
    NotFound,
)
from service.region_settings import effective_settings
from service.regions import regions
from service.security import Actor, Role
from service.timeutil import utcnow
from service.whitelist import state as vendor_state
from service.whitelist.models import (
    WhitelistEntry,
    WhitelistEntryStatus,
)
from service.whitelist.status import (
    Interval,
    documents_ok,
    entry_status,
)


def derived_status(interval: WhitelistEntryStatus | None, at: datetime, documents_valid: bool) -> str:
    if interval is None:
        return "not_listed"
    return entry_status(
        Interval(interval.status, interval.entry_valid_until, interval.suspended_until), at, documents_valid
    )


async def entry_documents_ok(
    session: AsyncSession, entries: Sequence[WhitelistEntry], at: datetime
) -> dict[UUID, bool]:
    """Per entry: are the vendor's mandatory documents (of the entry's region) valid at `at`?"""
    conn = await driver_connection(session)
    latest: dict[UUID, dict[str, date]] = {}
    for vendor_id in sorted({e.vendor_id for e in entries}):
        rows = await conn.fetch(
            "SELECT doc_type, max(valid_until) FROM documents WHERE vendor_id = $1 "
            f"AND {vendor_state.document_counts('$2')} GROUP BY doc_type",
            vendor_id,
            at,
        )
        latest[vendor_id] = {r[0]: r[1] for r in rows}
    mandatory: dict[str, tuple[str, ...]] = {}
    result = {}
    for entry in entries:
        if entry.region_code not in mandatory:
            mandatory[entry.region_code] = (
                await effective_settings(session, entry.region_code)
            ).mandatory_document_types
        result[entry.id] = documents_ok(mandatory[entry.region_code], latest[entry.vendor_id], at)
    return result


@dataclass(frozen=True)
class EntryView:
    entry: WhitelistEntry
    status: str  # derived at `at`
    at: datetime
    history: list[WhitelistEntryStatus]


def _entry_visible(actor: Actor, entry: WhitelistEntry, vendor_credit_code: str | None) -> bool:
    if actor.role is Role.VENDOR:
        return actor.vendor_credit_code is not None and actor.vendor_credit_code == vendor_credit_code
    if actor.role in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN):
        return actor.covers_region(entry.region_code)
    return False


async def _history(session: AsyncSession, entry_ids: Sequence[UUID]) -> dict[UUID, list[WhitelistEntryStatus]]:
    rows = (
        await session.exec(
            select(WhitelistEntryStatus)
            .where(col(WhitelistEntryStatus.entry_id).in_(list(entry_ids)))
            .order_by(col(WhitelistEntryStatus.valid_from), col(WhitelistEntryStatus.id))
        )
    ).all()
    out: dict[UUID, list[WhitelistEntryStatus]] = {i: [] for i in entry_ids}
    for row in rows:
        out[row.entry_id].append(row)
    return out


def interval_at(history: Sequence[WhitelistEntryStatus], at: datetime) -> WhitelistEntryStatus | None:
    for row in history:
        if row.valid_from <= at and (row.valid_to is None or row.valid_to > at):
            return row
    return None


async def _vendor_codes(session: AsyncSession, vendor_ids: Iterable[UUID]) -> dict[UUID, str]:
    from service.vendors import vendors_by_ids

    return {k: v.credit_code for k, v in (await vendors_by_ids(session, vendor_ids)).items()}


async def get_entry(db: Database, actor: Actor, entry_id: UUID, at: datetime | None = None) -> EntryView:
    at = at or utcnow()
    async with db.transaction() as session:
        entry = await session.get(WhitelistEntry, entry_id)
        codes = await _vendor_codes(session, [entry.vendor_id]) if entry else {}
        if entry is None or not _entry_visible(actor, entry, codes.get(entry.vendor_id)):
            raise NotFound("白名单条目不存在或不在权限范围内", code="entry_not_found")
        history = (await _history(session, [entry.id]))[entry.id]
        docs = await entry_documents_ok(session, [entry], at)
        return EntryView(entry, derived_status(interval_at(history, at), at, docs[entry.id]), at, history)


async def list_entries(
    db: Database,
    actor: Actor,
    *,
    vendor_id: UUID | None,
    region_code: str | None,
    at: datetime | None = None,
    limit: int = 200,
) -> list[EntryView]:
    """Entries in the caller's scope (a vendor: its own), with their status at `at`."""
    at = at or utcnow()
    if region_code is not None:
        regions().require(region_code, "region")
    async with db.transaction() as session:
        query = select(WhitelistEntry).order_by(col(WhitelistEntry.created_at), col(WhitelistEntry.id))
        if vendor_id is not None:
            query = query.where(WhitelistEntry.vendor_id == vendor_id)
        if region_code is not None:
            query = query.where(col(WhitelistEntry.region_code).in_(regions().descendants(region_code)))
        scope = actor.scope_regions() if actor.role is not Role.VENDOR else None
        if scope is not None:
            query = query.where(col(WhitelistEntry.region_code).in_(scope))
        if actor.role is Role.VENDOR:
            from service.vendors import Vendor

            query = query.join(Vendor, col(Vendor.id) == col(WhitelistEntry.vendor_id)).where(
                Vendor.credit_code == (actor.vendor_credit_code or "")
            )
        entries = list((await session.exec(query.limit(limit))).all())
        histories = await _history(session, [e.id for e in entries])
        docs = await entry_documents_ok(session, entries, at)
        return [
            EntryView(e, derived_status(interval_at(histories[e.id], at), at, docs[e.id]), at, histories[e.id])
            for e in entries
        ]


@dataclass(frozen=True)
class EntryEndingOn:
    entry_id: UUID
    vendor_id: UUID
    region_code: str
    last_day: date


async def entries_ending_on(session: AsyncSession, days: Sequence[date]) -> list[EntryEndingOn]:
    """Active entries whose validity's last China day is one of `days` (for the reminders)."""
    if not days:
        return []
    rows = (
        await run_sql(
            session,
            text(
                "SELECT id, vendor_id, region_code, ((valid_until AT TIME ZONE :zone) - interval '1 microsecond')::date "
                "FROM whitelist_entries WHERE status = 'active' "
                "AND ((valid_until AT TIME ZONE :zone) - interval '1 microsecond')::date = ANY(:days)"
            ).bindparams(zone=vendor_state.CHINA_ZONE, days=list(days)),
        )
    ).all()
    return [EntryEndingOn(row[0], row[1], row[2], row[3]) for row in rows]
