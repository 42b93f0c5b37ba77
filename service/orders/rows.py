"""Orders as plain rows: one statement reads the orders with what their views show of
their school, vendor and item, and the people they name, in the school's order.

The read paths (a school's list, a vendor's, the dashboard, the webhooks) build no ORM
objects: for a list of 50 orders the objects cost more than the statement (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import driver_connection


@dataclass(slots=True)  # not frozen: built per order on the read paths (never mutated)
class OrderRow:
    """An order as read, with the columns of `school_orders` the views use (the same
    names as `models.SchoolOrder`) and what they show of its school, vendor and item."""

    id: UUID
    school_id: UUID
    term_id: UUID
    service_item_id: UUID
    vendor_id: UUID
    region_code: str
    weekdays: list[int]
    start_time: time
    end_time: time
    venue: str
    class_size: int
    grade_bands: list[str]
    fee: int
    fee_unit: str
    state: str
    version: int
    created_at: datetime
    accepted_at: datetime | None
    school_code: str
    vendor_name: str
    vendor_credit_code: str
    activity: str
    category_code: int
    people: list[UUID]  # the named people, in the order the school listed them


_SELECT = """
SELECT o.id, o.school_id, o.term_id, o.service_item_id, o.vendor_id, o.region_code, o.weekdays,
       o.start_time, o.end_time, o.venue, o.class_size, o.grade_bands, o.fee, o.fee_unit, o.state,
       o.version, o.created_at, o.accepted_at, s.code, v.name, v.credit_code, i.activity, i.category_code,
       ARRAY(SELECT p.person_id FROM school_order_people p WHERE p.order_id = o.id ORDER BY p.position)
  FROM school_orders o
  JOIN schools s ON s.id = o.school_id
  JOIN vendors v ON v.id = o.vendor_id
  JOIN service_items i ON i.id = o.service_item_id
 WHERE {where}
 ORDER BY {order}
"""
NEWEST_FIRST = "o.created_at DESC, o.id"
OLDEST_FIRST = "o.created_at, o.id"

#: The selections the read paths make ($1, $2 … as each says).
OF_SCHOOL = "o.school_id = $1 AND ($2::uuid IS NULL OR o.term_id = $2)"  # $1 school, $2 term or NULL
OF_VENDOR = "o.vendor_id = $1"
BY_IDS = "o.id = ANY($1::uuid[])"
#: $1 region codes, $2 states, $3 term or NULL
IN_REGIONS = "o.region_code = ANY($1::text[]) AND o.state = ANY($2::text[]) AND ($3::uuid IS NULL OR o.term_id = $3)"
#: $1 school ids, $2 states, $3 item ids or NULL, $4 person ids or NULL (both NULL: all)
OF_SCHOOLS_TOUCHED = """o.school_id = ANY($1::uuid[]) AND o.state = ANY($2::text[])
   AND (($3::uuid[] IS NULL AND $4::uuid[] IS NULL)
        OR o.service_item_id = ANY($3::uuid[])
        OR o.id IN (SELECT order_id FROM school_order_people WHERE person_id = ANY($4::uuid[])))"""


async def order_rows(session: AsyncSession, where: str, *args: Any, order: str = NEWEST_FIRST) -> list[OrderRow]:
    """The orders `where` selects (one of the selections above), in `order`."""
    rows = await (await driver_connection(session)).fetch(_SELECT.format(where=where, order=order), *args)
    return [OrderRow(*row) for row in rows]


async def rows_by_ids(session: AsyncSession, ids: Sequence[UUID], *, order: str = OLDEST_FIRST) -> list[OrderRow]:
    return await order_rows(session, BY_IDS, list(ids), order=order) if ids else []
