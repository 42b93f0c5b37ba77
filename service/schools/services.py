"""Reading schools, for other domains (accounts create them; orders and lookups read them)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.schools.models import School


async def school_by_code(session: AsyncSession, code: str) -> School | None:
    return (await session.exec(select(School).where(School.code == code))).first()


async def schools_by_ids(session: AsyncSession, school_ids: Iterable[UUID]) -> dict[UUID, School]:
    ids = list(dict.fromkeys(school_ids))
    if not ids:
        return {}
    return {s.id: s for s in (await session.exec(select(School).where(col(School.id).in_(ids)))).all()}


async def schools_in_regions(session: AsyncSession, region_codes: Iterable[str]) -> list[School]:
    codes = list(region_codes)
    query = select(School).where(col(School.region_code).in_(codes)).order_by(col(School.code))
    return list((await session.exec(query)).all())
