"""Vendor pages: the applications — drafts and their stage, a new draft, one
application with its timeline and the actions the workflow table allows, the letter.

Every call is the applications front door's, as the API makes it."""

from __future__ import annotations

from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from service.applications import ApplicationInput, create_application, get_application, list_applications, transition
from service.console import format as fmt
from service.console.reviewer_pages import action_forms
from service.console.timeline import timeline
from service.console.vendor_forms import Form, crumbs, form_errors, form_text, region_groups, vendor_or_register
from service.console.web import current_user, page, render
from service.documents import list_documents
from service.errors import Conflict, DomainError
from service.printing import application_letter
from service.printing import render as render_pdf
from service.security import Role
from service.service_items import list_service_items
from service.web.deps import DB
from service.web.files import pdf_response
from workflows.entry_review import STATE_LABELS


async def _applications_page(request: Request, db, *, status_code: int = 200, errors=None) -> Response:
    actor = current_user(request).actor
    vendor = await vendor_or_register(request, db)
    found = await list_applications(db, actor, limit=100)
    return render(
        request,
        "vendor/applications.html",
        status_code=status_code,
        title="入校申请",
        vendor=vendor,
        rows=found.items,
        labels=STATE_LABELS,
        errors=errors or {},
        items=await list_service_items(db, actor, vendor.id),
        documents=await list_documents(db, actor, vendor.id),
        region_groups=region_groups(),
        crumbs=crumbs("入校申请"),
    )


@get("/vendor/applications", **page(Role.VENDOR))
async def my_applications(request: Request, db: DB) -> Response:
    return await _applications_page(request, db)


@post("/vendor/applications", status_code=200, **page(Role.VENDOR))
async def new_application(request: Request, db: DB) -> Response:
    """A draft: to a county or city bureau, with chosen items and documents."""
    vendor = await vendor_or_register(request, db)
    form = await request.form()
    try:
        ids = {name: [UUID(v) for v in form.getall(name, [])] for name in ("service_item_ids", "document_ids")}
        reply = await create_application(
            db,
            current_user(request).actor,
            ApplicationInput(vendor_id=vendor.id, region_code=str(form.get("region_code") or ""), **ids),
        )
    except ValueError:
        return await _applications_page(request, db, status_code=422, errors={"summary": "请从列表中选择"})
    except DomainError as error:
        return await _applications_page(request, db, status_code=error.status_code, errors=form_errors(error))
    assert reply.value is not None  # no idempotency key here, so never a replay
    return Redirect(f"/vendor/applications/{reply.value.application.id}", status_code=303)


async def _application_page(
    request: Request, db, application_id: UUID, *, status_code: int = 200, message: str | None = None
) -> Response:
    view = await get_application(db, current_user(request).actor, application_id)
    return render(
        request,
        "vendor/application.html",
        status_code=status_code,
        title="入校申请",
        view=view,
        app=view.application,
        timeline=timeline(view),
        actions=action_forms(view),
        labels=STATE_LABELS,
        message=message,
        crumbs=crumbs("入校申请", fmt.region_name(view.application.region_code)),
    )


@get("/vendor/applications/{application_id:uuid}", **page(Role.VENDOR))
async def application_detail(request: Request, db: DB, application_id: FromPath[UUID]) -> Response:
    return await _application_page(request, db, application_id)


@post("/vendor/applications/{application_id:uuid}/act", status_code=200, **page(Role.VENDOR))
async def act(request: Request, db: DB, application_id: FromPath[UUID], data: Form) -> Response:
    """Submit, resubmit or withdraw, based on the version the vendor saw."""
    try:
        version = int(form_text(data, "version")) if form_text(data, "version").isdigit() else None
        await transition(
            db,
            current_user(request).actor,
            application_id,
            action=form_text(data, "action"),
            reason=form_text(data, "reason") or None,
            version=version,
        )
    except Conflict as error:
        text = (
            "该申请已有变化，请查看最新状态"
            if error.code in ("version_conflict", "transition_not_allowed")
            else error.message
        )
        return await _application_page(request, db, application_id, status_code=409, message=text)
    except DomainError as error:
        if error.status_code == 404:
            raise
        return await _application_page(
            request, db, application_id, status_code=error.status_code, message=error.message
        )
    return Redirect(f"/vendor/applications/{application_id}", status_code=303)


@get("/vendor/applications/{application_id:uuid}/letter.pdf", **page(Role.VENDOR, Role.REVIEWER))
async def letter(request: Request, db: DB, application_id: FromPath[UUID]) -> Response:
    """The letter of the latest decision (the same document as the API's)."""
    job = await application_letter(db, current_user(request).actor, application_id)
    return pdf_response(await render_pdf(job), "letter.pdf")


ROUTES = [
    my_applications,
    new_application,
    application_detail,
    act,
    letter,
]
