"""Entry applications: drafting, editing, the workflow transitions, objections during
the public notice, and the automatic end of the notice.

Every change follows one pattern: lock the application row (`FOR UPDATE`), compare the
version the request was based on, gather the facts, ask the workflow engine
(`workflows.decide`), change the stage and bump the version, run the row's named
effects, append the stage-history row and one audit event — all in one transaction.
POSTs run through `service.idempotency.services.run_once`, so a retried request with
the same `Idempotency-Key` gets the first answer and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.accounts import account_names
from service.applications.models import (
    Application,
    ApplicationDocument,
    ApplicationItem,
    Objection,
    StageChange,
)
from service.applications.rules import (
    ALL_ACTIONS,
    APPLICATION_LEVELS,
    DIRECT_ACTIONS,
    EDITABLE_STAGES,
    NOTICE_STAGES,
    WORKFLOWS,
    can_see,
    is_review_action,
    refusal,
    role_tags,
    workflow_for,
)
from service.audit import diff, record_event
from service.db import Database
from service.documents import Document, document_status, documents_by_ids
from service.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    problem,
    raise_problems,
)
from service.idempotency import Idempotency, Reply, run_once
from service.logging import get_logger
from service.personnel import uncleared_among
from service.reason import clean_reason
from service.region_settings import EffectiveSettings, effective_settings
from service.regions import regions
from service.security import Actor, Role
from service.service_items import ServiceItem, items_by_ids
from service.versioning import check_version
from service.timeutil import today_in_china, utcnow
from service.vendors import Vendor, load_visible_vendor, vendors_by_ids
from service.whitelist import (
    Admission, WhitelistEntry, admit, ban_until, entries_of_application, suspended_items,
)
from workflows import allowed_actions as table_actions
from workflows import decide
from workflows.engine import Workflow
from workflows.entry_review import EntryAction, EntryState
from workflows.roles import RoleTag

log = get_logger("schoolgate.applications")

REASON_LIMIT = 2000
SYSTEM_TAGS = frozenset({RoleTag.SYSTEM})
PAUSE_REASON = "公示期间收到异议，公示暂停，待审核人员处理"


# ----------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class ApplicationInput:
    vendor_id: UUID
    region_code: str
    service_item_ids: list[UUID]
    document_ids: list[UUID] = field(default_factory=list)


@dataclass(frozen=True)
class ApplicationChanges:
    """A PATCH: None leaves the field as it is."""

    region_code: str | None = None
    service_item_ids: list[UUID] | None = None
    document_ids: list[UUID] | None = None


# ------------------------------------------------------------------------ views


@dataclass(frozen=True)
class HistoryEntry:
    change: StageChange
    actor_name: str | None


@dataclass(frozen=True)
class DocumentRef:
    document: Document
    status: str  # valid | expiring | expired, at the time of the view


@dataclass(frozen=True)
class ApplicationView:
    application: Application
    vendor: Vendor
    items: list[ServiceItem]
    documents: list[DocumentRef]
    history: list[HistoryEntry]
    objections: list[Objection]
    show_objectors: bool
    allowed_actions: list[str]
    checks: dict[str, list[str]]  # missing/expired/not_yet_valid documents, uncleared_personnel
    whitelist_entries: list[WhitelistEntry]
    now: datetime


@dataclass(frozen=True)
class ObjectionResult:
    objection: Objection
    application_stage: str
    application_version: int
    show_objector: bool


# ---------------------------------------------------------------------- context


@dataclass
class Context:
    """An application with everything its decisions read, loaded once per request."""

    application: Application
    vendor: Vendor
    items: list[ServiceItem]
    documents: list[Document]
    settings: EffectiveSettings
    open_objections: list[Objection]

    @property
    def workflow(self) -> Workflow:
        return WORKFLOWS[self.application.workflow]

    @property
    def evidence(self) -> list[str]:
        """The SHA-256 of every document the application relies on."""
        return sorted({d.sha256 for d in self.documents})


async def uncleared_personnel(session: AsyncSession, vendor_id: UUID, person_ids: Sequence[UUID],
                              now: datetime) -> list[UUID]:
    """The listed people who may not deliver the items: not cleared now (every
    mandatory check present, clear and unexpired), or no longer working for the vendor."""
    return await uncleared_among(session, vendor_id, person_ids, now)


async def _lock(session: AsyncSession, application_id: UUID) -> Application | None:
    query = (select(Application).where(Application.id == application_id).with_for_update()
             .execution_options(populate_existing=True))
    return (await session.exec(query)).first()


async def _context(session: AsyncSession, application: Application) -> Context:
    vendor = (await vendors_by_ids(session, [application.vendor_id]))[application.vendor_id]
    item_rows = (await session.exec(
        select(ApplicationItem).where(ApplicationItem.application_id == application.id)
        .order_by(col(ApplicationItem.position)))).all()
    items_found = await items_by_ids(session, [row.service_item_id for row in item_rows])
    document_ids = (await session.exec(
        select(ApplicationDocument.document_id).where(ApplicationDocument.application_id == application.id))).all()
    documents = sorted((await documents_by_ids(session, document_ids)).values(),
                       key=lambda d: (d.doc_type, d.uploaded_at, str(d.id)))
    objections = (await session.exec(
        select(Objection).where(Objection.application_id == application.id, Objection.status == "open")
        .order_by(col(Objection.filed_at), col(Objection.id)).execution_options(populate_existing=True))).all()
    return Context(
        application=application, vendor=vendor, items=[items_found[row.service_item_id] for row in item_rows],
        documents=documents, settings=await effective_settings(session, application.region_code),
        open_objections=list(objections),
    )


def _visible(actor: Actor, ctx: Context) -> bool:
    app = ctx.application
    return can_see(actor, region_code=app.region_code, vendor_credit_code=ctx.vendor.credit_code,
                   submitted=app.submitted_at is not None)


def _not_found() -> NotFound:
    return NotFound("未找到该申请", code="application_not_found")


async def _load_visible(session: AsyncSession, actor: Actor, application_id: UUID, *, lock: bool) -> Context:
    application = await _lock(session, application_id) if lock else await session.get(Application, application_id)
    if application is None:
        raise _not_found()
    ctx = await _context(session, application)
    if not _visible(actor, ctx):
        raise _not_found()
    return ctx


def _tags(actor: Actor, ctx: Context) -> frozenset[str]:
    return role_tags(actor, ctx.application.region_code, ctx.vendor.credit_code)


def _document_checks(ctx: Context, now: datetime) -> tuple[list[str], list[str], list[str]]:
    """Mandatory document types not referenced at all; those with no referenced document
    in force at `now` (by the dates) — expired, or (if one is still to come) not valid
    yet."""
    statuses: dict[str, set[str]] = {}
    for document in ctx.documents:
        statuses.setdefault(document.doc_type, set()).add(document_status(document.valid_from, document.valid_until,
                                                                          now))
    mandatory = ctx.settings.mandatory_document_types
    missing = [t for t in mandatory if t not in statuses]
    out_of_force = [t for t in mandatory if t in statuses and not statuses[t] & {"valid", "expiring"}]
    not_yet = [t for t in out_of_force if "not_yet_valid" in statuses[t]]
    return missing, [t for t in out_of_force if t not in not_yet], not_yet


async def _facts(session: AsyncSession, ctx: Context, actor: Actor, now: datetime, reason: str | None) -> dict[str, Any]:
    missing, expired, not_yet_valid = _document_checks(ctx, now)
    people = list(dict.fromkeys(p for item in ctx.items for p in item.personnel_ids))
    return {
        "missing_documents": missing,
        "expired_documents": expired,
        "not_yet_valid_documents": not_yet_valid,
        "uncleared_personnel": await uncleared_personnel(session, ctx.application.vendor_id, people, now),
        "preliminary_reviewer_id": ctx.application.preliminary_reviewer_id,
        "actor_id": actor.account_id,
        "now": now,
        "notice_ends_at": ctx.application.notice_ends_at,
        "open_objections": [o.id for o in ctx.open_objections if o.status == "open"],
        "reason": reason,
    }


def _allowed(workflow: Workflow, stage: str, tags: frozenset[str], facts: dict[str, Any]) -> list[str]:
    """The actions the caller may take now through POST .../transitions: the table's rows
    for its role tags whose guards hold (a reason is asked for when the action is sent)."""
    allowed = []
    for action in table_actions(workflow, stage, tags):
        if action in DIRECT_ACTIONS and decide(workflow, stage, action, tags, facts | {"reason": "-"}).allowed:
            allowed.append(action)
    return allowed


def _guard_details(facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "missing_documents": list(facts["missing_documents"]),
        "expired_documents": list(facts["expired_documents"]),
        "not_yet_valid_documents": list(facts["not_yet_valid_documents"]),
        "uncleared_personnel": [str(p) for p in facts["uncleared_personnel"]],
    }


async def _check_not_banned(session: AsyncSession, vendor_id: UUID, region_code: str, now: datetime) -> None:
    """A vendor revoked in a region may not apply there again before the ban date — nor
    in a region containing it or inside it (`whitelist.services.overlapping_regions`)."""
    banned = await ban_until(session, vendor_id, region_code, now)
    if banned is not None:
        message = f"该机构在本地区（或其上级、下辖地区）的白名单已被撤销，{banned.isoformat()} 前不得在本地区再次申请"
        raise Conflict(message, code="vendor_banned", details=[{
            "field": "region_code", "code": "vendor_banned", "message": message, "ban_until": banned.isoformat()}])


async def _check_not_suspended(session: AsyncSession, ctx: Context, now: datetime) -> None:
    """An item suspended in the region (an investigation) cannot be re-admitted by a new
    application until the suspension ends or is lifted."""
    suspended = await suspended_items(session, [item.id for item in ctx.items], ctx.application.region_code, now)
    if suspended:
        message = "申请中的服务项目在本地区处于暂停状态（调查中），暂停解除前不得重新申请"
        raise Conflict(message, code="item_suspended", details=[
            {"field": "service_item_ids", "code": "item_suspended", "message": message, "item_id": str(item_id)}
            for item_id in suspended])


def _check_version(application: Application, version: int | None) -> None:
    check_version(version, application.version,
                  required="请在请求体的 version 字段或 If-Match 请求头中提供申请的当前版本号",
                  conflict="申请已被更新（当前版本 {current}），请刷新后重新操作")


def _bump(application: Application, now: datetime) -> None:
    application.version += 1
    application.updated_at = now


# ---------------------------------------------------------------------- effects

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
            "service_items": [{"id": i.id, "category_code": i.category_code, "activity": i.activity,
                               "grade_bands": list(i.grade_bands), "fee": i.fee, "fee_unit": i.fee_unit,
                               "max_class_size": i.max_class_size, "venue": i.venue} for i in ctx.items],
            "documents": [{"id": d.id, "doc_type": d.doc_type, "sha256": d.sha256,
                           "valid_until": d.valid_until} for d in ctx.documents],
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
    ctx.application.notice_paused_at = at
    return {"notice": {"paused_at": at, "remaining_seconds": (ctx.application.notice_ends_at - at).total_seconds()}}


async def _resume_notice(session: AsyncSession, ctx: Context, actor: Actor, at: datetime) -> dict:
    """The notice continues for the time it had left when it was paused."""
    app = ctx.application
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
        session, application_id=app.id, vendor_id=app.vendor_id, region_code=app.region_code,
        items=[Admission(item.id, item.fee, item.fee_unit) for item in ctx.items],
        approved_at=at, valid_days=ctx.settings.whitelist_validity_days,
        fee_published_on=today_in_china(app.notice_started_at or at),
    )
    return {"whitelist_entries": [e.id for e in admitted.entries], "superseded_entries": admitted.superseded,
            "valid_until": at + timedelta(days=ctx.settings.whitelist_validity_days)}


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


# -------------------------------------------------------------------- transitions


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
        raise refusal(decision, workflow, app.stage, action, actor, _allowed(workflow, app.stage, tags, facts),
                      _guard_details(facts))
    at = effective_at or now
    role = _acting_role(workflow, app.stage, action, tags)
    from_stage, from_version = app.stage, app.version
    app.stage = decision.target
    app.stage_entered_at = at
    _bump(app, now)
    audit_changes = {"stage": {"before": from_stage, "after": app.stage},
                     "version": {"before": from_version, "after": app.version}} | (changes or {})
    for effect in decision.effects:
        audit_changes |= await EFFECTS[effect](session, ctx, actor, at) or {}
    session.add(app)
    evidence = ctx.evidence
    session.add(StageChange(application_id=app.id, version=app.version, action=action, from_stage=from_stage,
                            to_stage=app.stage, actor_account_id=actor.account_id, actor_role=role,
                            reason=reason, evidence=evidence, occurred_at=at))
    await record_event(session, actor, f"applications:application:{action}", "application", app.id,
                       region_code=app.region_code, changes=audit_changes, reason=reason, evidence=evidence)
    await session.flush()


async def _conclude_if_due(session: AsyncSession, ctx: Context, now: datetime) -> bool:
    """A notice whose period is over (at once, for 0 days) ends with admission."""
    app = ctx.application
    if app.stage != EntryState.PUBLIC_NOTICE or app.notice_ends_at is None or app.notice_ends_at > now:
        return False
    await _apply(session, ctx, Actor.system(), SYSTEM_TAGS, EntryAction.CONCLUDE_NOTICE, None, now,
                 effective_at=app.notice_ends_at)
    return True


async def _transition(session: AsyncSession, actor: Actor, application_id: UUID, action: str,
                      reason: str | None, version: int | None, now: datetime) -> ApplicationView:
    if action not in ALL_ACTIONS:
        raise InvalidInput.field("action", "unknown_action", "未知的操作：" + ", ".join(sorted(DIRECT_ACTIONS)))
    reason = clean_reason(reason, limit=REASON_LIMIT)
    ctx = await _load_visible(session, actor, application_id, lock=True)
    _check_version(ctx.application, version)
    tags = _tags(actor, ctx)
    workflow, stage = ctx.workflow, ctx.application.stage
    if actor.role is Role.VENDOR and is_review_action(workflow, action):
        raise Forbidden("机构账号不能参与审核", code="vendor_cannot_review")
    if (action in (EntryAction.SUBMIT, EntryAction.RESUBMIT) and RoleTag.VENDOR in tags) \
            or action == EntryAction.APPROVE:
        # Approval too: a ban or a suspension that came while the application was under
        # review holds it as it would have held the submission.
        await _check_not_banned(session, ctx.application.vendor_id, ctx.application.region_code, now)
        await _check_not_suspended(session, ctx, now)
    if action not in DIRECT_ACTIONS:
        facts = await _facts(session, ctx, actor, now, reason)
        message = ("公示期满由系统自动纳入白名单，无需人工操作" if action == EntryAction.CONCLUDE_NOTICE
                   else "异议通过 POST /api/v1/applications/{id}/objections 提出，通过 POST /api/v1/objections/{id}/resolution 处理")
        raise Conflict(message, code="transition_not_allowed", details=[{
            "field": "action", "code": "transition_not_allowed", "message": message, "stage": stage,
            "allowed_actions": _allowed(workflow, stage, tags, facts)}])
    await _apply(session, ctx, actor, tags, action, reason, now)
    await _conclude_if_due(session, ctx, now)
    return await build_view(session, ctx, actor, now)


async def transition(
    db: Database,
    actor: Actor,
    application_id: UUID,
    *,
    action: str,
    reason: str | None = None,
    version: int | None = None,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[ApplicationView]:
    """Take a workflow action on an application, based on `version`."""
    now = now or utcnow()
    await conclude_due_notices(db, now, application_id=application_id)
    return await run_once(db, idempotency,
                          lambda session: _transition(session, actor, application_id, action, reason, version, now))


# ------------------------------------------------------------ create and edit


def _region_problems(region_code: str) -> list[dict]:
    region = regions().get(region_code)
    if region is None:
        return [{"field": "region_code", "code": "unknown_region", "message": "行政区划代码不存在或不在本系统服务范围内"}]
    if region.level not in APPLICATION_LEVELS:
        return [{"field": "region_code", "code": "invalid_application_region",
                 "message": "入驻申请须向县（市、区）或设区市教育部门提出"}]
    return []


async def _listing_problems(session: AsyncSession, vendor: Vendor, item_ids: list[UUID] | None,
                            document_ids: list[UUID] | None) -> list[dict]:
    problems: list[dict] = []
    if item_ids is not None:
        if not item_ids:
            problems.append({"field": "service_item_ids", "code": "service_items_required",
                             "message": "至少列出一个服务项目"})
        problems += _owned_by_vendor(item_ids, await items_by_ids(session, item_ids), vendor, "service_item_ids",
                                     ("duplicate_service_item", "服务项目重复"),
                                     ("service_item_not_of_vendor", "该服务项目不存在或不属于本机构"))
    if document_ids is not None:
        problems += _owned_by_vendor(document_ids, await documents_by_ids(session, document_ids), vendor,
                                     "document_ids", ("duplicate_document", "资质材料重复"),
                                     ("document_not_of_vendor", "该资质材料不存在或不属于本机构"))
    return problems


def _owned_by_vendor(ids: list[UUID], found: dict, vendor: Vendor, field: str,
                     duplicate: tuple[str, str], foreign: tuple[str, str]) -> list[dict]:
    """A problem for each id listed twice, missing, or belonging to another vendor —
    the same answer for the last two, so no other vendor's ids can be probed."""
    problems, seen = [], set()
    for index, object_id in enumerate(ids):
        where = f"{field}[{index}]"
        if object_id in seen:
            problems.append(problem(where, *duplicate))
        elif object_id not in found or found[object_id].vendor_id != vendor.id:
            problems.append(problem(where, *foreign))
        seen.add(object_id)
    return problems


async def _set_listing(session: AsyncSession, application_id: UUID, item_ids: list[UUID] | None,
                       document_ids: list[UUID] | None) -> None:
    if item_ids is not None:
        await session.exec(delete(ApplicationItem).where(col(ApplicationItem.application_id) == application_id))
        session.add_all([ApplicationItem(application_id=application_id, service_item_id=item_id, position=index)
                         for index, item_id in enumerate(item_ids)])
    if document_ids is not None:
        await session.exec(delete(ApplicationDocument)
                           .where(col(ApplicationDocument.application_id) == application_id))
        session.add_all([ApplicationDocument(application_id=application_id, document_id=document_id)
                         for document_id in document_ids])
    await session.flush()


def _listing_view(ctx: Context) -> dict[str, Any]:
    return {"region_code": ctx.application.region_code, "service_item_ids": [i.id for i in ctx.items],
            "document_ids": [d.id for d in ctx.documents]}


async def _create(session: AsyncSession, actor: Actor, data: ApplicationInput, now: datetime) -> ApplicationView:
    vendor = await load_visible_vendor(session, actor, data.vendor_id)
    item_ids, document_ids = list(data.service_item_ids), list(data.document_ids)
    raise_problems(_region_problems(data.region_code)
                    + await _listing_problems(session, vendor, item_ids, document_ids))
    await _check_not_banned(session, vendor.id, data.region_code, now)
    settings = await effective_settings(session, data.region_code)
    application = Application(vendor_id=vendor.id, region_code=data.region_code, stage=EntryState.DRAFT,
                              workflow=workflow_for(settings.city_review_required), version=1,
                              stage_entered_at=now, created_at=now, updated_at=now, created_by=actor.account_id)
    session.add(application)
    await session.flush()
    await _set_listing(session, application.id, item_ids, document_ids)
    ctx = await _context(session, application)
    await record_event(session, actor, "applications:application:create", "application", application.id,
                       region_code=application.region_code,
                       changes=diff(None, {**_listing_view(ctx), "vendor_id": vendor.id, "stage": application.stage,
                                           "workflow": application.workflow}))
    return await build_view(session, ctx, actor, now)


async def create_application(db: Database, actor: Actor, data: ApplicationInput, *,
                             idempotency: Idempotency | None = None,
                             now: datetime | None = None) -> Reply[ApplicationView]:
    """A draft application of the actor's vendor to a county or city bureau."""
    now = now or utcnow()
    return await run_once(db, idempotency, lambda session: _create(session, actor, data, now))


async def edit_application(db: Database, actor: Actor, application_id: UUID, changes: ApplicationChanges,
                           version: int | None, *, now: datetime | None = None) -> ApplicationView:
    """Change the listing of a draft or returned application (the region: drafts only)."""
    now = now or utcnow()
    async with db.transaction() as session:
        ctx = await _load_visible(session, actor, application_id, lock=True)
        app = ctx.application
        _check_version(app, version)
        if RoleTag.VENDOR not in _tags(actor, ctx):
            raise Forbidden("只有申请机构本身可以修改申请", code="not_applicant")
        if app.stage not in EDITABLE_STAGES:
            raise Conflict("只有草稿或被退回修改的申请可以修改", code="not_editable")
        problems = []
        region_changes = changes.region_code is not None and changes.region_code != app.region_code
        if region_changes:
            if app.stage != EntryState.DRAFT:
                raise Conflict("申请提交后不能更改受理地区", code="region_locked",
                               details=[{"field": "region_code", "code": "region_locked",
                                         "message": "申请提交后不能更改受理地区"}])
            problems += _region_problems(changes.region_code)
        problems += await _listing_problems(session, ctx.vendor, changes.service_item_ids, changes.document_ids)
        raise_problems(problems)
        before = _listing_view(ctx)
        wanted = {"region_code": changes.region_code or app.region_code,
                  "service_item_ids": (before["service_item_ids"] if changes.service_item_ids is None
                                       else list(changes.service_item_ids)),
                  "document_ids": before["document_ids"] if changes.document_ids is None else changes.document_ids}
        if not diff(before, wanted):
            return await build_view(session, ctx, actor, now)  # nothing to change: no new version
        if region_changes:
            app.region_code = changes.region_code
            app.workflow = workflow_for((await effective_settings(session, app.region_code)).city_review_required)
        await _set_listing(session, app.id, changes.service_item_ids, changes.document_ids)
        _bump(app, now)
        session.add(app)
        await session.flush()
        ctx = await _context(session, app)
        await record_event(session, actor, "applications:application:edit", "application", app.id,
                           region_code=app.region_code,
                           changes=diff(before, _listing_view(ctx)) | {"version": {"before": app.version - 1,
                                                                                  "after": app.version}})
        return await build_view(session, ctx, actor, now)


# ---------------------------------------------------------------------- objections


def _require_reason(reason: str | None) -> str:
    return clean_reason(reason, required=True, limit=REASON_LIMIT) or ""


def _sees_objectors(actor: Actor) -> bool:
    return actor.role in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


async def _file_objection(session: AsyncSession, actor: Actor, application_id: UUID, reason: str | None,
                          now: datetime) -> ObjectionResult:
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
    if application.stage == EntryState.PUBLIC_NOTICE and now >= application.notice_ends_at:
        raise Conflict("公示期已结束，不能再提出异议", code="notice_closed")
    objection = Objection(application_id=application.id, filed_by=actor.account_id, reason=reason,
                          status="open", filed_at=now)
    session.add(objection)
    await session.flush()
    ctx.open_objections.append(objection)
    await record_event(session, actor, "applications:objection:file", "objection", objection.id,
                       region_code=application.region_code, reason=reason,
                       changes={"application_id": {"before": None, "after": application.id},
                                "status": {"before": None, "after": "open"}})
    if application.stage == EntryState.PUBLIC_NOTICE:
        await _apply(session, ctx, Actor.system(), SYSTEM_TAGS, EntryAction.PAUSE_FOR_OBJECTION, PAUSE_REASON, now)
    else:
        _bump(application, now)
        session.add(application)
    await session.flush()
    return ObjectionResult(objection, application.stage, application.version, _sees_objectors(actor))


async def file_objection(db: Database, actor: Actor, application_id: UUID, reason: str | None, *,
                         idempotency: Idempotency | None = None,
                         now: datetime | None = None) -> Reply[ObjectionResult]:
    """Anyone signed in may object during the notice; the notice pauses until resolved."""
    now = now or utcnow()
    await conclude_due_notices(db, now, application_id=application_id)
    return await run_once(db, idempotency,
                          lambda session: _file_objection(session, actor, application_id, reason, now))


async def _resolve_objection(session: AsyncSession, actor: Actor, objection_id: UUID, outcome: str,
                             reason: str | None, version: int | None, now: datetime) -> ObjectionResult:
    if outcome not in ("upheld", "dismissed"):
        raise InvalidInput.field("outcome", "invalid_outcome", "处理结果须为 upheld（异议成立）或 dismissed（异议不成立）")
    reason = clean_reason(reason, limit=REASON_LIMIT)
    found = await session.get(Objection, objection_id)
    not_found = NotFound("未找到该异议", code="objection_not_found")
    if found is None:
        raise not_found
    application = await _lock(session, found.application_id)
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
        await record_event(session, actor, "applications:objection:dismiss", "objection", objection.id,
                           region_code=application.region_code, reason=reason,
                           changes=resolution | {"status": {"before": "open", "after": "dismissed"},
                                                 "open_objections": len(still_open)})
    else:
        await _apply(session, ctx, actor, tags, action, reason, now, changes=resolution)
    await session.flush()
    return ObjectionResult(objection, application.stage, application.version, _sees_objectors(actor))


async def resolve_objection(db: Database, actor: Actor, objection_id: UUID, *, outcome: str,
                            reason: str | None, version: int | None, idempotency: Idempotency | None = None,
                            now: datetime | None = None) -> Reply[ObjectionResult]:
    """Upheld: back to the deciding review. Dismissed: the notice resumes once no
    objection is open, for the time it had left."""
    now = now or utcnow()
    return await run_once(db, idempotency, lambda session: _resolve_objection(
        session, actor, objection_id, outcome, reason, version, now))


# ------------------------------------------------------------ the end of the notice


class NoticeConclusionFailed(Exception):
    """A round of the notice job could not conclude some applications (it concluded
    the others): the round fails, and the job's runner logs it and tries again."""

    def __init__(self, concluded: int, failed: Sequence[UUID]) -> None:
        super().__init__(f"{len(failed)} notice conclusion(s) failed: {', '.join(map(str, failed))}")
        self.concluded = concluded
        self.failed = list(failed)


async def conclude_due_notices(db: Database, now: datetime | None = None, *,
                               application_id: UUID | None = None) -> int:
    """Admit every application whose public notice is over with no objection open.

    One transaction per application. The periodic job takes rows with `FOR UPDATE SKIP
    LOCKED`, so several workers share the work without waiting on each other; reads call
    it for the one application they show (waiting for its lock, so what they show is
    final). The stage change takes effect at the notice's end, whenever it is recorded.
    Returns how many were concluded. An application that fails to conclude does not
    hold up the others of the round; the round then raises `NoticeConclusionFailed`
    (for a read, the error itself).
    """
    now = now or utcnow()
    concluded, failed = 0, {}
    while True:
        current = None
        try:
            async with db.transaction() as session:
                query = select(Application).where(Application.stage == EntryState.PUBLIC_NOTICE,
                                                  col(Application.notice_ends_at) <= now)
                if application_id is not None:
                    query = query.where(Application.id == application_id).with_for_update()
                else:
                    if failed:
                        query = query.where(col(Application.id).not_in(list(failed)))
                    query = (query.order_by(col(Application.notice_ends_at), col(Application.id)).limit(1)
                             .with_for_update(skip_locked=True))
                application = (await session.exec(query.execution_options(populate_existing=True))).first()
                if application is None:
                    break
                current = application.id
                await _conclude_if_due(session, await _context(session, application), now)
            concluded += 1
        except Exception as error:
            if current is None or application_id is not None:
                raise
            log.error("notice_conclusion_failed", application_id=str(current), error_type=type(error).__name__,
                      exc_info=error)
            failed[current] = error
        if application_id is not None:
            break
    if failed:
        raise NoticeConclusionFailed(concluded, list(failed)) from next(iter(failed.values()))
    return concluded


# ------------------------------------------------------------------------ reads


async def build_view(session: AsyncSession, ctx: Context, actor: Actor, now: datetime) -> ApplicationView:
    app = ctx.application
    changes = (await session.exec(select(StageChange).where(StageChange.application_id == app.id)
                                  .order_by(col(StageChange.id)))).all()
    names = await account_names(session, [c.actor_account_id for c in changes])
    objections = (await session.exec(select(Objection).where(Objection.application_id == app.id)
                                     .order_by(col(Objection.filed_at), col(Objection.id)))).all()
    tags = _tags(actor, ctx)
    facts = await _facts(session, ctx, actor, now, None)
    return ApplicationView(
        application=app, vendor=ctx.vendor, items=list(ctx.items),
        documents=[DocumentRef(d, document_status(d.valid_from, d.valid_until, now)) for d in ctx.documents],
        history=[HistoryEntry(c, names.get(c.actor_account_id)) for c in changes],
        objections=list(objections), show_objectors=_sees_objectors(actor),
        allowed_actions=_allowed(ctx.workflow, app.stage, tags, facts),
        checks=_guard_details(facts),
        whitelist_entries=await entries_of_application(session, app.id),
        now=now,
    )


async def get_application(db: Database, actor: Actor, application_id: UUID, *,
                          now: datetime | None = None) -> ApplicationView:
    """The detail view; a notice that has run out is concluded first, so the answer is
    never stale for want of the job."""
    now = now or utcnow()
    await conclude_due_notices(db, now, application_id=application_id)
    async with db.transaction() as session:
        ctx = await _load_visible(session, actor, application_id, lock=False)
        return await build_view(session, ctx, actor, now)
