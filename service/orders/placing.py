"""Placing a school's order of a whitelisted service item (点单, §2(4)).

A school orders an item for a term. The order is refused, naming who or what, when the
item is not active on the whitelist of the school's region (now, and at the term's
start), when its fee was not yet published, when a named person may not enter schools
for the vendor now, or when the class or grades do not fit the item. What holds now but
ends before the term does (a clearance, the entry, the documents) is a warning, not a
refusal. The price is always the entry's published fee; no other can be entered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import diff, record_event
from service.db import Database
from service.errors import Forbidden, InvalidInput, NotFound, problem, raise_problems
from service.idempotency import Idempotency, Reply, run_once
from service.orders.models import SchoolOrder, SchoolOrderPerson, Term
from service.orders.rows import rows_by_ids
from service.orders.terms import term_for_school
from service.orders.views import OrderView, named_people, order_views, visible_order
from service.personnel import EntryClearance, cleared_staff, entry_clearances
from service.schools import visible_school
from service.security import Actor, Role
from service.service_items import GRADE_BANDS, ServiceItem, items_by_ids
from service.timeutil import CHINA_TZ, parse_clock, today_in_china, utcnow
from service.whitelist import ItemOnWhitelist, items_on_whitelist
from workflows.school_order import PLACED

VENUE_LIMIT = 200
MAX_PEOPLE = 50


@dataclass(frozen=True)
class OrderInput:
    term_id: UUID
    service_item_id: UUID
    weekdays: list[int]
    start_time: time | str  # "15:40" or "15:40:00" from the edge
    end_time: time | str
    venue: str
    class_size: int
    grade_bands: list[str]
    people: list[UUID]


@dataclass(frozen=True)
class CleanOrder:
    """An `OrderInput` whose own shape was checked: times parsed, lists deduplicated."""

    term_id: UUID
    service_item_id: UUID
    weekdays: list[int]
    start_time: time
    end_time: time
    venue: str
    class_size: int
    grade_bands: list[str]
    people: list[UUID]


# -------------------------------------------------------------------- placing


def _clock(value: time | str, name: str, problems: list[dict]) -> time | None:
    parsed = parse_clock(value)
    if parsed is None:
        problems.append(problem(name, "invalid_time", "时间格式应为 时:分，例如 15:40"))
    return parsed


def _validate_shape(data: OrderInput) -> CleanOrder:
    problems: list[dict] = []
    start, end = _clock(data.start_time, "start_time", problems), _clock(data.end_time, "end_time", problems)
    weekdays = sorted(set(data.weekdays))
    if not weekdays:
        problems.append(problem("weekdays", "weekdays_required", "请至少选择一个上课日"))
    elif any(d < 1 or d > 7 for d in weekdays):
        problems.append(problem("weekdays", "invalid_weekday", "上课日须为 1（周一）至 7（周日）"))
    if start is not None and end is not None and end <= start:
        problems.append(problem("end_time", "times_inverted", "结束时间须晚于开始时间"))
    venue = (data.venue or "").strip()
    if not venue:
        problems.append(problem("venue", "required", "请填写上课地点"))
    elif len(venue) > VENUE_LIMIT:
        problems.append(problem("venue", "too_long", f"上课地点不能超过 {VENUE_LIMIT} 个字符"))
    if data.class_size < 1:
        problems.append(problem("class_size", "invalid_class_size", "班额须至少为 1 人"))
    bands = list(dict.fromkeys(data.grade_bands))
    if not bands:
        problems.append(problem("grade_bands", "grade_bands_required", "请至少选择一个学段"))
    elif any(b not in GRADE_BANDS for b in bands):
        problems.append(
            problem("grade_bands", "invalid_grade_band", "学段须为 lower_primary、upper_primary 或 junior_secondary")
        )
    people = list(dict.fromkeys(data.people))
    if not people:
        problems.append(problem("people", "people_required", "请至少指定一名授课人员"))
    elif len(people) > MAX_PEOPLE:
        problems.append(problem("people", "too_many_people", f"授课人员不能超过 {MAX_PEOPLE} 人"))
    raise_problems(problems)
    assert start is not None and end is not None  # a bad time is among the problems raised
    return CleanOrder(
        data.term_id,
        data.service_item_id,
        weekdays,
        start,
        end,
        venue,
        data.class_size,
        sorted(bands, key=list(GRADE_BANDS).index),
        people,
    )


def _term_start(term: Term) -> datetime:
    return datetime.combine(term.starts_on, time(0), tzinfo=CHINA_TZ)


def _last_day(instant: datetime) -> date:
    return (instant.astimezone(CHINA_TZ) - timedelta(microseconds=1)).date()


ITEM_NOT_ACTIVE = {
    "suspended": "该服务项目在本地区白名单中已被暂停，不能点单",
    "revoked": "该服务项目已被移出本地区白名单，不能点单",
    "expired": "该服务项目的白名单有效期已届满或机构资质材料已过期，不能点单",
    "not_listed": "该服务项目未列入本校所在地区的白名单，不能点单",
}


def _check_item(
    item: ServiceItem, now_state: ItemOnWhitelist, start_state: ItemOnWhitelist, data: CleanOrder, today: date
) -> tuple[int, str]:
    for when, state in (("now", now_state), ("term_start", start_state)):
        if state.status != "active":
            message = ITEM_NOT_ACTIVE[state.status]
            if when == "term_start":
                message = "至学期开始时，" + message
            raise InvalidInput(
                "该服务项目不能点单",
                code="item_not_active",
                details=[problem("service_item_id", "item_not_active", message) | {"status": state.status, "at": when}],
            )
    fee, unit, published_on = now_state.fee, now_state.fee_unit, now_state.fee_published_on
    if fee is None or unit is None or published_on is None or published_on > today:
        raise InvalidInput.field("service_item_id", "fee_not_published", "该服务项目的收费标准尚未公示，不能点单")
    problems = []
    if data.class_size > item.max_class_size:
        problems.append(
            problem("class_size", "class_size_too_large", f"班额不能超过该服务项目的上限 {item.max_class_size} 人")
        )
    outside = [b for b in data.grade_bands if b not in item.grade_bands]
    if outside:
        names = "、".join(GRADE_BANDS[b] for b in outside)
        problems.append(problem("grade_bands", "grade_band_mismatch", f"该服务项目不面向{names}"))
    raise_problems(problems)
    return fee, unit


def _check_people(data: CleanOrder, people: dict[UUID, EntryClearance]) -> None:
    problems = []
    for index, person_id in enumerate(data.people):
        person = people[person_id]
        if not person.cleared:
            who = f"授课人员 {person.masked_name}" if person.masked_name else "该授课人员"
            problems.append(
                problem(
                    f"people[{index}]", "person_not_cleared", f"{who} 目前不符合入校条件（未在该机构在岗或未通过核验）"
                )
                | {"person_id": str(person_id)}
            )
    raise_problems(problems)


def _warnings(term: Term, item: ItemOnWhitelist, people: list[EntryClearance]) -> list[dict]:
    """What holds now but ends before the term's last day."""
    found = []
    for person in people:
        if person.cleared_until is not None and person.cleared_until < term.ends_on:
            day = person.cleared_until.isoformat()
            found.append(
                {
                    "code": "clearance_ends_before_term_end",
                    "person_id": str(person.person_id),
                    "until": day,
                    "message": f"授课人员 {person.masked_name} 的入校核验有效期至 {day}，早于学期结束，届时须重新核验",
                }
            )
    if item.entry_valid_until is not None and _last_day(item.entry_valid_until) < term.ends_on:
        day = _last_day(item.entry_valid_until).isoformat()
        found.append(
            {
                "code": "entry_ends_before_term_end",
                "until": day,
                "message": f"该服务项目的白名单有效期至 {day}，早于学期结束",
            }
        )
    if item.documents_until is not None and item.documents_until < term.ends_on:
        day = item.documents_until.isoformat()
        found.append(
            {
                "code": "documents_end_before_term_end",
                "until": day,
                "message": f"机构资质材料有效期至 {day}，早于学期结束",
            }
        )
    return found


def _audit_view(order: SchoolOrder, people: list[UUID]) -> dict:
    return order.model_dump(mode="json", exclude={"id", "created_at", "created_by", "updated_at"}) | {
        "people": [str(p) for p in people]
    }


async def _place(session: AsyncSession, actor: Actor, school_code: str, data: CleanOrder, now: datetime) -> OrderView:
    school = await visible_school(session, actor, school_code)
    if actor.role is not Role.SCHOOL:
        raise Forbidden("只有学校本校账号可以点单", code="school_only")
    term = await term_for_school(session, data.term_id, school.region_code)
    today = today_in_china(now)
    if term.ends_on < today:
        raise InvalidInput.field("term_id", "term_ended", f"该学期已于 {term.ends_on.isoformat()} 结束，不能点单")
    item = (await items_by_ids(session, [data.service_item_id])).get(data.service_item_id)
    if item is None:
        raise NotFound("未找到该服务项目", code="service_item_not_found")
    key = [(item.vendor_id, item.id)]
    now_state = (await items_on_whitelist(session, key, school.region_code, now))[item.id]
    start = max(now, _term_start(term))
    start_state = (await items_on_whitelist(session, key, school.region_code, start))[item.id]
    fee, fee_unit = _check_item(item, now_state, start_state, data, today)
    people = await entry_clearances(session, item.vendor_id, data.people, now)
    _check_people(data, people)
    order = SchoolOrder(
        school_id=school.id,
        term_id=term.id,
        service_item_id=item.id,
        vendor_id=item.vendor_id,
        region_code=school.region_code,
        weekdays=data.weekdays,
        start_time=data.start_time,
        end_time=data.end_time,
        venue=data.venue,
        class_size=data.class_size,
        grade_bands=data.grade_bands,
        fee=fee,
        fee_unit=fee_unit,
        state=PLACED,
        created_by=actor.account_id,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    await session.flush()
    session.add_all([SchoolOrderPerson(order_id=order.id, person_id=p, position=i) for i, p in enumerate(data.people)])
    await record_event(
        session,
        actor,
        "orders:order:place",
        "school_order",
        order.id,
        region_code=school.region_code,
        changes=diff(None, _audit_view(order, data.people)),
    )
    await session.flush()
    named = [people[p] for p in data.people]
    return (
        await order_views(
            session,
            actor,
            await rows_by_ids(session, [order.id]),
            now,
            people_of={order.id: named},
            warnings={order.id: _warnings(term, now_state, named)},
        )
    )[0]


async def place_order(
    db: Database,
    actor: Actor,
    school_code: str,
    data: OrderInput,
    *,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[OrderView]:
    """A school orders a whitelisted item for a term (at most once per idempotency key)."""
    clean = _validate_shape(data)
    now = now or utcnow()
    return await run_once(db, idempotency, lambda session: _place(session, actor, school_code, clean, now))


async def staff_for_order(
    db: Database, actor: Actor, school_code: str, service_item_id: UUID, *, now: datetime | None = None
) -> list[EntryClearance]:
    """Whom the school may name to teach an item: its vendor's people cleared now, by
    masked name. Empty when the item is not active on the school's region's whitelist."""
    now = now or utcnow()
    async with db.transaction() as session:
        school = await visible_school(session, actor, school_code)
        item = (await items_by_ids(session, [service_item_id])).get(service_item_id)
        if item is None:
            raise NotFound("未找到该服务项目", code="service_item_not_found")
        state = (await items_on_whitelist(session, [(item.vendor_id, item.id)], school.region_code, now))[item.id]
        if state.status != "active":
            return []
        return await cleared_staff(session, item.vendor_id, now)


async def placed_order(db: Database, actor: Actor, order_id: UUID, *, now: datetime | None = None) -> OrderView:
    """An order the caller may see, with the placement's warnings as they stand now: the
    confirmation a page shows after it redirected from the placing POST."""
    now = now or utcnow()
    async with db.transaction() as session:
        order, _ = await visible_order(session, actor, order_id)
        term = await session.get(Term, order.term_id)
        assert term is not None  # an order's term is a foreign key
        key = [(order.vendor_id, order.service_item_id)]
        state = (await items_on_whitelist(session, key, order.region_code, now))[order.service_item_id]
        read = await rows_by_ids(session, [order.id])
        people = await named_people(session, read, now)
        return (
            await order_views(
                session,
                actor,
                read,
                now,
                people_of=people,
                warnings={order.id: _warnings(term, state, people[order.id])},
            )
        )[0]
