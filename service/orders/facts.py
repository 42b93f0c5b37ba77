"""What other domains may know of orders: a school's accepted orders as its timetable
shows them, and one order's facts (complaints, ratings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.orders import rows
from service.orders.models import SchoolOrder, SchoolOrderPerson, Term
from service.orders.views import named_people
from service.timeutil import utcnow
from workflows.school_order import ACCEPTED


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
    found = await rows.order_rows(session, rows.OF_SCHOOL, school_id, term_id, order=rows.OLDEST_FIRST)
    orders = [o for o in found if o.state == ACCEPTED]
    if not orders:
        return []
    people = await named_people(session, orders, utcnow())
    return [
        OrderedSlot(
            o.id,
            list(o.weekdays),
            o.start_time,
            o.end_time,
            o.category_code,
            o.activity,
            o.venue,
            o.class_size,
            o.vendor_name,
            [p.masked_name for p in people[o.id]],
            o.fee,
            o.fee_unit,
        )
        for o in orders
    ]


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
    assert term is not None  # school_orders.term_id references terms
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
