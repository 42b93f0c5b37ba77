"""What a transition does besides changing state: the effects named in the workflow
tables (snapshots, the public notice, admission to the whitelist, notices), and
`_apply`, the one place a decided transition is carried out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from service.applications.context import Context
from service.applications.facts import _allowed, _bump, _facts, _guard_details
from service.applications.models import (
    StageChange,
)
from service.applications.rules import (
    notice_due,
    refusal,
    workflow_for,
)
from service.audit import record_event
from service.security import Actor
from service.timeutil import today_in_china
from service.whitelist import (
    Admission,
    admit,
)
from workflows import decide
from workflows.engine import Workflow
from workflows.entry_review import EntryAction
from workflows.roles import RoleTag

SYSTEM_TAGS = frozenset({RoleTag.SYSTEM})


Effect = Callable[[AsyncSession, Context, Actor, datetime], Awaitable[dict[str, Any] | None]]


async def _snapshot_application(session: AsyncSession, ctx: Context, actor: Actor, at: datetime) -> dict[str, Any]:
    """Submission fixes what is reviewed: the table (from the region's settings now, so a
    later settings change does not strand the application) and, in the audit event, the
    items with their fees and the documents by hash."""
    app = ctx.application
    app.workflow = workflow_for(ctx.settings.city_review_required)
    if app.submitted_at is None:
        app.submitted_at = at
    return {
        "workflow": app.workflow,
        "snapshot": {
            "service_items": [
                {
                    "id": i.id,
                    "category_code": i.category_code,
                    "activity": i.activity,
                    "grade_bands": list(i.grade_bands),
                    "fee": i.fee,
                    "fee_unit": i.fee_unit,
                    "max_class_size": i.max_class_size,
                    "venue": i.venue,
                }
                for i in ctx.items
            ],
            "documents": [
                {"id": d.id, "doc_type": d.doc_type, "sha256": d.sha256, "valid_until": d.valid_until}
                for d in ctx.documents
            ],
        },
    }


async def _record_preliminary_reviewer(session: AsyncSession, ctx: Context, actor: Actor, at: datetime) -> dict:
    before = ctx.application.preliminary_reviewer_id
    ctx.application.preliminary_reviewer_id = actor.account_id
    return {"preliminary_reviewer_id": {"before": before, "after": actor.account_id}}


async def _start_notice(session: AsyncSession, ctx: Context, actor: Actor, at: datetime) -> dict:
    app = ctx.application
    app.notice_started_at = at
    app.notice_ends_at = at + timedelta(days=ctx.settings.notice_days)
    app.notice_paused_at = None
    return {"notice": {"started_at": at, "ends_at": app.notice_ends_at, "days": ctx.settings.notice_days}}


async def _pause_notice(session: AsyncSession, ctx: Context, actor: Actor, at: datetime) -> dict:
    ends_at = ctx.application.notice_ends_at
    assert ends_at is not None, "the workflow pauses only a running notice, which has an end"
    ctx.application.notice_paused_at = at
    return {"notice": {"paused_at": at, "remaining_seconds": (ends_at - at).total_seconds()}}


async def _resume_notice(session: AsyncSession, ctx: Context, actor: Actor, at: datetime) -> dict:
    """The notice continues for the time it had left when it was paused."""
    app = ctx.application
    assert app.notice_ends_at is not None and app.notice_paused_at is not None, (
        "the workflow resumes only a paused notice"
    )
    app.notice_ends_at = app.notice_ends_at + (at - app.notice_paused_at)
    app.notice_paused_at = None
    return {"notice": {"resumed_at": at, "ends_at": app.notice_ends_at}}


async def _end_notice(session: AsyncSession, ctx: Context, actor: Actor, at: datetime) -> dict:
    """The notice stops for good (withdrawn, rejected, or back to review): objections
    still open are closed with it."""
    app = ctx.application
    app.notice_ends_at = None
    app.notice_paused_at = None
    closed = []
    for objection in ctx.open_objections:
        if objection.status == "open":
            objection.status, objection.resolved_at = "closed", at
            session.add(objection)
            closed.append(objection.id)
    return {"notice": {"ended_at": at}, "closed_objections": closed}


async def _admit_to_whitelist(session: AsyncSession, ctx: Context, actor: Actor, at: datetime) -> dict:
    """One whitelist entry per item, in this same transaction; the fee counts as
    published on the China date the notice started."""
    app = ctx.application
    admitted = await admit(
        session,
        application_id=app.id,
        vendor_id=app.vendor_id,
        region_code=app.region_code,
        items=[Admission(item.id, item.fee, item.fee_unit) for item in ctx.items],
        approved_at=at,
        valid_days=ctx.settings.whitelist_validity_days,
        fee_published_on=today_in_china(app.notice_started_at or at),
    )
    return {
        "whitelist_entries": [e.id for e in admitted.entries],
        "superseded_entries": admitted.superseded,
        "valid_until": at + timedelta(days=ctx.settings.whitelist_validity_days),
    }


async def _notify(session: AsyncSession, ctx: Context, actor: Actor, at: datetime) -> None:
    """Notification effects have no delivery channel yet (no e-mail/SMS in the product):
    the stage change itself is what the vendor's list and the reviewer queue show."""
    return None


EFFECTS: dict[str, Effect] = {
    "snapshot_application": _snapshot_application,
    "record_preliminary_reviewer": _record_preliminary_reviewer,
    "start_notice": _start_notice,
    "pause_notice": _pause_notice,
    "resume_notice": _resume_notice,
    "end_notice": _end_notice,
    "admit_to_whitelist": _admit_to_whitelist,
    "notify_vendor": _notify,
    "notify_reviewers": _notify,
    "notify_objector": _notify,
}


def _acting_role(workflow: Workflow, stage: str, action: str, tags: frozenset[str]) -> str:
    row = workflow.transition(stage, action)
    granted = [role for role in workflow.roles if role in tags and row is not None and role in row.roles]
    return granted[0] if granted else ",".join(sorted(tags))


async def _apply(
    session: AsyncSession,
    ctx: Context,
    actor: Actor,
    tags: frozenset[str],
    action: str,
    reason: str | None,
    now: datetime,
    *,
    effective_at: datetime | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Decide, change the stage, run the effects, write history and one audit event."""
    app, workflow = ctx.application, ctx.workflow
    facts = await _facts(session, ctx, actor, now, reason)
    decision = decide(workflow, app.stage, action, tags, facts)
    if not decision.allowed:
        raise refusal(
            decision,
            workflow,
            app.stage,
            action,
            actor,
            _allowed(workflow, app.stage, tags, facts),
            _guard_details(facts),
        )
    at = effective_at or now
    role = _acting_role(workflow, app.stage, action, tags)
    from_stage, from_version = app.stage, app.version
    assert decision.target is not None, "an allowed decision names its target"
    app.stage = decision.target
    app.stage_entered_at = at
    _bump(app, now)
    audit_changes = {
        "stage": {"before": from_stage, "after": app.stage},
        "version": {"before": from_version, "after": app.version},
    } | (changes or {})
    for effect in decision.effects:
        audit_changes |= await EFFECTS[effect](session, ctx, actor, at) or {}
    session.add(app)
    evidence = ctx.evidence
    session.add(
        StageChange(
            application_id=app.id,
            version=app.version,
            action=action,
            from_stage=from_stage,
            to_stage=app.stage,
            actor_account_id=actor.account_id,
            actor_role=role,
            reason=reason,
            evidence=evidence,
            occurred_at=at,
        )
    )
    await record_event(
        session,
        actor,
        f"applications:application:{action}",
        "application",
        app.id,
        region_code=app.region_code,
        changes=audit_changes,
        reason=reason,
        evidence=evidence,
    )
    await session.flush()


async def _conclude_if_due(session: AsyncSession, ctx: Context, now: datetime) -> bool:
    """A notice whose period is over (at once, for 0 days) ends with admission."""
    app = ctx.application
    if not notice_due(app.stage, app.notice_ends_at, now):
        return False
    await _apply(
        session,
        ctx,
        Actor.system(),
        SYSTEM_TAGS,
        EntryAction.CONCLUDE_NOTICE,
        None,
        now,
        effective_at=app.notice_ends_at,
    )
    return True
