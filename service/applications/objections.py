"""Objections during an application's public notice: anyone signed in files one (the
notice pauses), a reviewer resolves it through the workflow table (upheld: back to the
deciding review; dismissed: the notice resumes once none is open)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from service.applications.context import _context, _lock, _not_found, _sees_objectors, _tags, _visible
from service.applications.effects import SYSTEM_TAGS, _apply
from service.applications.facts import _allowed, _bump, _check_version, _facts
from service.applications.models import Objection
from service.applications.notices import conclude_due_notices
from service.applications.rules import NOTICE_STAGES, REASON_LIMIT, refusal
from service.audit import record_event
from service.db import Database
from service.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.idempotency import Idempotency, Reply, run_once
from service.reason import clean_reason
from service.security import Actor, Role
from service.timeutil import utcnow
from workflows import decide
from workflows.entry_review import EntryAction, EntryState

PAUSE_REASON = "公示期间收到异议，公示暂停，待审核人员处理"


@dataclass(frozen=True)
class ObjectionResult:
    objection: Objection
    application_stage: str
    application_version: int
    show_objector: bool


def _require_reason(reason: str | None) -> str:
    return clean_reason(reason, required=True, limit=REASON_LIMIT) or ""


async def _file_objection(
    session: AsyncSession, actor: Actor, application_id: UUID, reason: str | None, now: datetime
) -> ObjectionResult:
    reason = _require_reason(reason)
    application = await _lock(session, application_id)
    if application is None:
        raise _not_found()
    ctx = await _context(session, application)
    if application.stage not in NOTICE_STAGES:
        if not _visible(actor, ctx):
            raise _not_found()
        raise Conflict("该申请不在公示期内，不能提出异议", code="not_in_public_notice")
    if actor.role is Role.VENDOR and actor.vendor_credit_code == ctx.vendor.credit_code:
        raise Forbidden("申请机构不能对本机构的申请提出异议", code="own_application")
    ends = application.notice_ends_at
    if application.stage == EntryState.PUBLIC_NOTICE and ends is not None and now >= ends:
        raise Conflict("公示期已结束，不能再提出异议", code="notice_closed")
    if actor.account_id is None:  # the service itself never objects
        raise Forbidden("异议须由登录账号提出", code="account_required")
    objection = Objection(
        application_id=application.id, filed_by=actor.account_id, reason=reason, status="open", filed_at=now
    )
    session.add(objection)
    await session.flush()
    ctx.open_objections.append(objection)
    await record_event(
        session,
        actor,
        "applications:objection:file",
        "objection",
        objection.id,
        region_code=application.region_code,
        reason=reason,
        changes={
            "application_id": {"before": None, "after": application.id},
            "status": {"before": None, "after": "open"},
        },
    )
    if application.stage == EntryState.PUBLIC_NOTICE:
        await _apply(session, ctx, Actor.system(), SYSTEM_TAGS, EntryAction.PAUSE_FOR_OBJECTION, PAUSE_REASON, now)
    else:
        _bump(application, now)
        session.add(application)
    await session.flush()
    return ObjectionResult(objection, application.stage, application.version, _sees_objectors(actor))


async def file_objection(
    db: Database,
    actor: Actor,
    application_id: UUID,
    reason: str | None,
    *,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[ObjectionResult]:
    """Anyone signed in may object during the notice; the notice pauses until resolved."""
    now = now or utcnow()
    await conclude_due_notices(db, now, application_id=application_id)
    return await run_once(db, idempotency, lambda session: _file_objection(session, actor, application_id, reason, now))


async def _resolve_objection(
    session: AsyncSession,
    actor: Actor,
    objection_id: UUID,
    outcome: str,
    reason: str | None,
    version: int | None,
    now: datetime,
) -> ObjectionResult:
    if outcome not in ("upheld", "dismissed"):
        raise InvalidInput.field(
            "outcome", "invalid_outcome", "处理结果须为 upheld（异议成立）或 dismissed（异议不成立）"
        )
    reason = clean_reason(reason, limit=REASON_LIMIT)
    found = await session.get(Objection, objection_id)
    not_found = NotFound("未找到该异议", code="objection_not_found")
    if found is None:
        raise not_found
    application = await _lock(session, found.application_id)
    if application is None:
        raise not_found
    ctx = await _context(session, application)
    if not _visible(actor, ctx):
        raise not_found
    _check_version(application, version)
    objection = next((o for o in ctx.open_objections if o.id == objection_id), None)
    if objection is None:
        raise Conflict("该异议已处理完毕", code="objection_not_open")
    tags = _tags(actor, ctx)
    objection.status, objection.resolved_at = outcome, now
    objection.resolved_by, objection.resolution_reason = actor.account_id, reason
    session.add(objection)
    action = EntryAction.UPHOLD_OBJECTION if outcome == "upheld" else EntryAction.DISMISS_OBJECTION
    still_open = [o for o in ctx.open_objections if o.status == "open"]
    resolution = {"objection": {"id": objection.id, "outcome": outcome}}
    if outcome == "dismissed" and still_open:
        # Other objections keep the notice paused: no stage change, but the table still
        # decides who may dismiss (roles, four eyes, reason).
        workflow, stage = ctx.workflow, application.stage
        facts = await _facts(session, ctx, actor, now, reason)
        decision = decide(workflow, stage, action, tags, facts)
        if not decision.allowed:
            raise refusal(decision, workflow, stage, action, actor, _allowed(workflow, stage, tags, facts))
        _bump(application, now)
        session.add(application)
        await record_event(
            session,
            actor,
            "applications:objection:dismiss",
            "objection",
            objection.id,
            region_code=application.region_code,
            reason=reason,
            changes=resolution
            | {"status": {"before": "open", "after": "dismissed"}, "open_objections": len(still_open)},
        )
    else:
        await _apply(session, ctx, actor, tags, action, reason, now, changes=resolution)
    await session.flush()
    return ObjectionResult(objection, application.stage, application.version, _sees_objectors(actor))


async def resolve_objection(
    db: Database,
    actor: Actor,
    objection_id: UUID,
    *,
    outcome: str,
    reason: str | None,
    version: int | None,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[ObjectionResult]:
    """Upheld: back to the deciding review. Dismissed: the notice resumes once no
    objection is open, for the time it had left."""
    now = now or utcnow()
    return await run_once(
        db, idempotency, lambda session: _resolve_objection(session, actor, objection_id, outcome, reason, version, now)
    )
