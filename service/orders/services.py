"""Schools' orders of whitelisted service items (点单, §2(4)).

A school orders an item for a term. The order is refused, naming who or what, when the
item is not active on the whitelist of the school's region (now, and at the term's
start), when its fee was not yet published, when a named person may not enter schools
for the vendor now, or when the class or grades do not fit the item. What holds now but
ends before the term does (a clearance, the entry, the documents) is a warning, not a
refusal. The price is always the entry's published fee; no other can be entered.

The vendor accepts or declines, the school may cancel: workflows/school_order.py. The
standing is derived on every read (service/orders/standing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.applications import parse_version
from service.audit import diff, record_event
from service.db import Database
from service.errors import Conflict, Forbidden, InvalidInput, NotFound, problem, raise_problems
from service.idempotency import Idempotency, Reply, run_once
from service.orders import standing as order_standing
from service.orders.models import SchoolOrder, SchoolOrderPerson, Term
from service.orders.terms import term_for_school
from service.personnel import EntryClearance, cleared_staff, entry_clearances, entry_clearances_many
from service.reason import clean_reason
from service.schools import schools_by_ids, visible_school
from service.security import Actor, Role
from service.service_items import GRADE_BANDS, ServiceItem, items_by_ids
from service.timeutil import CHINA_TZ, parse_clock, today_in_china, utcnow
from service.vendors import vendor_by_credit_code, vendors_by_ids
from service.versioning import check_version
from service.whitelist import ItemOnWhitelist, items_on_whitelist
from workflows import REASON_FACT, REASON_REQUIRED, allowed_actions, decide
from workflows.roles import RoleTag
from workflows.school_order import ACCEPTED, OPEN_STATES, PLACED, SCHOOL_ORDER

VENUE_LIMIT = 200
REASON_LIMIT = 1000
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
class OrderView:
    order: SchoolOrder
    school_code: str
    vendor_name: str
    activity: str
    category_code: int
    people: list[EntryClearance]
    standing: order_standing.Standing
    allowed_actions: list[str]
    warnings: list[dict] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return SCHOOL_ORDER.state_label(self.order.state)


# -------------------------------------------------------------------- who sees what


def _tags(actor: Actor, order: SchoolOrder, vendor_credit_code: str | None) -> set[str]:
    tags = set()
    if actor.role is Role.SCHOOL and actor.school_id == order.school_id:
        tags.add(RoleTag.SCHOOL)
    if actor.role is Role.VENDOR and vendor_credit_code and actor.vendor_credit_code == vendor_credit_code:
        tags.add(RoleTag.VENDOR)
    return tags


# -------------------------------------------------------------------- placing


def _clock(value: time | str, name: str, problems: list[dict]) -> time | None:
    parsed = parse_clock(value)
    if parsed is None:
        problems.append(problem(name, "invalid_time", "时间格式应为 时:分，例如 15:40"))
    return parsed


def _validate_shape(data: OrderInput) -> OrderInput:
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
    return OrderInput(
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
    item: ServiceItem, now_state: ItemOnWhitelist, start_state: ItemOnWhitelist, data: OrderInput, today: date
) -> None:
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
    if now_state.fee_published_on is None or now_state.fee_published_on > today:
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


def _check_people(data: OrderInput, people: dict[UUID, EntryClearance]) -> None:
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


async def _place(session: AsyncSession, actor: Actor, school_code: str, data: OrderInput, now: datetime) -> OrderView:
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
    _check_item(item, now_state, start_state, data, today)
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
        fee=now_state.fee,
        fee_unit=now_state.fee_unit,
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
        await _views(
            session,
            actor,
            [order],
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
    data = _validate_shape(data)
    now = now or utcnow()
    return await run_once(db, idempotency, lambda session: _place(session, actor, school_code, data, now))


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


# -------------------------------------------------------------------- reading


async def _people_of(
    session: AsyncSession, orders: list[SchoolOrder], now: datetime
) -> dict[UUID, list[EntryClearance]]:
    ids = [o.id for o in orders]
    rows = (
        await session.exec(
            select(SchoolOrderPerson.order_id, SchoolOrderPerson.person_id)
            .where(col(SchoolOrderPerson.order_id).in_(ids))
            .order_by(col(SchoolOrderPerson.order_id), col(SchoolOrderPerson.position))
        )
    ).all()
    named: dict[UUID, list[UUID]] = {o.id: [] for o in orders}
    for order_id, person_id in rows:
        named[order_id].append(person_id)
    by_vendor: dict[UUID, set[UUID]] = {}
    for order in orders:
        by_vendor.setdefault(order.vendor_id, set()).update(named[order.id])
    cleared = await entry_clearances_many(session, {v: list(people) for v, people in by_vendor.items()}, now)
    return {o.id: [cleared[o.vendor_id][p] for p in named[o.id]] for o in orders}


async def _views(
    session: AsyncSession,
    actor: Actor,
    orders: list[SchoolOrder],
    now: datetime,
    *,
    people_of: dict[UUID, list[EntryClearance]] | None = None,
    warnings: dict[UUID, list[dict]] | None = None,
) -> list[OrderView]:
    if not orders:
        return []
    people_of = people_of or await _people_of(session, orders, now)
    items = await items_by_ids(session, [o.service_item_id for o in orders])
    vendors = await vendors_by_ids(session, [o.vendor_id for o in orders])
    schools = await schools_by_ids(session, [o.school_id for o in orders])
    on_list: dict[tuple[str, UUID], ItemOnWhitelist] = {}
    for region_code in {o.region_code for o in orders}:
        # Once per item: many schools of a region order the same one.
        pairs = list(dict.fromkeys((o.vendor_id, o.service_item_id) for o in orders if o.region_code == region_code))
        for item_id, state in (await items_on_whitelist(session, pairs, region_code, now)).items():
            on_list[(region_code, item_id)] = state
    views = []
    actions: dict[tuple[str, frozenset[str]], list[str]] = {}  # the table's answer, asked once per case
    for order in orders:
        vendor, item = vendors[order.vendor_id], items[order.service_item_id]
        people = people_of[order.id]
        case = (order.state, frozenset(_tags(actor, order, vendor.credit_code)))
        if case not in actions:
            actions[case] = allowed_actions(SCHOOL_ORDER, case[0], case[1])
        views.append(
            OrderView(
                order=order,
                school_code=schools[order.school_id].code,
                vendor_name=vendor.name,
                activity=item.activity,
                category_code=item.category_code,
                people=people,
                standing=order_standing.standing(
                    order.state in OPEN_STATES, on_list[(order.region_code, order.service_item_id)], people, now
                ),
                allowed_actions=list(actions[case]),
                warnings=(warnings or {}).get(order.id, []),
            )
        )
    return views


async def list_school_orders(
    db: Database, actor: Actor, school_code: str, *, term_id: UUID | None = None, now: datetime | None = None
) -> list[OrderView]:
    """A school's orders, newest first, each with its standing now."""
    now = now or utcnow()
    async with db.transaction() as session:
        school = await visible_school(session, actor, school_code)
        query = select(SchoolOrder).where(SchoolOrder.school_id == school.id)
        if term_id is not None:
            query = query.where(SchoolOrder.term_id == term_id)
        orders = list(
            (await session.exec(query.order_by(col(SchoolOrder.created_at).desc(), col(SchoolOrder.id)))).all()
        )
        return await _views(session, actor, orders, now)


@dataclass(frozen=True)
class OpenOrders:
    """The open orders of some regions as the bureau's dashboard needs them."""

    counts: dict[str, int]  # by standing now
    attention: list[OrderView]  # the blocked and at-risk ones, as full views
    named: list[tuple[UUID, EntryClearance]]  # (vendor id, person) for each person on each open order


_OPEN_ORDERS = """
SELECT o.id, o.vendor_id, o.service_item_id, o.region_code,
       coalesce(array_agg(p.person_id ORDER BY p.position) FILTER (WHERE p.person_id IS NOT NULL), '{}')
  FROM school_orders o LEFT JOIN school_order_people p ON p.order_id = o.id
 WHERE o.region_code = ANY($1::text[]) AND o.state = ANY($2::text[]) AND ($3::uuid IS NULL OR o.term_id = $3)
 GROUP BY o.id
"""


async def open_orders_in_regions(
    session: AsyncSession, actor: Actor, region_codes: list[str], now: datetime, *, term_id: UUID | None = None
) -> OpenOrders:
    """Every placed or accepted order of the schools of these regions, with its standing
    now: counted for all, full views for those needing attention. A region holds
    thousands of orders, so they are read as plain rows and only those views are built."""
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    rows = await raw.fetch(_OPEN_ORDERS, list(region_codes), list(OPEN_STATES), term_id)
    by_vendor: dict[UUID, set[UUID]] = {}
    for _, vendor_id, _, _, people in rows:
        by_vendor.setdefault(vendor_id, set()).update(people)
    cleared = await entry_clearances_many(session, {v: list(p) for v, p in by_vendor.items()}, now)
    on_list: dict[tuple[str, UUID], ItemOnWhitelist] = {}
    for region_code in {row[3] for row in rows}:
        pairs = list(dict.fromkeys((row[1], row[2]) for row in rows if row[3] == region_code))
        for item_id, state in (await items_on_whitelist(session, pairs, region_code, now)).items():
            on_list[(region_code, item_id)] = state
    counts: dict[str, int] = {}
    needing: dict[UUID, list[EntryClearance]] = {}
    named: list[tuple[UUID, EntryClearance]] = []
    for order_id, vendor_id, item_id, region_code, people in rows:
        persons = [cleared[vendor_id][p] for p in people]
        found = order_standing.standing(True, on_list[(region_code, item_id)], persons, now).standing
        counts[found] = counts.get(found, 0) + 1
        named += [(vendor_id, p) for p in persons]
        if found in (order_standing.BLOCKED, order_standing.AT_RISK):
            needing[order_id] = persons
    orders = (
        list(
            (
                await session.exec(
                    select(SchoolOrder)
                    .where(col(SchoolOrder.id).in_(list(needing)))
                    .order_by(col(SchoolOrder.created_at), col(SchoolOrder.id))
                )
            ).all()
        )
        if needing
        else []
    )
    return OpenOrders(counts, await _views(session, actor, orders, now, people_of=needing), named)


@dataclass(frozen=True)
class OrderStandingNow:
    """An open order's standing at an instant (for the webhooks: service/webhooks/fanout.py)."""

    order_id: UUID
    school_id: UUID
    school_code: str
    term_id: UUID
    service_item_id: UUID
    standing: str
    reasons: list[dict]


async def order_standings(
    session: AsyncSession,
    *,
    school_ids: Sequence[UUID],
    item_ids: Sequence[UUID] | None = None,
    person_ids: Sequence[UUID] | None = None,
    now: datetime | None = None,
) -> list[OrderStandingNow]:
    """The open (placed or accepted) orders of these schools, each with its standing now;
    with `item_ids` or `person_ids`, only the orders of those items or naming those people."""
    now = now or utcnow()
    if not school_ids:
        return []
    query = select(SchoolOrder).where(
        col(SchoolOrder.school_id).in_(list(school_ids)), col(SchoolOrder.state).in_(list(OPEN_STATES))
    )
    if item_ids is not None or person_ids is not None:
        touched = []
        if item_ids:
            touched.append(col(SchoolOrder.service_item_id).in_(list(item_ids)))
        if person_ids:
            touched.append(
                col(SchoolOrder.id).in_(
                    select(SchoolOrderPerson.order_id).where(col(SchoolOrderPerson.person_id).in_(list(person_ids)))
                )
            )
        if not touched:
            return []
        query = query.where(or_(*touched))
    orders = list((await session.exec(query.order_by(col(SchoolOrder.created_at), col(SchoolOrder.id)))).all())
    views = await _views(session, Actor.system(), orders, now)
    return [
        OrderStandingNow(
            v.order.id,
            v.order.school_id,
            v.school_code,
            v.order.term_id,
            v.order.service_item_id,
            v.standing.standing,
            v.standing.reasons,
        )
        for v in views
    ]


async def list_vendor_orders(
    db: Database, actor: Actor, vendor_credit_code: str | None = None, *, now: datetime | None = None
) -> list[OrderView]:
    """The orders schools placed with the acting vendor, newest first."""
    now = now or utcnow()
    if actor.role is not Role.VENDOR:
        raise Forbidden("只有机构账号可以查看本机构收到的订单", code="vendor_only")
    async with db.transaction() as session:
        vendor = await vendor_by_credit_code(session, actor.vendor_credit_code)
        if vendor is None:
            return []
        query = (
            select(SchoolOrder)
            .where(SchoolOrder.vendor_id == vendor.id)
            .order_by(col(SchoolOrder.created_at).desc(), col(SchoolOrder.id))
        )
        return await _views(session, actor, list((await session.exec(query)).all()), now)


async def _visible_order(
    session: AsyncSession, actor: Actor, order_id: UUID, *, lock: bool = False
) -> tuple[SchoolOrder, str]:
    query = select(SchoolOrder).where(SchoolOrder.id == order_id)
    order = (await session.exec(query.with_for_update() if lock else query)).first()
    vendor = (await vendors_by_ids(session, [order.vendor_id]))[order.vendor_id] if order else None
    visible = order is not None and (
        _tags(actor, order, vendor.credit_code)
        or (actor.role in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN) and actor.covers_region(order.region_code))
    )
    if not visible:
        raise NotFound("未找到该订单", code="order_not_found")
    return order, vendor.credit_code


async def get_order(db: Database, actor: Actor, order_id: UUID, *, now: datetime | None = None) -> OrderView:
    now = now or utcnow()
    async with db.transaction() as session:
        order, _ = await _visible_order(session, actor, order_id)
        return (await _views(session, actor, [order], now))[0]


@dataclass(frozen=True)
class OrderedSlot:
    """An accepted order as the timetable shows it (for the timetables domain)."""

    order_id: UUID
    weekdays: list[int]
    start_time: time
    end_time: time
    category_code: int
    activity: str
    venue: str
    class_size: int
    vendor_name: str
    teachers: list[str]  # masked names
    fee: int
    fee_unit: str


async def accepted_orders(session: AsyncSession, school_id: UUID, term_id: UUID) -> list[OrderedSlot]:
    """The school's accepted orders of the term, oldest first."""
    query = (
        select(SchoolOrder)
        .where(SchoolOrder.school_id == school_id, SchoolOrder.term_id == term_id, SchoolOrder.state == ACCEPTED)
        .order_by(col(SchoolOrder.created_at), col(SchoolOrder.id))
    )
    orders = list((await session.exec(query)).all())
    if not orders:
        return []
    people = await _people_of(session, orders, utcnow())
    items = await items_by_ids(session, [o.service_item_id for o in orders])
    vendors = await vendors_by_ids(session, [o.vendor_id for o in orders])
    return [
        OrderedSlot(
            o.id,
            list(o.weekdays),
            o.start_time,
            o.end_time,
            items[o.service_item_id].category_code,
            items[o.service_item_id].activity,
            o.venue,
            o.class_size,
            vendors[o.vendor_id].name,
            [p.masked_name for p in people[o.id]],
            o.fee,
            o.fee_unit,
        )
        for o in orders
    ]


# -------------------------------------------------------------------- transitions


def _check_version(order: SchoolOrder, version: int | None) -> None:
    check_version(
        version,
        order.version,
        state=order.state,
        required="请在请求体的 version 字段或 If-Match 请求头中提供订单的当前版本号",
        conflict="订单已被他人更新（当前版本 {current}），请刷新后重新操作",
    )


async def _transition(
    session: AsyncSession,
    actor: Actor,
    order_id: UUID,
    action: str,
    reason: str | None,
    version: int | None,
    now: datetime,
) -> OrderView:
    if action not in SCHOOL_ORDER.actions:
        raise InvalidInput.field("action", "unknown_action", "未知的操作：" + "、".join(SCHOOL_ORDER.actions))
    order, credit_code = await _visible_order(session, actor, order_id, lock=True)
    _check_version(order, version)
    tags = _tags(actor, order, credit_code)
    decision = decide(SCHOOL_ORDER, order.state, action, tags, {REASON_FACT: reason})
    if not decision.allowed:
        if decision.code == REASON_REQUIRED:
            raise InvalidInput.field("reason", "reason_required", decision.message)
        raise Conflict(
            decision.message,
            code="transition_not_allowed",
            details=[
                {
                    "field": "action",
                    "code": "transition_not_allowed",
                    "message": decision.message,
                    "state": order.state,
                    "allowed_actions": allowed_actions(SCHOOL_ORDER, order.state, tags),
                }
            ],
        )
    before = {"state": order.state, "version": order.version}
    order.state, order.version, order.updated_at = decision.target, order.version + 1, now
    if decision.target == ACCEPTED:
        order.accepted_at = now  # on the school's public fee list from now (service/orders/fees.py)
    session.add(order)
    await record_event(
        session,
        actor,
        f"orders:order:{action}",
        "school_order",
        order.id,
        region_code=order.region_code,
        reason=reason,
        changes=diff(before, {"state": order.state, "version": order.version}),
    )
    await session.flush()
    return (await _views(session, actor, [order], now))[0]


async def transition_order(
    db: Database,
    actor: Actor,
    order_id: UUID,
    *,
    action: str,
    version: int | None = None,
    if_match: str | None = None,
    reason: str | None = None,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[OrderView]:
    """Accept or decline (the vendor), or cancel (the school), based on `version`."""
    now = now or utcnow()
    version = parse_version(version, if_match)
    reason = clean_reason(reason, limit=REASON_LIMIT)
    return await run_once(
        db, idempotency, lambda session: _transition(session, actor, order_id, action, reason, version, now)
    )


@dataclass(frozen=True)
class OrderFacts:
    """What another domain (complaints, ratings) may know of one order: whose it is,
    who teaches, its state and its term's dates."""

    order_id: UUID
    school_id: UUID
    service_item_id: UUID
    vendor_id: UUID
    region_code: str
    people: list[UUID]
    state: str
    class_size: int
    term_id: UUID
    term_starts_on: date
    term_ends_on: date


async def order_facts(session: AsyncSession, order_id: UUID, *, lock: bool = False) -> OrderFacts | None:
    query = select(SchoolOrder).where(SchoolOrder.id == order_id)
    order = (await session.exec(query.with_for_update() if lock else query)).first()
    if order is None:
        return None
    people = (
        await session.exec(
            select(SchoolOrderPerson.person_id)
            .where(SchoolOrderPerson.order_id == order_id)
            .order_by(col(SchoolOrderPerson.position))
        )
    ).all()
    term = await session.get(Term, order.term_id)
    return OrderFacts(
        order.id,
        order.school_id,
        order.service_item_id,
        order.vendor_id,
        order.region_code,
        list(people),
        order.state,
        order.class_size,
        order.term_id,
        term.starts_on,
        term.ends_on,
    )
