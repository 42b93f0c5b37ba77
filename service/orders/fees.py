"""A school's published fee list for a term (§3(2): fees are charged only once published).

The list is the school's accepted orders of the term: each item, its vendor and the fee
the order was placed at (the whitelist entry's published fee; no other can be entered).
A row is on the public list from the instant the vendor accepted the order, and its fee
is chargeable from that day (China date) on, never before: `chargeable(published_on, on)`.
Read before the term starts, it is what parents see before anything may be charged;
read with `on` (a past or future day), it says what was, or will be, chargeable that day —
what a fee complaint needs to know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlmodel import col, select

from service.db import Database
from service.errors import NotFound
from service.orders.models import SchoolOrder, Term
from service.orders.terms import term_for_school
from service.schools import School, school_by_code
from service.service_items import items_by_ids
from service.timeutil import today_in_china
from service.vendors import vendors_by_ids
from workflows.school_order import ACCEPTED


def chargeable(published_on: date, on: date) -> bool:
    """A fee may be charged on `on` only once it has been published."""
    return on >= published_on


@dataclass(frozen=True)
class FeeRow:
    order_id: UUID
    service_item_id: UUID
    vendor_name: str
    activity: str
    category_code: int
    fee: int  # fen per `fee_unit`
    fee_unit: str
    published_on: date  # on the school's public list (and chargeable) from this China date
    chargeable: bool  # on the day asked about
    published_before_term_start: bool


@dataclass(frozen=True)
class FeeList:
    school: School
    term: Term
    on: date
    rows: list[FeeRow]


async def public_fee_list(db: Database, school_code: str, term_id: UUID, *, on: date | None = None) -> FeeList:
    """The school's fee list for the term (no sign-in), as of the China day `on` (today)."""
    on = on or today_in_china()
    async with db.transaction() as session:
        school = await school_by_code(session, school_code)
        if school is None:
            raise NotFound("未找到该学校", code="school_not_found")
        term = await term_for_school(session, term_id, school.region_code)
        orders = list(
            (
                await session.exec(
                    select(SchoolOrder)
                    .where(
                        SchoolOrder.school_id == school.id,
                        SchoolOrder.term_id == term.id,
                        SchoolOrder.state == ACCEPTED,
                        col(SchoolOrder.accepted_at).is_not(None),
                    )
                    .order_by(col(SchoolOrder.accepted_at), col(SchoolOrder.id))
                )
            ).all()
        )
        items = await items_by_ids(session, [o.service_item_id for o in orders])
        vendors = await vendors_by_ids(session, [o.vendor_id for o in orders])
    rows = []
    for order in orders:
        item, published_on = items[order.service_item_id], today_in_china(order.accepted_at)
        rows.append(
            FeeRow(
                order.id,
                item.id,
                vendors[order.vendor_id].name,
                item.activity,
                item.category_code,
                order.fee,
                order.fee_unit,
                published_on,
                chargeable(published_on, on),
                published_on < term.starts_on,
            )
        )
    return FeeList(school, term, on, rows)
