"""Admission to the whitelist. Called by the applications service inside the
transaction that records the approval; it never opens a transaction itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.whitelist.models import WhitelistEntry


@dataclass(frozen=True)
class Admitted:
    entries: list[WhitelistEntry]
    superseded: list[UUID]  # ids of earlier active entries this admission replaced


@dataclass(frozen=True)
class Admission:
    service_item_id: UUID
    fee: int
    fee_unit: str


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
    An item already active in the region (a renewal) has its old entry superseded."""
    item_ids = [item.service_item_id for item in items]
    previous = (await session.exec(
        select(WhitelistEntry)
        .where(col(WhitelistEntry.service_item_id).in_(item_ids), WhitelistEntry.region_code == region_code,
               WhitelistEntry.status == "active")
        .with_for_update()
    )).all()
    for entry in previous:
        entry.status = "superseded"
        session.add(entry)
    await session.flush()
    entries = [
        WhitelistEntry(
            vendor_id=vendor_id, service_item_id=item.service_item_id, region_code=region_code, status="active",
            valid_from=approved_at, valid_until=approved_at + timedelta(days=valid_days),
            application_id=application_id, fee=item.fee, fee_unit=item.fee_unit, fee_published_on=fee_published_on,
        )
        for item in items
    ]
    session.add_all(entries)
    await session.flush()
    return Admitted(entries=entries, superseded=[entry.id for entry in previous])


async def entries_of_application(session: AsyncSession, application_id: UUID) -> list[WhitelistEntry]:
    query = (select(WhitelistEntry).where(WhitelistEntry.application_id == application_id)
             .order_by(col(WhitelistEntry.created_at), col(WhitelistEntry.id)))
    return list((await session.exec(query)).all())
