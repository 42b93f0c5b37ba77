"""Complaint pages: a parent's public form and case lookup (no sign-in), and the
reviewer's list and case page.

Every step goes through the complaints front door, exactly as the API does: the public
form is `file_public_complaint` (its validation, its rate limit per address and per
school), the lookup is `public_status` (state and category only), and the case page's
buttons are the actions the service says are allowed now (read from workflows/complaint.py).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from schemas.complaints import PublicComplaintCreated
from schemas.text import MultilineText, Text
from service import complaints
from service.console.reviewer_pages import region_choices
from service.console.web import current_user, page, public_page, render
from service.errors import Conflict, DomainError, InvalidInput, NotFound, TooManyRequests
from service.idempotency import Idempotency
from service.security import Role
from service.timeutil import utcnow
from service.web.deps import DB, AppSettings, Keys, Storage
from service.web.files import file_response
from service.web.idempotency import encode_json, public_idempotency_key
from service.web.params import PathText, QueryText
from workflows.complaint import COMPLAINT, OPEN_STATES

Form = Annotated[dict[Text, MultilineText], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[Text, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
FILE_CHECK_CODES = ("unsupported_file_type", "file_too_large")
CONTACT_LIMIT = 100
CONTACT_PREFIX = "\n\n联系方式（投诉人自愿留下）："
CONFLICT_TEXT = "该投诉已由其他审核员处理，请查看最新状态"
DAMAGED = {"summary": "表单不完整或已损坏，请核对内容后再次点击“提交投诉”"}
RESENT = {"summary": "这份表单此前已提交过一件投诉。如要再投诉另一件事，请核对内容后再次点击“提交投诉”"}
STAFF = (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
SOURCE_LABELS = {"public": "家长（公开表单）", "school": "学校", "vendor": "机构", "auditor": "责任督学"}
SUSPEND_LABELS = {"item": "暂停该服务项目", "vendor": "暂停该机构全部项目"}


def _errors(error: InvalidInput) -> dict[str, str]:
    return {d["field"] or "summary": d["message"] for d in error.details} or {"summary": error.message}


# ------------------------------------------------------------- the public form


async def _form_page(
    request: Request,
    db,
    school_code: str,
    *,
    status_code: int = 200,
    form: dict | None = None,
    errors: dict | None = None,
    limited: str | None = None,
    submission: str | None = None,
) -> Response:
    school = await complaints.public_form_school(db, school_code)
    return render(
        request,
        "public/complaint_form.html",
        status_code=status_code,
        title=f"{school.name} 课后服务投诉",
        school=school,
        form=form or {},
        submission=submission or new_submission_key(),
        errors=errors or {},
        limited=limited,
        categories=list(complaints.CATEGORIES.items()),
        limit=complaints.DESCRIPTION_LIMIT,
        contact_limit=CONTACT_LIMIT,
    )


def new_submission_key() -> str:
    """The form's one-time key (its idempotency key, 32 characters): the same form sent
    twice (a double click, the back button) files one complaint."""
    return secrets.token_urlsafe(24)


def filed_href(case_code: str) -> str:
    return f"/public/complaints?code={case_code}&filed=1"


@get("/public/schools/{school_code:str}/complaint", **public_page())
async def complaint_form(request: Request, db: DB, school_code: PathText) -> Response:
    """投诉 (no sign-in): a category, what happened, and an optional way to reach the parent."""
    return await _form_page(request, db, school_code)


def _description(form: dict) -> str:
    """The text the bureau reads: the parent's contact, when given, is kept with it (shown
    only to the bureau in scope, like the text itself; never on the public status)."""
    text, contact = form.get("description", "").strip(), form.get("contact", "").strip()
    return text + CONTACT_PREFIX + contact if text and contact else text


@post("/public/schools/{school_code:str}/complaint", status_code=200, **public_page())
async def complaint_submit(request: Request, db: DB, keyring: Keys, school_code: PathText, data: Form) -> Response:
    """File the complaint once per form (its hidden one-time key), then redirect to the
    case code (Post/Redirect/Get): a refresh or a second click shows the same case."""
    form = {k: data.get(k, "") for k in ("category", "description", "contact")}
    submission = data.get("submission") or None
    if len(form["contact"].strip()) > CONTACT_LIMIT:
        return await _form_page(
            request,
            db,
            school_code,
            status_code=422,
            form=form,
            errors={"contact": f"联系方式不能超过 {CONTACT_LIMIT} 个字符"},
            submission=submission,
        )
    try:
        key = public_idempotency_key(request, complaints.PUBLIC_SCOPE, submission, form)
        reply = await complaints.file_public_complaint(
            db,
            keyring,
            school_code,
            complaints.ComplaintInput(form["category"], _description(form)),
            client_address=request.client.host if request.client else None,
            idempotency=Idempotency(key, encode_json, 201),
        )
    except InvalidInput as error:
        if error.code == "idempotency_key_reused":  # this form was sent before with other content
            return await _form_page(request, db, school_code, status_code=422, form=form, errors=RESENT)
        if error.code == "invalid_idempotency_key":  # a damaged form: a fresh one, what was typed kept
            return await _form_page(request, db, school_code, status_code=422, form=form, errors=DAMAGED)
        return await _form_page(
            request, db, school_code, status_code=422, form=form, errors=_errors(error), submission=submission
        )
    except TooManyRequests as error:
        response = await _form_page(
            request, db, school_code, status_code=429, form=form, limited=error.message, submission=submission
        )
        response.headers.update(error.headers or {})
        return response
    created = reply.value or msgspec.json.decode(reply.body or b"", type=PublicComplaintCreated)
    return Redirect(filed_href(created.case_code), status_code=303)


@get("/public/complaints", **public_page())
async def complaint_lookup(request: Request, db: DB, code: QueryText = None, filed: QueryText = None) -> Response:
    """查询投诉进展: a case by its code — its state and category, nothing else; with
    `filed` (where the form redirects), the confirmation with the code in large type."""
    found, missing = None, False
    if code and code.strip():
        try:
            found = await complaints.public_status(db, code)
        except NotFound:
            missing = True
    if found is not None and filed:
        return render(
            request,
            "public/complaint_done.html",
            title="投诉已受理",
            case_code=found.case_code,
            state=found.state,
            state_label=found.state_label,
            lookup_href=f"/public/complaints?code={found.case_code}",
        )
    return render(
        request,
        "public/complaint_lookup.html",
        status_code=404 if missing else 200,
        title="查询投诉进展",
        code=(code or "").strip(),
        found=found,
        missing=missing,
    )


# ------------------------------------------------------------- the bureau's pages


def _age_days(view: complaints.ComplaintView, now) -> int:
    return (now - view.complaint.created_at).days


@get("/reviewer/complaints", **page(*STAFF))
async def complaint_list(request: Request, db: DB, status: QueryText = None, region: QueryText = None) -> Response:
    """投诉处理: the complaints about schools in scope, oldest first, by state."""
    actor = current_user(request).actor
    chosen = {"status": status or "", "region": region or ""}
    errors: dict[str, str] = {}
    views: list[complaints.ComplaintView] = []
    code = 200
    try:
        views = await complaints.list_complaints(db, actor, region_code=region or None, state=status or None)
    except InvalidInput as error:
        errors, code = _errors(error), 422
    now = utcnow()
    return render(
        request,
        "reviewer/complaints.html",
        status_code=code,
        title="投诉处理",
        chosen=chosen,
        errors=errors,
        rows=[(v, _age_days(v, now)) for v in views],
        states=[(s, COMPLAINT.state_label(s)) for s in COMPLAINT.states],
        region_choices=region_choices(actor),
        categories=complaints.CATEGORIES,
        crumbs=[{"text": "监管"}, {"text": "投诉处理"}],
    )


def _action_forms(view: complaints.ComplaintView) -> list[dict]:
    rows = {t.action: t for t in COMPLAINT.transitions if t.source == view.complaint.state}
    return [
        {
            "action": action,
            "label": COMPLAINT.action_label(action),
            "reason_required": rows[action].requires_reason if action in rows else False,
            "danger": action == "dismiss",
            "uphold": action == "uphold",
        }
        for action in view.allowed_actions
    ]


async def _case_page(
    request: Request,
    db,
    complaint_id: UUID,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict | None = None,
    reason: str = "",
    tried: str | None = None,
) -> Response:
    view = await complaints.get_complaint(db, current_user(request).actor, complaint_id)
    c = view.complaint
    return render(
        request,
        "reviewer/complaint.html",
        status_code=status_code,
        title=f"投诉 {c.case_code}",
        view=view,
        c=c,
        actions=_action_forms(view),
        category_label=complaints.CATEGORIES.get(c.category, c.category),
        source_label=SOURCE_LABELS.get(c.source, c.source),
        age_days=_age_days(view, utcnow()),
        suspend_labels=SUSPEND_LABELS,
        max_mb=request.app.state.settings.max_upload_bytes // (1024 * 1024),
        open_case=c.state in OPEN_STATES,
        message=message,
        errors=errors or {},
        reason=reason,
        tried=tried,
        crumbs=[{"text": "监管"}, {"text": "投诉处理", "href": "/reviewer/complaints"}, {"text": c.case_code}],
    )


@get("/reviewer/complaints/{complaint_id:uuid}", **page(*STAFF))
async def complaint_detail(request: Request, db: DB, complaint_id: FromPath[UUID]) -> Response:
    return await _case_page(request, db, complaint_id)


def _version(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput.field("version", "invalid_number", "版本号须为数字，请刷新页面后重试")
    return int(value)


@post("/reviewer/complaints/{complaint_id:uuid}/act", status_code=200, **page(Role.REVIEWER))
async def complaint_act(request: Request, db: DB, complaint_id: FromPath[UUID], data: Form) -> Response:
    """Take one workflow step based on the version the reviewer saw."""
    actor = current_user(request).actor
    action, reason = data.get("action", ""), data.get("reason", "")
    serious = data.get("serious") == "on"
    try:
        decision = complaints.Decision(
            action, reason or None, serious, (data.get("suspend") or None) if serious else None
        )
        await complaints.transition_complaint(db, actor, complaint_id, decision, version=_version(data.get("version")))
    except Conflict as error:
        text = CONFLICT_TEXT if error.code in ("version_conflict", "transition_not_allowed") else error.message
        return await _case_page(request, db, complaint_id, status_code=409, message=text, reason=reason, tried=action)
    except InvalidInput as error:
        return await _case_page(
            request,
            db,
            complaint_id,
            status_code=422,
            message=error.message,
            errors=_errors(error),
            reason=reason,
            tried=action,
        )
    except DomainError as error:
        if error.status_code == 404 or error.status_code >= 500:
            raise
        return await _case_page(
            request, db, complaint_id, status_code=error.status_code, message=error.message, reason=reason, tried=action
        )
    return Redirect(f"/reviewer/complaints/{complaint_id}?done={action}", status_code=303)


@post("/reviewer/complaints/{complaint_id:uuid}/evidence", status_code=200, **page(Role.REVIEWER))
async def complaint_evidence(
    request: Request, db: DB, storage: Storage, settings: AppSettings, complaint_id: FromPath[UUID], data: Multipart
) -> Response:
    """Attach a PDF, JPEG or PNG to an open case; the file checks' refusals in words."""
    file = data.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidInput.field("file", "required", "请选择要上传的文件")
        content = await file.read(settings.max_upload_bytes + 1)
        await complaints.add_evidence(
            db,
            storage,
            current_user(request).actor,
            complaint_id,
            content=content,
            filename=file.filename,
            max_bytes=settings.max_upload_bytes,
        )
    except DomainError as error:
        if error.status_code == 404 or error.status_code >= 500:
            raise
        errors = _errors(error) if isinstance(error, InvalidInput) else {}
        if error.code in FILE_CHECK_CODES or not errors:
            errors = {"file": error.message}
        return await _case_page(request, db, complaint_id, status_code=error.status_code, errors=errors)
    return Redirect(f"/reviewer/complaints/{complaint_id}?done=evidence", status_code=303)


@get("/reviewer/complaints/{complaint_id:uuid}/evidence/{evidence_id:uuid}", **page(*STAFF))
async def complaint_evidence_file(
    request: Request, db: DB, storage: Storage, complaint_id: FromPath[UUID], evidence_id: FromPath[UUID]
) -> Response:
    """An evidence file opened in the browser (the API's rule: bureau in scope, each read audited)."""
    evidence, content = await complaints.read_evidence_file(
        db, storage, current_user(request).actor, complaint_id, evidence_id
    )
    return file_response(
        content,
        filename=evidence.filename,
        content_type=evidence.content_type,
        sha256=evidence.sha256,
        inline=True,
        personal=True,
    )


async def _person_step(request: Request, db, complaint_id: UUID, step, *, reason: str = "") -> Response:
    """Suspend or lift the named person's entry; a refusal is shown on the case page."""
    try:
        await step()
    except DomainError as error:
        if error.status_code == 404 or error.status_code >= 500:
            raise
        errors = _errors(error) if isinstance(error, InvalidInput) else {}
        return await _case_page(
            request,
            db,
            complaint_id,
            status_code=error.status_code,
            message=error.message,
            errors=errors,
            reason=reason,
            tried="person",
        )
    return Redirect(f"/reviewer/complaints/{complaint_id}?done=person", status_code=303)


@post("/reviewer/complaints/{complaint_id:uuid}/person-suspension", status_code=200, **page(Role.REVIEWER))
async def person_suspend(request: Request, db: DB, complaint_id: FromPath[UUID]) -> Response:
    """Suspend, pending the investigation, the named person's entry everywhere."""
    actor = current_user(request).actor
    return await _person_step(
        request, db, complaint_id, lambda: complaints.suspend_person_entry(db, actor, complaint_id)
    )


@post("/reviewer/complaints/{complaint_id:uuid}/person-suspension/lift", status_code=200, **page(Role.REVIEWER))
async def person_lift(request: Request, db: DB, complaint_id: FromPath[UUID], data: Form) -> Response:
    actor = current_user(request).actor
    reason = data.get("reason", "")
    return await _person_step(
        request,
        db,
        complaint_id,
        lambda: complaints.lift_person_entry(db, actor, complaint_id, reason or None),
        reason=reason,
    )


ROUTES = [
    complaint_evidence_file,
    person_suspend,
    person_lift,
    complaint_evidence,
    complaint_form,
    complaint_submit,
    complaint_lookup,
    complaint_list,
    complaint_detail,
    complaint_act,
]
