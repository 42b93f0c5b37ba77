"""The read side of schools' orders: who sees which order, and each order as a view
with its standing derived at the instant of the read (service/orders/standing.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import Database
from service.errors import Forbidden, NotFound
from service.orders import rows
from service.orders import standing as order_standing
from service.orders.models import SchoolOrder
from service.orders.rows import OrderRow
from service.personnel import EntryClearance, entry_clearances_many
from service.schools import visible_school
from service.security import Actor, Role
from service.timeutil import utcnow
from service.vendors import vendor_by_credit_code, vendors_by_ids
from service.whitelist import ItemOnWhitelist, items_on_whitelist
from workflows import allowed_actions
from workflows.roles import RoleTag
from workflows.school_order import OPEN_STATES, SCHOOL_ORDER


@dataclass(frozen=True)
class OrderView:
    order: OrderRow
    people: list[EntryClearance]
    standing: order_standing.Standing
    allowed_actions: list[str]
    warnings: list[dict] = field(default_factory=list)

    @property
    def school_code(self) -> str:
        return self.order.school_code

    @property
    def vendor_name(self) -> str:
        return self.order.vendor_name

    @property
    def activity(self) -> str:
        return self.order.activity

    @property
    def category_code(self) -> int:
        return self.order.category_code

    @property
    def state_label(self) -> str:
        return SCHOOL_ORDER.state_label(self.order.state)


# -------------------------------------------------------------------- who sees what


def actor_tags(actor: Actor, order: SchoolOrder | OrderRow, vendor_credit_code: str | None) -> set[str]:
    tags: set[str] = set()
    if actor.role is Role.SCHOOL and actor.school_id == order.school_id:
        tags.add(RoleTag.SCHOOL)
    if actor.role is Role.VENDOR and vendor_credit_code and actor.vendor_credit_code == vendor_credit_code:
        tags.add(RoleTag.VENDOR)
    return tags


# -------------------------------------------------------------------- reading


async def named_people(
    session: AsyncSession, orders: Sequence[OrderRow], now: datetime
) -> dict[UUID, list[EntryClearance]]:
    """Each order's named people with their entry clearance for its vendor now, in the
    school's order: one read of every person's facts for all the orders' vendors."""
    by_vendor: dict[UUID, set[UUID]] = {}
    for order in orders:
        by_vendor.setdefault(order.vendor_id, set()).update(order.people)
    cleared = await entry_clearances_many(session, {v: list(people) for v, people in by_vendor.items()}, now)
    return {o.id: [cleared[o.vendor_id][p] for p in o.people] for o in orders}


async def items_now(
    session: AsyncSession, orders: Sequence[OrderRow], now: datetime
) -> dict[tuple[str, UUID], ItemOnWhitelist]:
    """Where each order's item stands on its region's whitelist now, by (region, item):
    once per item, as many schools of a region order the same one."""
    on_list: dict[tuple[str, UUID], ItemOnWhitelist] = {}
    for region_code in {o.region_code for o in orders}:
        pairs = list(dict.fromkeys((o.vendor_id, o.service_item_id) for o in orders if o.region_code == region_code))
        for item_id, state in (await items_on_whitelist(session, pairs, region_code, now)).items():
            on_list[(region_code, item_id)] = state
    return on_list


async def order_views(
    session: AsyncSession,
    actor: Actor,
    orders: Sequence[OrderRow],
    now: datetime,
    *,
    people_of: dict[UUID, list[EntryClearance]] | None = None,
    on_list: dict[tuple[str, UUID], ItemOnWhitelist] | None = None,
    warnings: dict[UUID, list[dict]] | None = None,
) -> list[OrderView]:
    """Each order with its standing now; `people_of` and `on_list`, when the caller has
    read them already (`named_people`, `items_now`)."""
    if not orders:
        return []
    people_of = people_of or await named_people(session, orders, now)
    on_list = on_list or await items_now(session, orders, now)
    views = []
    actions: dict[tuple[str, frozenset[str]], list[str]] = {}  # the table's answer, asked once per case
    for order in orders:
        people = people_of[order.id]
        case = (order.state, frozenset(actor_tags(actor, order, order.vendor_credit_code)))
        if case not in actions:
            actions[case] = allowed_actions(SCHOOL_ORDER, case[0], case[1])
        views.append(
            OrderView(
                order=order,
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
        return await order_views(
            session, actor, await rows.order_rows(session, rows.OF_SCHOOL, school.id, term_id), now
        )


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
        return await order_views(session, actor, await rows.order_rows(session, rows.OF_VENDOR, vendor.id), now)


async def visible_order(
    session: AsyncSession, actor: Actor, order_id: UUID, *, lock: bool = False
) -> tuple[SchoolOrder, str]:
    query = select(SchoolOrder).where(SchoolOrder.id == order_id)
    order = (await session.exec(query.with_for_update() if lock else query)).first()
    if order is None:
        raise NotFound("未找到该订单", code="order_not_found")
    credit_code = (await vendors_by_ids(session, [order.vendor_id]))[order.vendor_id].credit_code
    visible = actor_tags(actor, order, credit_code) or (
        actor.role in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN) and actor.covers_region(order.region_code)
    )
    if not visible:
        raise NotFound("未找到该订单", code="order_not_found")
    return order, credit_code


async def get_order(db: Database, actor: Actor, order_id: UUID, *, now: datetime | None = None) -> OrderView:
    now = now or utcnow()
    async with db.transaction() as session:
        order, _ = await visible_order(session, actor, order_id)
        return (await order_views(session, actor, await rows.rows_by_ids(session, [order.id]), now))[0]
