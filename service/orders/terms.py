"""A region's school terms: set by its bureau, read by everyone in it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import diff, record_event
from service.db import Database
from service.errors import Forbidden, InvalidInput, NotFound, problem, raise_problems
from service.idempotency import Idempotency, Reply, run_once
from service.orders.models import Term
from service.regions import regions
from service.security import Actor, Role
from service.whitelist import region_chain

NAME_LIMIT = 100
LONGEST_TERM = timedelta(days=366)


@dataclass(frozen=True)
class TermInput:
    region_code: str
    name: str
    starts_on: date
    ends_on: date
    timetable_due_on: date | None = None


def one_month_after(day: date) -> date:
    """The same day a month later, or that month's last day (31 Jan → 28/29 Feb)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validate_term(data: TermInput) -> TermInput:
    problems = []
    name = (data.name or "").strip()
    if not name:
        problems.append(problem("name", "required", "请填写学期名称"))
    elif len(name) > NAME_LIMIT:
        problems.append(problem("name", "too_long", f"学期名称不能超过 {NAME_LIMIT} 个字符"))
    if regions().get(data.region_code) is None:
        problems.append(problem("region_code", "unknown_region", "行政区划代码不存在"))
    if data.ends_on <= data.starts_on:
        problems.append(problem("ends_on", "term_dates_inverted", "学期结束日期须晚于开始日期"))
    elif data.ends_on - data.starts_on > LONGEST_TERM:
        problems.append(problem("ends_on", "term_too_long", "一个学期不能超过一年"))
    due = data.timetable_due_on or one_month_after(data.starts_on)
    if due < data.starts_on or due > data.ends_on:
        problems.append(problem("timetable_due_on", "timetable_due_outside_term", "安排表公布截止日须在学期之内"))
    raise_problems(problems)
    return TermInput(data.region_code, name, data.starts_on, data.ends_on, due)


def _require_term_setter(actor: Actor, region_code: str) -> None:
    if actor.is_admin:
        return
    if actor.role is not Role.REVIEWER or not actor.covers_region(region_code):
        raise Forbidden("只有本地区教育行政部门可以设置学期", code="term_region_forbidden")


async def create_term(
    db: Database, actor: Actor, data: TermInput, *, idempotency: Idempotency | None = None
) -> Reply[Term]:
    data = validate_term(data)
    _require_term_setter(actor, data.region_code)
    due = data.timetable_due_on
    assert due is not None  # validate_term fills in the default due day

    async def work(session: AsyncSession) -> Term:
        term = Term(
            region_code=data.region_code,
            name=data.name,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            timetable_due_on=due,
            created_by=actor.account_id,
        )
        session.add(term)
        await session.flush()
        await record_event(
            session,
            actor,
            "orders:term:create",
            "term",
            term.id,
            region_code=term.region_code,
            changes=diff(None, term.model_dump(mode="json", exclude={"id", "created_at", "created_by"})),
        )
        return term

    return await run_once(db, idempotency, work)


async def terms_for_region(session: AsyncSession, region_code: str) -> list[Term]:
    """The terms that apply in a region: its own and those its city or province set."""
    query = (
        select(Term)
        .where(col(Term.region_code).in_(region_chain(region_code)))
        .order_by(col(Term.starts_on).desc(), col(Term.id))
    )
    return list((await session.exec(query)).all())


async def list_terms(db: Database, actor: Actor, region_code: str | None) -> list[Term]:
    region_code = region_code or actor.region_code
    if not region_code or regions().get(region_code) is None:
        raise InvalidInput.field("region", "unknown_region", "请指定有效的行政区划代码")
    async with db.transaction() as session:
        return await terms_for_region(session, region_code)


async def term_for_school(session: AsyncSession, term_id: UUID, school_region: str) -> Term:
    """A term that applies to a school's region, or 404 (another region's term is not found)."""
    term = await session.get(Term, term_id)
    if term is None or term.region_code not in region_chain(school_region):
        raise NotFound("未找到适用于本校所在地区的学期", code="term_not_found")
    return term
