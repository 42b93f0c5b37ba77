"""Admission to the whitelist: an approved application's items become entries (or
reopen), inside the application's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.whitelist.models import (
    WhitelistEntry,
    WhitelistEntryStatus,
)


@dataclass(frozen=True)
class Admitted:
    entries: list[WhitelistEntry]
    superseded: list[UUID]  # ids of earlier active entries this admission replaced


@dataclass(frozen=True)
class Admission:
    service_item_id: UUID
    fee: int
    fee_unit: str


async def _current(session: AsyncSession, entry_ids: Sequence[UUID]) -> dict[UUID, WhitelistEntryStatus]:
    if not entry_ids:
        return {}
    rows = (
        await session.exec(
            select(WhitelistEntryStatus)
            .where(
                col(WhitelistEntryStatus.entry_id).in_(list(entry_ids)), col(WhitelistEntryStatus.valid_to).is_(None)
            )
            .with_for_update()
        )
    ).all()
    return {row.entry_id: row for row in rows}


def _open_interval(
    session: AsyncSession, entry: WhitelistEntry, previous: WhitelistEntryStatus | None, at: datetime, **values: Any
) -> WhitelistEntryStatus:
    """Close `previous` at `at` and open the next interval from `at`."""
    if previous is not None:
        at = max(at, previous.valid_from)
        previous.valid_to = at
        session.add(previous)
    row = WhitelistEntryStatus(entry_id=entry.id, valid_from=at, **values)
    session.add(row)
    entry.status, entry.valid_until = row.status, row.entry_valid_until
    session.add(entry)
    return row


async def admit(
    session: AsyncSession,
    *,
    application_id: UUID,
    vendor_id: UUID,
    region_code: str,
    items: Sequence[Admission],
    approved_at: datetime,
    valid_days: int,
    fee_published_on: date,
) -> Admitted:
    """One active entry per item for the region, valid `valid_days` from approval.
    An earlier entry of the same item and region — active (a renewal), or suspended or
    revoked (a new review after the ban) — is superseded: the new entry speaks for the
    item, so there is never more than one entry per item and region to act on."""
    item_ids = [item.service_item_id for item in items]
    previous = (
        await session.exec(
            select(WhitelistEntry)
            .where(
                col(WhitelistEntry.service_item_id).in_(item_ids),
                WhitelistEntry.region_code == region_code,
                col(WhitelistEntry.status).in_(("active", "suspended", "revoked")),
            )
            .order_by(col(WhitelistEntry.id))
            .with_for_update()
        )
    ).all()
    intervals = await _current(session, [e.id for e in previous])
    for entry in previous:
        _open_interval(
            session,
            entry,
            intervals.get(entry.id),
            approved_at,
            status="superseded",
            action="supersede",
            entry_valid_until=entry.valid_until,
        )
    await session.flush()
    entries = [
        WhitelistEntry(
            vendor_id=vendor_id,
            service_item_id=item.service_item_id,
            region_code=region_code,
            status="active",
            valid_from=approved_at,
            valid_until=approved_at + timedelta(days=valid_days),
            application_id=application_id,
            fee=item.fee,
            fee_unit=item.fee_unit,
            fee_published_on=fee_published_on,
        )
        for item in items
    ]
    session.add_all(entries)
    await session.flush()
    for entry in entries:
        session.add(
            WhitelistEntryStatus(
                entry_id=entry.id,
                status="active",
                action="admit",
                valid_from=approved_at,
                entry_valid_until=entry.valid_until,
            )
        )
    await session.flush()
    return Admitted(entries=entries, superseded=[entry.id for entry in previous])


async def entries_of_application(session: AsyncSession, application_id: UUID) -> list[WhitelistEntry]:
    query = (
        select(WhitelistEntry)
        .where(WhitelistEntry.application_id == application_id)
        .order_by(col(WhitelistEntry.created_at), col(WhitelistEntry.id))
    )
    return list((await session.exec(query)).all())
