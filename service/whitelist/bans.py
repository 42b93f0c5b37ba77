"""Bans and suspensions by region: a revocation bars a vendor from the revoked region,
its ancestors and descendants until the ban ends (`ban_until`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import run_sql
from service.regions import regions
from service.timeutil import today_in_china, utcnow


def overlapping_regions(region_code: str) -> list[str]:
    """The regions whose revocation (ban) or suspension holds an application for
    `region_code`: the region, every region containing it and every region inside it.
    An entry of a containing region covers the held region's schools, and one inside it
    covers some of them, so either way an application there would route around it."""
    return sorted(set(regions().ancestors(region_code)) | set(regions().descendants(region_code)))


async def ban_until(
    session: AsyncSession, vendor_id: UUID, region_code: str, now: datetime | None = None
) -> date | None:
    """The latest ban date of a revocation in force over `region_code` (the revoked
    entry's region is that region, contains it, or lies inside it: `overlapping_regions`),
    when it is still in the future. The one check of the ban (application creation,
    submit, resubmit and approval all ask it)."""
    now = now or utcnow()
    value = (
        await run_sql(
            session,
            text(
                "SELECT max(s.ban_until) FROM whitelist_entries e JOIN whitelist_entry_status s "
                "ON s.entry_id = e.id AND s.valid_to IS NULL "
                "WHERE e.vendor_id = :vendor AND s.status = 'revoked' AND e.region_code = ANY(:regions) "
                "AND s.ban_until > :today"
            ).bindparams(vendor=vendor_id, regions=overlapping_regions(region_code), today=today_in_china(now)),
        )
    ).first()
    return value[0] if value else None


async def suspended_items(
    session: AsyncSession, item_ids: Sequence[UUID], region_code: str, now: datetime | None = None
) -> list[UUID]:
    """Those of `item_ids` with an entry suspended now in `region_code`, a region
    containing it or one inside it (`overlapping_regions`): under investigation, so a
    fresh application — here or in a containing region — must not route around it."""
    if not item_ids:
        return []
    now = now or utcnow()
    rows = (
        await run_sql(
            session,
            text(
                "SELECT DISTINCT e.service_item_id FROM whitelist_entries e JOIN whitelist_entry_status s "
                "ON s.entry_id = e.id AND s.valid_to IS NULL "
                "WHERE e.service_item_id = ANY(:items) AND s.status = 'suspended' AND e.region_code = ANY(:chain) "
                "AND (s.suspended_until IS NULL OR s.suspended_until > :now)"
            ).bindparams(items=list(item_ids), chain=overlapping_regions(region_code), now=now),
        )
    ).all()
    return [row[0] for row in rows]
