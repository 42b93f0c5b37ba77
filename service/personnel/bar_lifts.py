"""Lifting a bar (four eyes): a province-level reviewer requests the lift of an adverse
barring result, a second one confirms, declines, or the first withdraws."""

from __future__ import annotations

from typing import TypedDict
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service import timeutil
from service.audit import diff, record_event
from service.db import Database
from service.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)
from service.four_eyes import request_facts, request_tags
from service.idempotency import Idempotency, Reply, run_once
from service.personnel.models import (
    BARRING_CHECK_TYPES,
    BackgroundCheck,
    BarLift,
    lift_status,
)
from service.personnel.people import load_visible_person
from service.reason import clean_reason
from service.security import Actor, Role
from service.webhooks import enqueue_standing_change
from workflows.engine import decide
from workflows.four_eyes import BAR_LIFT
from workflows.guards import different_reviewer


def _require_province_reviewer(actor: Actor) -> None:
    if actor.role is not Role.REVIEWER or actor.region_level != "province":
        raise Forbidden("只有省级审核人员可以解除禁入", code="province_reviewer_required")


class _ReasonRule(TypedDict):
    limit: int
    too_long_code: str


#: Bar-lift reasons: their columns hold 1,000 characters, and the code is `too_long`.
_LIFT_REASON: _ReasonRule = {"limit": 1000, "too_long_code": "too_long"}


async def request_bar_lift(
    db: Database, actor: Actor, person_id: UUID, check_id: UUID, reason: str, *, idempotency: Idempotency | None = None
) -> Reply[BarLift]:
    _require_province_reviewer(actor)
    # Required: a missing reason raised, so the cleaned one is never None.
    reason = clean_reason(reason, required=True, required_message="解除禁入须说明理由", **_LIFT_REASON) or ""

    async def work(session: AsyncSession) -> BarLift:
        person, _ = await load_visible_person(session, actor, person_id, for_update=True)
        check = await session.get(BackgroundCheck, check_id)
        if check is None or check.person_id != person.id:
            raise NotFound("未找到该查询记录", code="check_not_found")
        if check.result != "adverse" or check.check_type not in BARRING_CHECK_TYPES:
            raise InvalidInput.field(
                "check_id", "not_barring", "该记录不构成禁入（仅违法犯罪记录或性侵查询的不良结果）"
            )
        # A declined or withdrawn request is a record only; an open or confirmed one stands.
        standing = select(BarLift).where(BarLift.check_id == check.id, col(BarLift.closed_at).is_(None))
        if (await session.exec(standing)).first() is not None:
            raise Conflict("该记录已有解除申请", code="lift_exists")
        lift = BarLift(person_id=person.id, check_id=check.id, reason=reason, requested_by=actor.account_id)
        session.add(lift)
        await session.flush()
        await record_event(
            session,
            actor,
            "personnel:bar:lift_request",
            "bar_lift",
            lift.id,
            region_code=actor.region_code,
            reason=reason,
            changes=diff(None, {"person_id": person.id, "check_id": check.id}),
        )
        return lift

    return await run_once(db, idempotency, work)


LIFT_STATUS_ZH = {"pending": "待确认", "confirmed": "确认", "declined": "驳回", "withdrawn": "撤回"}


async def _pending_lift(
    session: AsyncSession, actor: Actor, person_id: UUID, lift_id: UUID, verb: str, reason: str | None
) -> BarLift:
    """The lift request `verb` (confirm | decline | withdraw) acts on, locked with its
    person, once the `workflows.four_eyes.BAR_LIFT` table allows it: 404 outside the
    actor's scope; 409 unless still pending; a confirmation or decline only by a
    province-level reviewer other than the requester (four eyes), a withdrawal only by
    the requester."""
    person, _ = await load_visible_person(session, actor, person_id, for_update=True)
    lift = (
        await session.exec(
            select(BarLift).where(BarLift.id == lift_id).with_for_update().execution_options(populate_existing=True)
        )
    ).first()
    if lift is None or lift.person_id != person.id:
        raise NotFound("未找到该解除申请", code="lift_not_found")
    status = lift_status(lift)
    decision = decide(
        BAR_LIFT, status, verb, request_tags(actor, lift.requested_by), request_facts(actor, lift.requested_by, reason)
    )
    if decision.allowed:
        return lift
    if status == "confirmed" and verb == "confirm":
        raise Conflict("该解除申请已确认", code="lift_already_confirmed")
    if status != "pending":
        raise Conflict(
            f"该解除申请已{LIFT_STATUS_ZH[status]}，不能再处理",
            code="lift_not_pending",
            details=[{"field": "status", "code": status, "message": LIFT_STATUS_ZH[status]}],
        )
    if verb == "withdraw":
        raise Forbidden("只有提出申请的审核人员可以撤回", code="lift_requester_required")
    if decision.failed_guard == different_reviewer.name:
        raise Forbidden("须由另一名省级审核人员确认", code="second_reviewer_required")
    raise Forbidden("只有省级审核人员可以解除禁入", code="province_reviewer_required")


async def confirm_bar_lift(
    db: Database,
    actor: Actor,
    person_id: UUID,
    lift_id: UUID,
    reason: str | None,
    *,
    idempotency: Idempotency | None = None,
) -> Reply[BarLift]:
    """The second reviewer's confirmation; only then does the bar stop counting."""
    _require_province_reviewer(actor)
    reason = clean_reason(reason, **_LIFT_REASON)

    async def work(session: AsyncSession) -> BarLift:
        lift = await _pending_lift(session, actor, person_id, lift_id, "confirm", reason)
        lift.confirmed_by, lift.confirmed_at, lift.confirm_reason = actor.account_id, timeutil.utcnow(), reason
        session.add(lift)
        await record_event(
            session,
            actor,
            "personnel:bar:lift_confirm",
            "bar_lift",
            lift.id,
            region_code=actor.region_code,
            reason=reason,
            changes=diff({"confirmed": False}, {"confirmed": True}),
        )
        await enqueue_standing_change(session, person_ids=[person_id], cause="personnel:bar:lift_confirm")
        return lift

    return await run_once(db, idempotency, work)


async def _close_bar_lift(
    db: Database,
    actor: Actor,
    person_id: UUID,
    lift_id: UUID,
    reason: str | None,
    verb: str,
    closed_as: str,
    *,
    idempotency: Idempotency | None = None,
) -> Reply[BarLift]:
    async def work(session: AsyncSession) -> BarLift:
        lift = await _pending_lift(session, actor, person_id, lift_id, verb, reason)
        lift.closed_as, lift.closed_by, lift.closed_at, lift.close_reason = (
            closed_as,
            actor.account_id,
            timeutil.utcnow(),
            reason,
        )
        session.add(lift)
        await record_event(
            session,
            actor,
            f"personnel:bar:lift_{verb}",
            "bar_lift",
            lift.id,
            region_code=actor.region_code,
            reason=reason,
            changes=diff({"status": "pending"}, {"status": closed_as}),
        )
        return lift

    return await run_once(db, idempotency, work)


async def decline_bar_lift(
    db: Database,
    actor: Actor,
    person_id: UUID,
    lift_id: UUID,
    reason: str | None,
    *,
    idempotency: Idempotency | None = None,
) -> Reply[BarLift]:
    """A second province-level reviewer refuses the request, with a reason. The bar
    stays; the request stays as a record; a new request for the check may follow."""
    _require_province_reviewer(actor)
    reason = clean_reason(reason, required=True, required_message="驳回解除申请须说明理由", **_LIFT_REASON)
    return await _close_bar_lift(db, actor, person_id, lift_id, reason, "decline", "declined", idempotency=idempotency)


async def withdraw_bar_lift(
    db: Database,
    actor: Actor,
    person_id: UUID,
    lift_id: UUID,
    reason: str | None,
    *,
    idempotency: Idempotency | None = None,
) -> Reply[BarLift]:
    """The requester takes back their own pending request (a reason is optional)."""
    reason = clean_reason(reason, **_LIFT_REASON)
    return await _close_bar_lift(
        db, actor, person_id, lift_id, reason, "withdraw", "withdrawn", idempotency=idempotency
    )
