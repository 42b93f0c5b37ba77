"""Open orders in bulk, with their standing now: a region's for the bureau's dashboard,
and those touched by a whitelist or personnel change for the webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from service.orders import rows
from service.orders import standing as order_standing
from service.orders.rows import OrderRow
from service.orders.views import OrderView, items_now, named_people, order_views
from service.personnel import EntryClearance
from service.security import Actor
from service.timeutil import utcnow
from workflows.school_order import OPEN_STATES


@dataclass(frozen=True)
class OpenOrders:
    """The open orders of some regions as the bureau's dashboard needs them."""

    counts: dict[str, int]  # by standing now
    attention: list[OrderView]  # the blocked and at-risk ones, as full views
    named: list[tuple[UUID, EntryClearance]]  # (vendor id, person) for each person on each open order


async def open_orders_in_regions(
    session: AsyncSession, actor: Actor, region_codes: list[str], now: datetime, *, term_id: UUID | None = None
) -> OpenOrders:
    """Every placed or accepted order of the schools of these regions, with its standing
    now: counted for all, full views for those needing attention. A region holds
    thousands of orders: one read of the orders as plain rows, one of every named
    person's facts, one of the items' whitelist state per region."""
    found = await rows.order_rows(
        session, rows.IN_REGIONS, list(region_codes), list(OPEN_STATES), term_id, order=rows.OLDEST_FIRST
    )
    people_of = await named_people(session, found, now)
    on_list = await items_now(session, found, now)
    counts: dict[str, int] = {}
    needing: list[OrderRow] = []
    named: list[tuple[UUID, EntryClearance]] = []
    for order in found:
        persons = people_of[order.id]
        standing = order_standing.standing(True, on_list[(order.region_code, order.service_item_id)], persons, now)
        counts[standing.standing] = counts.get(standing.standing, 0) + 1
        named += [(order.vendor_id, p) for p in persons]
        if standing.standing in (order_standing.BLOCKED, order_standing.AT_RISK):
            needing.append(order)
    attention = await order_views(session, actor, needing, now, people_of=people_of, on_list=on_list)
    return OpenOrders(counts, attention, named)


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
    if (item_ids is not None or person_ids is not None) and not item_ids and not person_ids:
        return []
    found = await rows.order_rows(
        session,
        rows.OF_SCHOOLS_TOUCHED,
        list(school_ids),
        list(OPEN_STATES),
        list(item_ids) if item_ids else None,
        list(person_ids) if person_ids else None,
        order=rows.OLDEST_FIRST,
    )
    views = await order_views(session, Actor.system(), found, now)
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
