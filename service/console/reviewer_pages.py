"""Reviewer pages: the work queue, an application with its allowed actions, files.

Every list and every decision goes through the applications front door, exactly as
the API does; the buttons are the actions the service says are allowed now (read
from the workflow table), never a list of the template's own."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from schemas.text import MultilineText, Text
from service.applications import (
    REVIEW_STAGES,
    STAGE_TARGET_DAYS,
    WORKFLOWS,
    ApplicationView,
    count_waiting_for,
    get_application,
    list_applications,
    resolve_objection,
    table_actions_for,
    transition,
)
from service.console.timeline import timeline
from service.console.web import current_user, page, render
from service.documents import read_document_file
from service.errors import Conflict, DomainError, InvalidInput, NotFound
from service.personnel import vendor_roster
from service.regions import regions
from service.reminders import my_reminders
from service.security import Actor, Role
from service.service_items import CATEGORIES
from service.web.deps import DB, Storage
from service.web.files import file_response
from service.web.params import QueryText
from workflows.entry_review import STATE_LABELS

# Form values may be multi-line (a reason typed in a textarea); every one follows the text rule.
Form = Annotated[dict[Text, MultilineText], Body(media_type=RequestEncodingType.URL_ENCODED)]
READERS = (Role.REVIEWER, Role.ADMIN)
CONFLICT_TEXT = "该申请已由其他审核员处理，请查看最新状态"
PAGE_SIZE = 20


def region_choices(actor: Actor) -> list[tuple[str, str]]:
    """The actor's region and those under it, for a filter (admins: the province)."""
    top = actor.region_code or "360000"
    return [(code, info.name) for code in regions().descendants(top) if (info := regions().get(code))]


def _int_or_none(value: str | None, field: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput.field(field, "invalid_number", "请选择列表中的选项")
    return int(value)


async def queue_count(db, actor: Actor) -> int:
    """The menu's 待办 count: the files in review stages waiting for this reviewer (办理),
    not those another level must act on (查看)."""
    return await count_waiting_for(db, actor, stages=REVIEW_STAGES)


async def _queue_page(
    request: Request, db, *, todo: bool, stage: str | None, region: str | None, category: str | None, cursor: str | None
) -> Response:
    actor = current_user(request).actor
    filters = {"stage": stage or "", "region": region or "", "category": category or ""}
    errors: dict[str, str] = {}
    rows, total, next_cursor = [], 0, None
    try:
        stages = [stage] if stage else (list(REVIEW_STAGES) if todo else None)
        found = await list_applications(
            db,
            actor,
            stages=stages,
            region_code=region or None,
            category=_int_or_none(category, "category"),
            cursor=cursor or None,
            limit=PAGE_SIZE,
            with_total=True,
        )
        rows, total, next_cursor = found.items, found.total or 0, found.next_cursor  # with_total: always a count
    except InvalidInput as error:
        errors = {d["field"]: d["message"] for d in error.details}
    # 办理 where the table gives this reviewer an action now, 查看 where another level's turn is.
    mine = {
        row.application.id
        for row in rows
        if table_actions_for(
            actor, row.application.workflow, row.application.stage, row.application.region_code, row.vendor.credit_code
        )
    }
    base = "/reviewer" if todo else "/reviewer/applications"
    stage_choices = [(s, STATE_LABELS[s]) for s in (REVIEW_STAGES if todo else STATE_LABELS)]
    return render(
        request,
        "reviewer/queue.html",
        title="待办" if todo else "入校申请",
        rows=rows,
        mine=mine,
        total=total,
        next_cursor=next_cursor,
        filters=filters,
        errors=errors,
        base=base,
        todo=todo,
        stage_choices=stage_choices,
        region_choices=region_choices(actor),
        categories=sorted(CATEGORIES.items()),
        targets=STAGE_TARGET_DAYS,
        labels=STATE_LABELS,
        counts={"/reviewer": await queue_count(db, actor)},
        reminders=await my_reminders(db, actor) if todo else [],
        crumbs=[{"text": "审核"}, {"text": "待办" if todo else "入校申请"}],
    )


@get("/reviewer", **page(*READERS))
async def todo(
    request: Request,
    db: DB,
    stage: QueryText = None,
    region: QueryText = None,
    category: QueryText = None,
    cursor: QueryText = None,
) -> Response:
    """待办: applications waiting for a reviewer, the longest-waiting first."""
    return await _queue_page(request, db, todo=True, stage=stage, region=region, category=category, cursor=cursor)


@get("/reviewer/applications", **page(*READERS))
async def all_applications(
    request: Request,
    db: DB,
    stage: QueryText = None,
    region: QueryText = None,
    category: QueryText = None,
    cursor: QueryText = None,
) -> Response:
    """入校申请: every submitted application in scope, in any stage."""
    return await _queue_page(request, db, todo=False, stage=stage, region=region, category=category, cursor=cursor)


def action_forms(view: ApplicationView) -> list[dict]:
    """One form per allowed action, with whether the table requires a reason."""
    workflow = WORKFLOWS[view.application.workflow]
    rows = {t.action: t for t in workflow.transitions if t.source == view.application.stage}
    return [
        {
            "action": action,
            "label": workflow.action_label(action),
            "reason_required": rows[action].requires_reason if action in rows else False,
            "danger": action in ("reject", "return"),
        }
        for action in view.allowed_actions
    ]


async def application_page(
    request: Request,
    db,
    application_id: UUID,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict | None = None,
    reason: str = "",
    tried: str | None = None,
) -> Response:
    user = current_user(request)
    view = await get_application(db, user.actor, application_id)
    try:
        roster = await vendor_roster(db, user.actor, view.vendor.id)
    except NotFound:  # the application is in scope, the vendor's registration region is not
        roster = None
    named = {p for item in view.items for p in item.personnel_ids}
    return render(
        request,
        "reviewer/application.html",
        status_code=status_code,
        title=view.vendor.name,
        view=view,
        app=view.application,
        roster=roster,
        named=named,
        timeline=timeline(view),
        actions=action_forms(view),
        stage_label=STATE_LABELS.get(view.application.stage, view.application.stage),
        message=message,
        errors=errors or {},
        reason=reason,
        tried=tried,
        labels=STATE_LABELS,
        counts={"/reviewer": await queue_count(db, user.actor)} if user.actor.role is Role.REVIEWER else {},
        crumbs=[{"text": "审核"}, {"text": "入校申请", "href": "/reviewer/applications"}, {"text": view.vendor.name}],
    )


@get("/reviewer/applications/{application_id:uuid}", **page(*READERS))
async def application_detail(request: Request, db: DB, application_id: FromPath[UUID]) -> Response:
    return await application_page(request, db, application_id)


@post("/reviewer/applications/{application_id:uuid}/act", status_code=200, **page(Role.REVIEWER))
async def act(request: Request, db: DB, application_id: FromPath[UUID], data: Form) -> Response:
    """Take one workflow action based on the version the reviewer saw."""
    actor = current_user(request).actor
    action, reason = data.get("action", ""), data.get("reason", "")
    try:
        version = _int_or_none(data.get("version"), "version")
        await transition(db, actor, application_id, action=action, reason=reason or None, version=version)
    except Conflict as error:
        text = CONFLICT_TEXT if error.code in ("version_conflict", "transition_not_allowed") else error.message
        return await application_page(
            request, db, application_id, status_code=409, message=text, reason=reason, tried=action
        )
    except InvalidInput as error:
        return await application_page(
            request,
            db,
            application_id,
            status_code=422,
            message=error.message,
            errors={d["field"]: d["message"] for d in error.details},
            reason=reason,
            tried=action,
        )
    except DomainError as error:
        if error.status_code == 404:
            raise
        return await application_page(
            request,
            db,
            application_id,
            status_code=error.status_code,
            message=error.message,
            reason=reason,
            tried=action,
        )
    return Redirect(f"/reviewer/applications/{application_id}?done={action}", status_code=303)


@post(
    "/reviewer/applications/{application_id:uuid}/objections/{objection_id:uuid}",
    status_code=200,
    **page(Role.REVIEWER),
)
async def resolve(
    request: Request, db: DB, application_id: FromPath[UUID], objection_id: FromPath[UUID], data: Form
) -> Response:
    """Decide one objection (异议成立 / 不成立) with a reason, as the API's resolution does."""
    actor = current_user(request).actor
    outcome, reason = data.get("outcome", ""), data.get("reason", "")
    tried = f"objection-{objection_id}"
    try:
        version = _int_or_none(data.get("version"), "version")
        await resolve_objection(db, actor, objection_id, outcome=outcome, reason=reason or None, version=version)
    except Conflict as error:
        text = CONFLICT_TEXT if error.code == "version_conflict" else error.message
        return await application_page(
            request, db, application_id, status_code=409, message=text, reason=reason, tried=tried
        )
    except DomainError as error:
        if error.status_code == 404:
            raise
        return await application_page(
            request,
            db,
            application_id,
            status_code=error.status_code,
            message=error.message,
            errors=_field_errors(error),
            reason=reason,
            tried=tried,
        )
    return Redirect(f"/reviewer/applications/{application_id}?done=objection", status_code=303)


def _field_errors(error: DomainError) -> dict[str, str]:
    return {d["field"]: d["message"] for d in error.details if d.get("field")}


ROUTES = [todo, all_applications, application_detail, act, resolve]


@get(
    "/files/vendors/{vendor_id:uuid}/documents/{document_id:uuid}",
    **page(Role.REVIEWER, Role.VENDOR, Role.AUDITOR, Role.ADMIN),
)
async def document_file(
    request: Request, db: DB, storage: Storage, vendor_id: FromPath[UUID], document_id: FromPath[UUID]
) -> Response:
    """A qualification document, opened in the browser (same scope rule as the API)."""
    document, content = await read_document_file(db, storage, current_user(request).actor, vendor_id, document_id)
    return file_response(
        content, filename=document.filename, content_type=document.content_type, sha256=document.sha256, inline=True
    )


ROUTES.append(document_file)
