"""A school's timetable for a term: write its own sessions, read it with its ordered
items and §1(1) numbers, file it, publish it; the public reads what was published; the
bureau sees who has not published by the term's deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.applications import parse_version
from service.audit import diff, record_event
from service.db import Database
from service.errors import Conflict, Forbidden, InvalidInput, NotFound, problem, raise_problems
from service.orders import OrderedSlot, accepted_orders, term_for_school
from service.reason import clean_reason
from service.regions import regions
from service.schools import School, school_by_code, schools_in_regions, visible_school
from service.security import Actor, Role
from service.service_items import CATEGORIES
from service.timetables.models import Timetable
from service.timetables.rules import Slot, week_numbers
from service.timeutil import parse_clock, today_in_china, utcnow
from service.versioning import check_version
from workflows import REASON_FACT, REASON_REQUIRED, allowed_actions, decide
from workflows.roles import RoleTag
from workflows.timetable import DRAFT, PUBLISHED, TIMETABLE

MAX_SESSIONS = 200
TEXT_LIMITS = {"content": 100, "venue": 200, "teacher": 50}
MAX_CLASS_SIZE = 1000


@dataclass(frozen=True)
class TimetableView:
    school: School
    term_id: UUID
    timetable: Timetable | None  # None: nothing written yet
    sessions: list[dict[str, Any]]  # the school's own and the ordered ones, by day and time
    numbers: dict[str, Any]
    allowed_actions: list[str]

    @property
    def state(self) -> str:
        return self.timetable.state if self.timetable else DRAFT


# -------------------------------------------------------------------- sessions


def _clean_session(index: int, raw: dict[str, Any], problems: list[dict]) -> dict[str, Any] | None:
    at = f"sessions[{index}]"
    before = len(problems)
    weekday = raw.get("weekday")
    if not isinstance(weekday, int) or isinstance(weekday, bool) or not 1 <= weekday <= 7:
        problems.append(problem(f"{at}.weekday", "invalid_weekday", "上课日须为 1（周一）至 7（周日）"))
    start, end = parse_clock(raw.get("start_time")), parse_clock(raw.get("end_time"))
    for name, value in (("start_time", start), ("end_time", end)):
        if value is None:
            problems.append(problem(f"{at}.{name}", "invalid_time", "时间格式应为 时:分，例如 15:40"))
    if start is not None and end is not None and end <= start:
        problems.append(problem(f"{at}.end_time", "times_inverted", "结束时间须晚于开始时间"))
    category = raw.get("category_code")
    if category not in CATEGORIES or isinstance(category, bool):
        problems.append(problem(f"{at}.category_code", "unknown_category", "活动类别须为 1 至 8 之一"))
    texts = {}
    for name, limit in TEXT_LIMITS.items():
        value = raw.get(name)
        texts[name] = value.strip() if isinstance(value, str) else ""
        if not texts[name]:
            problems.append(problem(f"{at}.{name}", "required", "此项不能为空"))
        elif len(texts[name]) > limit:
            problems.append(problem(f"{at}.{name}", "too_long", f"不能超过 {limit} 个字符"))
    size = raw.get("class_size")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_CLASS_SIZE:
        problems.append(problem(f"{at}.class_size", "invalid_class_size", f"人数须为 1 至 {MAX_CLASS_SIZE}"))
    if len(problems) > before or start is None or end is None:  # a missing time is a problem already
        return None
    return {
        "weekday": weekday,
        "start_time": start.isoformat("minutes"),
        "end_time": end.isoformat("minutes"),
        "category_code": category,
        **texts,
        "class_size": size,
    }


def clean_sessions(sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The school's own sessions, every problem at once, each naming its row and field."""
    if len(sessions) > MAX_SESSIONS:
        raise InvalidInput.field("sessions", "too_many_sessions", f"安排表最多 {MAX_SESSIONS} 个时段")
    problems: list[dict] = []
    cleaned = [_clean_session(i, s if isinstance(s, dict) else {}, problems) for i, s in enumerate(sessions)]
    raise_problems(problems)  # past it, no row had a problem: none is None
    return sorted((s for s in cleaned if s is not None), key=lambda s: (s["weekday"], s["start_time"]))


def _ordered_sessions(slots: list[OrderedSlot]) -> list[dict[str, Any]]:
    return [
        {
            "weekday": day,
            "start_time": s.start_time.isoformat("minutes"),
            "end_time": s.end_time.isoformat("minutes"),
            "category_code": s.category_code,
            "content": s.activity,
            "venue": s.venue,
            "teacher": "、".join(s.teachers),
            "class_size": s.class_size,
            "provider": s.vendor_name,
            "order_id": str(s.order_id),
            "fee": s.fee,
            "fee_unit": s.fee_unit,
        }
        for s in slots
        for day in s.weekdays
    ]


def _numbers(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    week = week_numbers(
        Slot(s["weekday"], time.fromisoformat(s["start_time"]), time.fromisoformat(s["end_time"]), s["category_code"])
        for s in sessions
    )
    problems = week.problems()
    return {
        "days": [
            {
                "weekday": d.weekday,
                "total_minutes": d.total_minutes,
                "interest_minutes": d.interest_minutes,
                "interest_share": d.interest_share,
                "interest_activities": d.interest_activities,
            }
            for d in week.days
        ],
        "science_sessions": week.science_sessions,
        "conforms": not problems,
        "problems": problems,
    }


# -------------------------------------------------------------------- access


def _tags(actor: Actor, school: School) -> set[str]:
    return {RoleTag.SCHOOL} if actor.role is Role.SCHOOL and actor.school_id == school.id else set()


async def _load(session: AsyncSession, school: School, term_id: UUID, *, lock: bool = False) -> Timetable | None:
    query = select(Timetable).where(Timetable.school_id == school.id, Timetable.term_id == term_id)
    return (await session.exec(query.with_for_update() if lock else query)).first()


async def _view(
    session: AsyncSession, actor: Actor, school: School, term_id: UUID, timetable: Timetable | None
) -> TimetableView:
    own = list(timetable.sessions) if timetable else []
    sessions = sorted(
        own + _ordered_sessions(await accepted_orders(session, school.id, term_id)),
        key=lambda s: (s["weekday"], s["start_time"]),
    )
    state = timetable.state if timetable else DRAFT
    return TimetableView(
        school,
        term_id,
        timetable,
        sessions,
        _numbers(sessions),
        allowed_actions(TIMETABLE, state, _tags(actor, school)) if timetable else [],
    )


def _check_version(timetable: Timetable | None, version: int | None) -> None:
    check_version(
        version,
        timetable.version if timetable else 0,
        state=timetable.state if timetable else None,
        required="请提供安排表的当前版本号（新建时为 0）",
        conflict="安排表已被他人更新（当前版本 {current}），请刷新后重新操作",
    )


# -------------------------------------------------------------------- use cases


async def get_timetable(db: Database, actor: Actor, school_code: str, term_id: UUID) -> TimetableView:
    async with db.transaction() as session:
        school = await visible_school(session, actor, school_code)
        await term_for_school(session, term_id, school.region_code)
        return await _view(session, actor, school, term_id, await _load(session, school, term_id))


async def save_timetable(
    db: Database,
    actor: Actor,
    school_code: str,
    term_id: UUID,
    sessions: list[dict[str, Any]],
    *,
    version: int | None,
    if_match: str | None = None,
    now: datetime | None = None,
) -> TimetableView:
    """Write the school's own sessions (a draft only), based on `version` (0: new)."""
    now = now or utcnow()
    version = parse_version(version, if_match)
    cleaned = clean_sessions(sessions)
    async with db.transaction() as session:
        school = await visible_school(session, actor, school_code)
        if not _tags(actor, school):
            raise Forbidden("只有学校本校账号可以编辑安排表", code="school_only")
        await term_for_school(session, term_id, school.region_code)
        timetable = await _load(session, school, term_id, lock=True)
        _check_version(timetable, version)
        if timetable is not None and timetable.state != DRAFT:
            raise Conflict(
                "已备案或已公布的安排表须先撤回修改，才能编辑",
                code="timetable_not_draft",
                details=[
                    {
                        "field": "state",
                        "code": "timetable_not_draft",
                        "message": "请先执行“撤回修改”",
                        "state": timetable.state,
                    }
                ],
            )
        before = {"sessions": timetable.sessions} if timetable else None
        if timetable is None:
            timetable = Timetable(
                school_id=school.id,
                term_id=term_id,
                region_code=school.region_code,
                state=DRAFT,
                sessions=cleaned,
                created_at=now,
            )
        else:
            timetable.sessions, timetable.version = cleaned, timetable.version + 1
        timetable.updated_at, timetable.updated_by = now, actor.account_id
        session.add(timetable)
        await session.flush()
        await record_event(
            session,
            actor,
            "timetables:timetable:save",
            "timetable",
            timetable.id,
            region_code=school.region_code,
            changes=diff(before, {"sessions": cleaned}),
        )
        return await _view(session, actor, school, term_id, timetable)


async def act_on_timetable(
    db: Database,
    actor: Actor,
    school_code: str,
    term_id: UUID,
    action: str,
    *,
    version: int | None,
    if_match: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> TimetableView:
    """`file` (only when the numbers conform), `publish`, `revise` — from the table."""
    now = now or utcnow()
    version = parse_version(version, if_match)
    reason = clean_reason(reason)
    async with db.transaction() as session:
        school = await visible_school(session, actor, school_code)
        await term_for_school(session, term_id, school.region_code)
        timetable = await _load(session, school, term_id, lock=True)
        if timetable is None:
            raise NotFound("尚未编制该学期的课后服务安排表", code="timetable_not_found")
        _check_version(timetable, version)
        view = await _view(session, actor, school, term_id, timetable)
        tags = _tags(actor, school)
        facts = {"timetable_problems": view.numbers["problems"], REASON_FACT: reason}
        decision = decide(TIMETABLE, timetable.state, action, tags, facts)
        if not decision.allowed:
            if decision.code == REASON_REQUIRED:
                raise InvalidInput.field("reason", "reason_required", decision.message or "")
            if decision.failed_guard == "timetable_conforms":
                raise InvalidInput(
                    decision.message,
                    code="timetable_not_conforming",
                    details=[{"field": "sessions"} | p for p in view.numbers["problems"]],
                )
            raise Conflict(
                decision.message,
                code="transition_not_allowed",
                details=[
                    {
                        "field": "action",
                        "code": "transition_not_allowed",
                        "message": decision.message,
                        "state": timetable.state,
                        "allowed_actions": allowed_actions(TIMETABLE, timetable.state, tags),
                    }
                ],
            )
        before = {"state": timetable.state, "version": timetable.version}
        assert decision.target is not None  # an allowed decision names its target state
        timetable.state, timetable.version, timetable.updated_at = decision.target, timetable.version + 1, now
        timetable.updated_by = actor.account_id
        if action == "file":
            timetable.filed_at = now
        if decision.target == PUBLISHED:
            timetable.published_at = now
            timetable.published = {"sessions": view.sessions, "numbers": view.numbers, "published_at": now.isoformat()}
        session.add(timetable)
        await record_event(
            session,
            actor,
            f"timetables:timetable:{action}",
            "timetable",
            timetable.id,
            region_code=school.region_code,
            reason=reason,
            changes=diff(before, {"state": timetable.state, "version": timetable.version}),
        )
        await session.flush()
        return await _view(session, actor, school, term_id, timetable)


@dataclass(frozen=True)
class PublishedTimetable:
    school: School
    term_name: str
    published: dict[str, Any]


async def public_timetable(db: Database, school_code: str, term_id: UUID) -> PublishedTimetable:
    """What the school published (no sign-in); 404 until it is published."""
    async with db.transaction() as session:
        school = await school_by_code(session, school_code)
        if school is not None:
            term = await term_for_school(session, term_id, school.region_code)
            timetable = await _load(session, school, term_id)
            if timetable is not None and timetable.published is not None:
                return PublishedTimetable(school, term.name, timetable.published)
    raise NotFound("该学校尚未公布本学期的课后服务安排表", code="timetable_not_published")


@dataclass(frozen=True)
class SchoolProgress:
    school: School
    state: str | None  # None: nothing written
    published_at: datetime | None
    overdue: bool  # not published and the deadline has passed


async def region_progress(
    db: Database, actor: Actor, region_code: str, term_id: UUID, *, now: datetime | None = None
) -> tuple[date, list[SchoolProgress]]:
    """The term's deadline, and every school of the region with its timetable's state
    for the term; schools that have not published by the deadline are `overdue` (§1(3))."""
    now = now or utcnow()
    if regions().get(region_code) is None:
        raise NotFound("行政区划代码不存在", code="region_not_found")
    if actor.role not in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN) or not actor.covers_region(region_code):
        raise Forbidden("无权查看该地区的安排表公布情况", code="region_forbidden")
    async with db.transaction() as session:
        term = await term_for_school(session, term_id, region_code)
        schools = await schools_in_regions(session, regions().descendants(region_code))
        rows = await session.exec(
            select(Timetable).where(Timetable.term_id == term.id, col(Timetable.school_id).in_([s.id for s in schools]))
        )
        by_school = {t.school_id: t for t in rows.all()}
    late = today_in_china(now) > term.timetable_due_on
    out = []
    for school in schools:
        timetable = by_school.get(school.id)
        published = timetable is not None and timetable.published_at is not None
        out.append(
            SchoolProgress(
                school,
                timetable.state if timetable else None,
                timetable.published_at if timetable else None,
                late and not published,
            )
        )
    return term.timetable_due_on, sorted(out, key=lambda p: (not p.overdue, p.school.code))
