"""Reading schools, for other domains (accounts create them; orders and lookups read them)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.errors import NotFound
from service.schools.models import School
from service.security import Actor, Role


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


def can_see_school(actor: Actor, school: School) -> bool:
    """The school itself, and the bureau's reviewers and auditors whose region covers it."""
    if actor.role is Role.SCHOOL:
        return actor.school_id == school.id
    return actor.role in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN) and actor.covers_region(school.region_code)


async def visible_school(session: AsyncSession, actor: Actor, school_code: str) -> School:
    """The school by code, or 404 for anyone who may not see it."""
    school = await school_by_code(session, school_code)
    if school is None or not can_see_school(actor, school):
        raise NotFound("未找到该学校", code="school_not_found")
    return school
