"""From the outbox to deliveries: which subscribed schools a change touches, and what
to tell each of them.

The orders domain knows the standing of an order; it is handed in as a `StandingSource`
(the app wires `service.orders.order_standings`), so this domain never imports orders
and the domains that change standing can import this one without a cycle.

One round runs in one transaction under an advisory lock, so that with several workers
one fans out at a time and each school's deliveries keep the order of the changes:
  - every outbox row, oldest first: the open orders of subscribed schools that name its
    items or people; those whose standing (or its reasons) differs from what the school
    was last told become one delivery per webhook of the school; the row is deleted;
  - the scan (`scan_round`): every open order of the subscribed schools, as of now; a
    difference from what was last told is a time-driven change (an entry, a document or
    a clearance ended, a suspension ran out, an end came within 30 days). An order
    seen for the first time by the scan is only remembered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import Database
from service.timeutil import utcnow

EVENT_TYPE = "order.standing_changed"
SCAN_CAUSE = "time:standing_scan"
FANOUT_LOCK = 0x5C_0A_7E_01  # pg_advisory_xact_lock key of the fan-out
CHANGES_PER_ROUND = 200
SCAN_BATCH = 200


class OrderStanding(Protocol):
    order_id: UUID
    school_id: UUID
    school_code: str
    term_id: UUID
    service_item_id: UUID
    standing: str
    reasons: list[dict]


class StandingSource(Protocol):
    async def __call__(
        self,
        session: AsyncSession,
        *,
        school_ids: Sequence[UUID],
        item_ids: Sequence[UUID] | None = None,
        person_ids: Sequence[UUID] | None = None,
        now: datetime | None = None,
    ) -> Sequence[Any]: ...


def fingerprint(order: OrderStanding) -> str:
    return (order.standing + ":" + ",".join(sorted(r["code"] for r in order.reasons)))[:500]


def _order_json(order: OrderStanding) -> dict:
    return {
        "id": str(order.order_id),
        "term_id": str(order.term_id),
        "service_item_id": str(order.service_item_id),
        "standing": order.standing,
        "standing_reasons": order.reasons,
    }


def body_of(delivery_id: UUID, school_code: str, cause: str, at: datetime, orders: list[OrderStanding]) -> str:
    return json.dumps(
        {
            "id": str(delivery_id),
            "type": EVENT_TYPE,
            "school_code": school_code,
            "cause": cause,
            "created_at": at.isoformat(),
            "orders": [_order_json(o) for o in orders],
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )


@dataclass
class RoundResult:
    changes: int = 0
    deliveries: int = 0


async def _subscribed(session: AsyncSession) -> dict[UUID, list[UUID]]:
    rows = (
        await (await session.connection()).execute(
            text("SELECT school_id, id FROM webhooks WHERE active ORDER BY created_at, id")
        )
    ).all()
    found: dict[UUID, list[UUID]] = {}
    for school_id, webhook_id in rows:
        found.setdefault(school_id, []).append(webhook_id)
    return found


async def _told(session: AsyncSession, order_ids: list[UUID]) -> dict[UUID, str]:
    if not order_ids:
        return {}
    rows = await (await session.connection()).execute(
        text("SELECT order_id, fingerprint FROM webhook_order_standings WHERE order_id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": [str(i) for i in order_ids]},
    )
    return {row[0]: row[1] for row in rows}


async def _remember(session: AsyncSession, orders: Iterable[OrderStanding], now: datetime) -> None:
    rows = [{"order_id": o.order_id, "school_id": o.school_id, "fp": fingerprint(o), "at": now} for o in orders]
    if rows:
        await (await session.connection()).execute(
            text(
                "INSERT INTO webhook_order_standings (order_id, school_id, fingerprint, updated_at) "
                "VALUES (:order_id, :school_id, :fp, :at) ON CONFLICT (order_id) DO UPDATE "
                "SET fingerprint = EXCLUDED.fingerprint, updated_at = EXCLUDED.updated_at"
            ),
            rows,
        )


async def _queue(
    session: AsyncSession, webhooks: dict[UUID, list[UUID]], changed: list[OrderStanding], cause: str, now: datetime
) -> int:
    by_school: dict[UUID, list[OrderStanding]] = {}
    for order in changed:
        by_school.setdefault(order.school_id, []).append(order)
    rows = []
    for school_id in sorted(by_school):
        orders = sorted(by_school[school_id], key=lambda o: str(o.order_id))
        for webhook_id in webhooks.get(school_id, []):
            delivery_id = uuid4()
            rows.append(
                {
                    "id": delivery_id,
                    "webhook_id": webhook_id,
                    "event_type": EVENT_TYPE,
                    "cause": cause,
                    "body": body_of(delivery_id, orders[0].school_code, cause, now, orders),
                    "at": now,
                }
            )
    if rows:
        await (await session.connection()).execute(
            text(
                "INSERT INTO webhook_deliveries (id, webhook_id, event_type, cause, body, status, attempts, "
                "next_attempt_at, created_at) VALUES (:id, :webhook_id, :event_type, :cause, :body, 'pending', 0, :at, :at)"
            ),
            rows,
        )
    return len(rows)


async def _tell(
    session: AsyncSession,
    webhooks: dict[UUID, list[UUID]],
    orders: Sequence[OrderStanding],
    cause: str,
    now: datetime,
    *,
    new_is_change: bool,
) -> int:
    told = await _told(session, [o.order_id for o in orders])
    changed = [o for o in orders if (o.order_id in told or new_is_change) and told.get(o.order_id) != fingerprint(o)]
    await _remember(session, [o for o in orders if told.get(o.order_id) != fingerprint(o)], now)
    return await _queue(session, webhooks, changed, cause, now)


async def _locked(session: AsyncSession) -> bool:
    return bool(
        (
            await (await session.connection()).execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": FANOUT_LOCK})
        ).scalar()
    )


async def fanout_round(
    db: Database, source: StandingSource, *, now: datetime | None = None, limit: int = CHANGES_PER_ROUND
) -> RoundResult:
    """Turn up to `limit` outbox rows into deliveries (nothing if another worker is at it)."""
    result = RoundResult()
    async with db.transaction() as session:
        if not await _locked(session):
            return result
        changes = (
            await (await session.connection()).execute(
                text("SELECT id, item_ids, person_ids, cause FROM standing_changes ORDER BY id LIMIT :n"), {"n": limit}
            )
        ).all()
        if not changes:
            return result
        now = now or utcnow()
        webhooks = await _subscribed(session)
        schools = sorted(webhooks)
        for _, item_ids, person_ids, cause in changes:
            if schools:
                orders = await source(
                    session, school_ids=schools, item_ids=list(item_ids), person_ids=list(person_ids), now=now
                )
                result.deliveries += await _tell(session, webhooks, orders, cause, now, new_is_change=True)
            result.changes += 1
        await (await session.connection()).execute(
            text("DELETE FROM standing_changes WHERE id = ANY(CAST(:ids AS bigint[]))"),
            {"ids": [c[0] for c in changes]},
        )
    return result


async def scan_round(
    db: Database, source: StandingSource, *, now: datetime | None = None, batch: int = SCAN_BATCH
) -> RoundResult:
    """Compare every open order of the subscribed schools with what they were told."""
    result = RoundResult()
    async with db.transaction() as session:
        if not await _locked(session):
            return result
        now = now or utcnow()
        webhooks = await _subscribed(session)
        schools = sorted(webhooks)
        for start in range(0, len(schools), batch):
            orders = await source(session, school_ids=schools[start : start + batch], now=now)
            result.deliveries += await _tell(session, webhooks, orders, SCAN_CAUSE, now, new_is_change=False)
    return result
