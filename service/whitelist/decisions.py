"""A second reviewer's decision on a pending four-eyes request, through the workflow
table `workflows.four_eyes.WHITELIST_REQUEST`: confirmed, it applies now; declined (or
withdrawn by its requester), it is dropped."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import record_event
from service.db import Database
from service.errors import Conflict, Forbidden, NotFound
from service.four_eyes import request_facts, request_tags
from service.idempotency import Idempotency, Reply, run_once
from service.reason import clean_reason
from service.security import Actor
from service.timeutil import utcnow
from service.whitelist.actions import ELIGIBLE, REASON_LIMIT
from service.whitelist.changes import ActionResult, Timing, apply_action
from service.whitelist.models import WhitelistActionRequest, WhitelistEntry
from service.whitelist.requests import load_request
from service.whitelist.targets import lock_entries, statuses_now
from workflows.engine import decide
from workflows.four_eyes import WHITELIST_REQUEST
from workflows.guards import different_reviewer


async def confirm_request(
    db: Database,
    actor: Actor,
    request_id: UUID,
    reason: str | None = None,
    *,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[ActionResult]:
    """A second reviewer in scope confirms a revoke or reinstate; it takes effect now."""
    now = now or utcnow()
    cleaned = clean_reason(reason, limit=REASON_LIMIT)
    return await run_once(db, idempotency, lambda session: _decide(session, actor, request_id, True, cleaned, now))


async def decline_request(
    db: Database,
    actor: Actor,
    request_id: UUID,
    reason: str | None,
    *,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[ActionResult]:
    """Drop a pending request (the requester withdrawing it, or another reviewer refusing)."""
    now = now or utcnow()
    cleaned = clean_reason(reason, required=True, limit=REASON_LIMIT)
    return await run_once(db, idempotency, lambda session: _decide(session, actor, request_id, False, cleaned, now))


async def _decide(
    session: AsyncSession, actor: Actor, request_id: UUID, confirm: bool, reason: str | None, now: datetime
) -> ActionResult:
    request = await load_request(session, actor, request_id, lock=True)
    decision = decide(
        WHITELIST_REQUEST,
        request.status,
        "confirm" if confirm else "decline",
        request_tags(actor, request.requested_by),
        request_facts(actor, request.requested_by, reason),
    )
    if not decision.allowed:
        if request.status != "pending":
            raise Conflict("该申请已处理", code="request_not_pending")
        if decision.failed_guard == different_reviewer.name:
            raise Forbidden("撤销和恢复须由另一名审核人员确认", code="four_eyes_violation")
        raise Forbidden(decision.message, code=decision.code or "forbidden")
    entries = await lock_entries(session, request.entry_ids)
    if not confirm:
        await _close(session, actor, request, "declined", reason, now)
        return ActionResult(request.action, "declined", request, [])
    return await _confirm(session, actor, request, entries, reason, now)


async def _confirm(
    session: AsyncSession,
    actor: Actor,
    request: WhitelistActionRequest,
    entries: list[WhitelistEntry],
    reason: str | None,
    now: datetime,
) -> ActionResult:
    """Apply the request to its entries, if the confirmer covers them all and none has
    changed status since it was made (409: request again)."""
    if any(not actor.covers_region(e.region_code) for e in entries):
        raise NotFound("未找到该申请", code="request_not_found")
    current = await statuses_now(session, entries, now)
    statuses = current.statuses
    changed = [e for e in entries if statuses[e.id] not in ELIGIBLE[request.action]]
    if changed:
        raise Conflict(
            "条目状态已变化，请重新发起申请",
            code="entry_status_changed",
            details=[
                {
                    "field": "entry_ids",
                    "code": "entry_status_changed",
                    "message": "条目状态已变化",
                    "entry_id": str(e.id),
                    "status": statuses[e.id],
                }
                for e in changed
            ],
        )
    changes = await apply_action(
        session,
        actor,
        request.action,
        request.reason,
        entries,
        current,
        now,
        Timing(ban_until=request.ban_until),
        request=request,
    )
    await _close(session, actor, request, "confirmed", reason, now)
    await session.flush()
    return ActionResult(request.action, "applied", request, changes)


async def _close(
    session: AsyncSession,
    actor: Actor,
    request: WhitelistActionRequest,
    status: str,
    reason: str | None,
    now: datetime,
) -> None:
    """Record the decision on the request and its audit event."""
    request.status, request.decided_by, request.decided_at, request.decision_reason = (
        status,
        actor.account_id,
        now,
        reason,
    )
    session.add(request)
    changes: dict[str, dict[str, Any]] = {"status": {"before": "pending", "after": status}}
    if status == "confirmed":
        changes["requested_by"] = {"before": None, "after": request.requested_by}
    await record_event(
        session,
        actor,
        f"whitelist:request:{'confirm' if status == 'confirmed' else 'decline'}",
        "whitelist_action_request",
        request.id,
        region_code=request.region_code,
        reason=reason,
        changes=changes,
    )
