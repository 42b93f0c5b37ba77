"""Open orders in bulk, with their standing now: a region's for the bureau's dashboard,
and those touched by a whitelist or personnel change for the webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.orders import standing as order_standing
from service.orders.models import SchoolOrder, SchoolOrderPerson
from service.orders.views import OrderView, driver, order_views
from service.personnel import EntryClearance, entry_clearances_many
from service.security import Actor
from service.timeutil import utcnow
from service.whitelist import ItemOnWhitelist, items_on_whitelist
from workflows.school_order import OPEN_STATES


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
    rows = await (await driver(session)).fetch(_OPEN_ORDERS, list(region_codes), list(OPEN_STATES), term_id)
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
    return OpenOrders(counts, await order_views(session, actor, orders, now, people_of=needing), named)


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
    views = await order_views(session, Actor.system(), orders, now)
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
