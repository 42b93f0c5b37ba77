"""Entry applications: drafting, editing, the workflow transitions, objections during
the public notice, and the detail read. Beside it: `context` (what a use case loads),
`facts` (what the engine decides on), `effects` (what a transition does), `notices`
(the end of the notice), `view` (the application as a reader sees it).

Every change follows one pattern: lock the application row (`FOR UPDATE`), compare the
version the request was based on, gather the facts, ask the workflow engine
(`workflows.decide`), change the stage and bump the version, run the row's named
effects, append the stage-history row and one audit event — all in one transaction.
POSTs run through `service.idempotency.services.run_once`, so a retried request with
the same `Idempotency-Key` gets the first answer and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from service.applications.context import (
    Context,
    _context,
    _load_visible,
    _tags,
)
from service.applications.effects import _apply, _conclude_if_due
from service.applications.facts import _allowed, _bump, _check_not_banned, _check_not_suspended, _check_version, _facts
from service.applications.models import (
    Application,
    ApplicationDocument,
    ApplicationItem,
)
from service.applications.notices import conclude_due_notices
from service.applications.rules import (
    ALL_ACTIONS,
    APPLICATION_LEVELS,
    DIRECT_ACTIONS,
    EDITABLE_STAGES,
    REASON_LIMIT,
    application_number,
    is_review_action,
    workflow_for,
)
from service.applications.view import ApplicationView, build_view
from service.audit import diff, record_event
from service.db import Database
from service.documents import documents_by_ids
from service.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    problem,
    raise_problems,
)
from service.idempotency import Idempotency, Reply, run_once
from service.numbering import next_number
from service.reason import clean_reason
from service.region_settings import effective_settings
from service.regions import regions
from service.security import Actor, Role
from service.service_items import items_by_ids
from service.timeutil import CHINA_TZ, utcnow
from service.vendors import Vendor, load_visible_vendor
from workflows.entry_review import EntryAction, EntryState
from workflows.roles import RoleTag

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


# -------------------------------------------------------------------- transitions


async def _transition(
    session: AsyncSession,
    actor: Actor,
    application_id: UUID,
    action: str,
    reason: str | None,
    version: int | None,
    now: datetime,
) -> ApplicationView:
    if action not in ALL_ACTIONS:
        raise InvalidInput.field("action", "unknown_action", "未知的操作：" + ", ".join(sorted(DIRECT_ACTIONS)))
    reason = clean_reason(reason, limit=REASON_LIMIT)
    ctx = await _load_visible(session, actor, application_id, lock=True)
    _check_version(ctx.application, version)
    tags = _tags(actor, ctx)
    workflow, stage = ctx.workflow, ctx.application.stage
    if actor.role is Role.VENDOR and is_review_action(workflow, action):
        raise Forbidden("机构账号不能参与审核", code="vendor_cannot_review")
    if (
        action in (EntryAction.SUBMIT, EntryAction.RESUBMIT) and RoleTag.VENDOR in tags
    ) or action == EntryAction.APPROVE:
        # Approval too: a ban or a suspension that came while the application was under
        # review holds it as it would have held the submission.
        await _check_not_banned(session, ctx.application.vendor_id, ctx.application.region_code, now)
        await _check_not_suspended(session, ctx, now)
    if action not in DIRECT_ACTIONS:
        facts = await _facts(session, ctx, actor, now, reason)
        message = (
            "公示期满由系统自动纳入白名单，无需人工操作"
            if action == EntryAction.CONCLUDE_NOTICE
            else "异议通过 POST /api/v1/applications/{id}/objections 提出，通过 POST /api/v1/objections/{id}/resolution 处理"
        )
        raise Conflict(
            message,
            code="transition_not_allowed",
            details=[
                {
                    "field": "action",
                    "code": "transition_not_allowed",
                    "message": message,
                    "stage": stage,
                    "allowed_actions": _allowed(workflow, stage, tags, facts),
                }
            ],
        )
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
    return await run_once(
        db, idempotency, lambda session: _transition(session, actor, application_id, action, reason, version, now)
    )


# ------------------------------------------------------------ create and edit


def _region_problems(region_code: str) -> list[dict]:
    region = regions().get(region_code)
    if region is None:
        return [
            {"field": "region_code", "code": "unknown_region", "message": "行政区划代码不存在或不在本系统服务范围内"}
        ]
    if region.level not in APPLICATION_LEVELS:
        return [
            {
                "field": "region_code",
                "code": "invalid_application_region",
                "message": "入驻申请须向县（市、区）或设区市教育部门提出",
            }
        ]
    return []


async def _listing_problems(
    session: AsyncSession, vendor: Vendor, item_ids: list[UUID] | None, document_ids: list[UUID] | None
) -> list[dict]:
    problems: list[dict] = []
    if item_ids is not None:
        if not item_ids:
            problems.append(
                {"field": "service_item_ids", "code": "service_items_required", "message": "至少列出一个服务项目"}
            )
        problems += _owned_by_vendor(
            item_ids,
            await items_by_ids(session, item_ids),
            vendor,
            "service_item_ids",
            ("duplicate_service_item", "服务项目重复"),
            ("service_item_not_of_vendor", "该服务项目不存在或不属于本机构"),
        )
    if document_ids is not None:
        problems += _owned_by_vendor(
            document_ids,
            await documents_by_ids(session, document_ids),
            vendor,
            "document_ids",
            ("duplicate_document", "资质材料重复"),
            ("document_not_of_vendor", "该资质材料不存在或不属于本机构"),
        )
    return problems


def _owned_by_vendor(
    ids: list[UUID], found: dict, vendor: Vendor, field: str, duplicate: tuple[str, str], foreign: tuple[str, str]
) -> list[dict]:
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


async def _set_listing(
    session: AsyncSession, application_id: UUID, item_ids: list[UUID] | None, document_ids: list[UUID] | None
) -> None:
    if item_ids is not None:
        await session.exec(delete(ApplicationItem).where(col(ApplicationItem.application_id) == application_id))
        session.add_all(
            [
                ApplicationItem(application_id=application_id, service_item_id=item_id, position=index)
                for index, item_id in enumerate(item_ids)
            ]
        )
    if document_ids is not None:
        await session.exec(delete(ApplicationDocument).where(col(ApplicationDocument.application_id) == application_id))
        session.add_all(
            [
                ApplicationDocument(application_id=application_id, document_id=document_id)
                for document_id in document_ids
            ]
        )
    await session.flush()


def _listing_view(ctx: Context) -> dict[str, Any]:
    return {
        "region_code": ctx.application.region_code,
        "service_item_ids": [i.id for i in ctx.items],
        "document_ids": [d.id for d in ctx.documents],
    }


async def _create(session: AsyncSession, actor: Actor, data: ApplicationInput, now: datetime) -> ApplicationView:
    vendor = await load_visible_vendor(session, actor, data.vendor_id)
    item_ids, document_ids = list(data.service_item_ids), list(data.document_ids)
    raise_problems(
        _region_problems(data.region_code) + await _listing_problems(session, vendor, item_ids, document_ids)
    )
    await _check_not_banned(session, vendor.id, data.region_code, now)
    settings = await effective_settings(session, data.region_code)
    year = now.astimezone(CHINA_TZ).year
    seq = await next_number(session, "application", data.region_code, year)
    application = Application(
        number=application_number(data.region_code, year, seq),
        vendor_id=vendor.id,
        region_code=data.region_code,
        stage=EntryState.DRAFT,
        workflow=workflow_for(settings.city_review_required),
        version=1,
        stage_entered_at=now,
        created_at=now,
        updated_at=now,
        created_by=actor.account_id,
    )
    session.add(application)
    await session.flush()
    await _set_listing(session, application.id, item_ids, document_ids)
    ctx = await _context(session, application)
    await record_event(
        session,
        actor,
        "applications:application:create",
        "application",
        application.id,
        region_code=application.region_code,
        changes=diff(
            None,
            {
                **_listing_view(ctx),
                "number": application.number,
                "vendor_id": vendor.id,
                "stage": application.stage,
                "workflow": application.workflow,
            },
        ),
    )
    return await build_view(session, ctx, actor, now)


async def create_application(
    db: Database,
    actor: Actor,
    data: ApplicationInput,
    *,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[ApplicationView]:
    """A draft application of the actor's vendor to a county or city bureau."""
    now = now or utcnow()
    return await run_once(db, idempotency, lambda session: _create(session, actor, data, now))


async def edit_application(
    db: Database,
    actor: Actor,
    application_id: UUID,
    changes: ApplicationChanges,
    version: int | None,
    *,
    now: datetime | None = None,
) -> ApplicationView:
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
        # The new region, when the change names one other than the application's.
        new_region = changes.region_code if changes.region_code not in (None, app.region_code) else None
        if new_region is not None:
            if app.stage != EntryState.DRAFT:
                raise Conflict(
                    "申请提交后不能更改受理地区",
                    code="region_locked",
                    details=[
                        {"field": "region_code", "code": "region_locked", "message": "申请提交后不能更改受理地区"}
                    ],
                )
            problems += _region_problems(new_region)
        problems += await _listing_problems(session, ctx.vendor, changes.service_item_ids, changes.document_ids)
        raise_problems(problems)
        before = _listing_view(ctx)
        wanted = {
            "region_code": changes.region_code or app.region_code,
            "service_item_ids": (
                before["service_item_ids"] if changes.service_item_ids is None else list(changes.service_item_ids)
            ),
            "document_ids": before["document_ids"] if changes.document_ids is None else changes.document_ids,
        }
        if not diff(before, wanted):
            return await build_view(session, ctx, actor, now)  # nothing to change: no new version
        if new_region is not None:
            app.region_code = new_region
            app.workflow = workflow_for((await effective_settings(session, app.region_code)).city_review_required)
        await _set_listing(session, app.id, changes.service_item_ids, changes.document_ids)
        _bump(app, now)
        session.add(app)
        await session.flush()
        ctx = await _context(session, app)
        await record_event(
            session,
            actor,
            "applications:application:edit",
            "application",
            app.id,
            region_code=app.region_code,
            changes=diff(before, _listing_view(ctx)) | {"version": {"before": app.version - 1, "after": app.version}},
        )
        return await build_view(session, ctx, actor, now)


# ------------------------------------------------------------------------ reads


async def get_application(
    db: Database, actor: Actor, application_id: UUID, *, now: datetime | None = None
) -> ApplicationView:
    """The detail view; a notice that has run out is concluded first, so the answer is
    never stale for want of the job."""
    now = now or utcnow()
    await conclude_due_notices(db, now, application_id=application_id)
    async with db.transaction() as session:
        ctx = await _load_visible(session, actor, application_id, lock=False)
        return await build_view(session, ctx, actor, now)
