"""Reviewer pages for people: a vendor's staff in scope, one person's checks with a form
to record a result by hand, and the results import with its progress and row errors.

Every form is the personnel front door the API calls (`record_check`,
`upload_authorisation`, `create_import_job` + `run_import_job`), so scope, the consent
rule and the audit events are the API's. The import's progress is the job's own
counters: HTMX polls a fragment of the job page; without JavaScript, reloading the page
shows the same numbers."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

import service.personnel as personnel
from schemas.text import MultilineText, Text
from service.console.reviewer_pages import queue_count, region_choices
from service.console.web import current_user, is_htmx, page, render
from service.errors import DomainError, InvalidInput, NotFound
from service.personnel import (
    CHECK_TYPES,
    HEADERS,
    IMPORT_MAX_BYTES,
    RESULTS,
    create_import_job,
    get_import_job,
    list_import_jobs,
    run_import_job,
    upload_digest,
)
from service.security import Role
from service.vendors import get_vendor, list_vendors
from service.web.deps import DB, AppSettings, Keys, Storage
from service.web.forms import form_date
from service.web.params import QueryText

Form = Annotated[dict[Text, MultilineText], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[Text, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
RESULT_LABELS = {"clear": "无异常（通过）", "adverse": "有不良记录", "pending": "查询中（待定）"}
JOB_LABELS = {"queued": "排队中", "running": "导入中", "succeeded": "已完成", "failed": "未导入"}
REVIEWER = (Role.REVIEWER,)
#: A row error's column, as the file's own header names it (the import's first alias).
COLUMN_LABELS = {column: aliases[0] for column, aliases in HEADERS.items()} | {"file": "文件"}


def _errors(error: DomainError) -> dict[str, str]:
    return {d.get("field") or "summary": d["message"] for d in error.details} or {"summary": error.message}


def _crumbs(*parts: tuple[str, str | None]) -> list[dict]:
    return [{"text": "人员核查", "href": "/reviewer/people"}] + [{"text": t, "href": h} for t, h in parts]


async def _counts(db, actor) -> dict[str, int]:
    return {"/reviewer": await queue_count(db, actor)}


# ------------------------------------------------------------------ people


@get("/reviewer/people", **page(*REVIEWER))
async def people(request: Request, db: DB, q: QueryText = None, vendor: QueryText = None) -> Response:
    """人员核查: find a vendor in scope by name, then its staff with their clearance."""
    actor = current_user(request).actor
    chosen, roster, errors = None, [], {}
    try:
        if vendor:
            try:
                vendor_id = UUID(vendor)
            except ValueError:
                raise NotFound("未找到该机构", code="vendor_not_found") from None
            chosen = await get_vendor(db, actor, vendor_id)
            roster = await personnel.vendor_roster(db, actor, chosen.id)
        found = await list_vendors(db, actor, q=(q or "").strip() or None, limit=50)
    except InvalidInput as error:
        found, errors = None, _errors(error)
    return render(
        request,
        "reviewer/people.html",
        title="人员核查",
        q=q or "",
        vendors=found.items if found else [],
        chosen=chosen,
        roster=roster,
        errors=errors,
        counts=await _counts(db, actor),
        crumbs=[{"text": "人员核查"}],
    )


async def _person_page(
    request: Request, db, person_id: UUID, *, status_code: int = 200, errors=None, form=None, done: bool = False
) -> Response:
    actor = current_user(request).actor
    view = await personnel.get_person(db, actor, person_id)
    consents = await personnel.list_consents(db, actor, person_id)
    authorisations = await personnel.list_authorisations(db, actor)
    return render(
        request,
        "reviewer/person.html",
        status_code=status_code,
        title=view.person.name,
        view=view,
        consents=consents,
        authorisations=authorisations,
        check_types=CHECK_TYPES,
        results=RESULTS,
        result_labels=RESULT_LABELS,
        errors=errors or {},
        form=form or {},
        done=done,
        counts=await _counts(db, actor),
        crumbs=_crumbs((view.person.name, None)),
    )


@get("/reviewer/people/{person_id:uuid}", **page(*REVIEWER))
async def person(request: Request, db: DB, person_id: FromPath[UUID], done: QueryText = None) -> Response:
    """One person: clearance, what each check type stands at, and the form to record one."""
    return await _person_page(request, db, person_id, done=bool(done))


def _consent_id(value: str | None) -> UUID | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput.field("consent_document_id", "invalid_consent_document", "请从列表中选择授权文件") from None


@post("/reviewer/people/{person_id:uuid}/checks", status_code=200, **page(*REVIEWER))
async def record_check(request: Request, db: DB, person_id: FromPath[UUID], data: Form) -> Response:
    """A check result recorded by hand: kind, result, date, reference, under a consent."""
    actor = current_user(request).actor
    try:
        query_date = form_date(data.get("query_date"), "query_date")
        await personnel.record_check(
            db,
            actor,
            person_id,
            personnel.CheckInput(
                check_type=data.get("check_type", ""),
                result=data.get("result", ""),
                query_date=query_date,
                reference=data.get("reference", ""),
                issuing_authority=data.get("issuing_authority", ""),
                valid_until=form_date(data.get("valid_until"), "valid_until", required=False),
                consent_document_id=_consent_id(data.get("consent_document_id")),
            ),
        )
    except DomainError as error:
        if error.status_code == 404:
            raise
        return await _person_page(
            request, db, person_id, status_code=error.status_code, errors=_errors(error), form=data
        )
    return Redirect(f"/reviewer/people/{person_id}?done=1", status_code=303)


# ------------------------------------------------------------------ the results import


async def _imports_page(
    request: Request, db, *, status_code: int = 200, errors=None, form=None, auth_errors=None, auth_form=None
) -> Response:
    actor = current_user(request).actor
    return render(
        request,
        "reviewer/imports.html",
        status_code=status_code,
        title="导入核查结果",
        jobs=await list_import_jobs(db, actor),
        authorisations=await personnel.list_authorisations(db, actor),
        job_labels=JOB_LABELS,
        errors=errors or {},
        form=form or {},
        auth_errors=auth_errors or {},
        auth_form=auth_form or {},
        max_mb=IMPORT_MAX_BYTES // (1024 * 1024),
        auth_max_mb=request.app.state.settings.max_upload_bytes // (1024 * 1024),
        region_choices=region_choices(actor),
        counts=await _counts(db, actor),
        crumbs=[{"text": "人员核查", "href": "/reviewer/people"}, {"text": "导入核查结果"}],
    )


@get("/reviewer/imports", **page(*REVIEWER))
async def imports_page(request: Request, db: DB) -> Response:
    """导入核查结果: the upload form, the region's authorisations, and recent imports."""
    return await _imports_page(request, db)


def _text_fields(data: dict) -> dict[str, str]:
    return {k: v for k, v in data.items() if isinstance(v, str)}


@post("/reviewer/imports", status_code=200, request_max_body_size=IMPORT_MAX_BYTES + 64 * 1024, **page(*REVIEWER))
async def start_import(request: Request, db: DB, keyring: Keys, data: Multipart) -> Response:
    """Queue the import as a job and run it after the answer; the page then shows its
    progress. The consent is checked at once; the rows by the job."""
    actor = current_user(request).actor
    file = data.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidInput.field("file", "required", "请选择要导入的文件（CSV 或 XLSX）")
        # Hashed where the upload spooled it, and parsed from there by the job: a large
        # file is never held whole in memory.
        size, sha256 = await asyncio.to_thread(upload_digest, file.file)
        if size > IMPORT_MAX_BYTES:
            raise InvalidInput.field("file", "file_too_large", f"文件不能超过 {IMPORT_MAX_BYTES // (1024 * 1024)} MB")
        authority = str(data.get("issuing_authority") or "").strip() or None
        reply = await create_import_job(
            db,
            actor,
            filename=file.filename[:200],
            sha256=sha256,
            consent_document_id=_consent_id(str(data.get("consent_document_id") or "")),
        )
    except DomainError as error:
        return await _imports_page(
            request, db, status_code=error.status_code, errors=_errors(error), form=_text_fields(data)
        )
    assert reply.value is not None  # no idempotency key here, so never a replay
    job = reply.value
    assert job.consent_document_id is not None  # a new job always names the consent it runs under
    task = BackgroundTask(
        run_import_job,
        db,
        keyring,
        actor,
        job.id,
        content=file.file,
        consent_document_id=job.consent_document_id,
        issuing_authority=authority,
        file_sha256=sha256,
    )
    return Redirect(f"/reviewer/imports/{job.id}", status_code=303, background=task)


@post("/reviewer/authorisations", status_code=200, **page(*REVIEWER))
async def upload_authorisation(
    request: Request, db: DB, storage: Storage, settings: AppSettings, data: Multipart
) -> Response:
    """The bureau's authorisation for batch queries, which an import is made under."""
    actor = current_user(request).actor
    file = data.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidInput.field("file", "required", "请选择授权文件（PDF、JPEG 或 PNG）")
        content = await file.read(settings.max_upload_bytes + 1)
        await personnel.upload_authorisation(
            db,
            storage,
            actor,
            personnel.Upload(content=content, filename=file.filename, max_bytes=settings.max_upload_bytes),
            title=str(data.get("title") or ""),
            region_code=str(data.get("region_code") or "") or None,
            signed_on=form_date(str(data.get("signed_on") or ""), "signed_on", required=False),
        )
    except DomainError as error:
        return await _imports_page(
            request, db, status_code=error.status_code, auth_errors=_errors(error), auth_form=_text_fields(data)
        )
    return Redirect("/reviewer/imports", status_code=303)


def _percent(job) -> int:
    if job.state == "succeeded":
        return 100
    if not job.rows_total:
        return 0
    # Validation is the first half of the work, storing the second.
    return min(99, int(50 * (job.rows_validated + job.rows_stored) / job.rows_total))


@get("/reviewer/imports/{job_id:uuid}", **page(*REVIEWER))
async def import_job(request: Request, db: DB, job_id: FromPath[UUID]) -> Response:
    """One import: a progress bar while it runs, then the outcome or each row's errors.
    An HTMX request gets only the progress fragment (it polls while the job runs)."""
    actor = current_user(request).actor
    job = await get_import_job(db, actor, job_id)
    context: dict[str, Any] = {
        "job": job,
        "percent": _percent(job),
        "job_labels": JOB_LABELS,
        "running": job.state in ("queued", "running"),
        "column_labels": COLUMN_LABELS,
    }
    if is_htmx(request):
        return render(request, "reviewer/import_progress.html", **context)
    return render(
        request,
        "reviewer/import_job.html",
        title="导入任务",
        counts=await _counts(db, actor),
        crumbs=[
            {"text": "人员核查", "href": "/reviewer/people"},
            {"text": "导入核查结果", "href": "/reviewer/imports"},
            {"text": job.filename},
        ],
        **context,
    )


ROUTES = [people, person, record_check, imports_page, start_import, upload_authorisation, import_job]
