"""An order's workflow steps (workflows/school_order.py): the vendor accepts or
declines, the school cancels, each checked against the table and the version."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from service.applications import parse_version
from service.audit import diff, record_event
from service.db import Database
from service.errors import Conflict, InvalidInput
from service.idempotency import Idempotency, Reply, run_once
from service.orders.models import SchoolOrder
from service.orders.rows import rows_by_ids
from service.orders.views import OrderView, actor_tags, order_views, visible_order
from service.reason import clean_reason
from service.security import Actor
from service.timeutil import utcnow
from service.versioning import check_version
from workflows import REASON_FACT, REASON_REQUIRED, allowed_actions, decide
from workflows.school_order import ACCEPTED, SCHOOL_ORDER

REASON_LIMIT = 1000


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
    order, credit_code = await visible_order(session, actor, order_id, lock=True)
    _check_version(order, version)
    tags = actor_tags(actor, order, credit_code)
    decision = decide(SCHOOL_ORDER, order.state, action, tags, {REASON_FACT: reason})
    if not decision.allowed:
        message = decision.message or "该操作不被允许"  # a refusal always carries its message
        if decision.code == REASON_REQUIRED:
            raise InvalidInput.field("reason", "reason_required", message)
        raise Conflict(
            message,
            code="transition_not_allowed",
            details=[
                {
                    "field": "action",
                    "code": "transition_not_allowed",
                    "message": message,
                    "state": order.state,
                    "allowed_actions": allowed_actions(SCHOOL_ORDER, order.state, tags),
                }
            ],
        )
    assert decision.target is not None  # an allowed decision always names its target
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
    return (await order_views(session, actor, await rows_by_ids(session, [order.id]), now))[0]


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
