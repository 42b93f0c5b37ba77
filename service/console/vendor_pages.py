"""Vendor pages: registration, documents, service items, staff, applications.

Every form is a call of the vendors, documents, service-items, personnel and
applications front doors, as the API makes them; errors come back as the API's
`details` and sit next to their field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from schemas.text import MultilineText, Text
from service.applications import ApplicationInput, create_application, get_application, list_applications, transition
from service.console import format as fmt
from service.console.reviewer_pages import action_forms
from service.console.timeline import timeline
from service.console.web import current_user, page, render
from service.documents import DOC_TYPES, DocumentInput, list_documents, upload_document
from service.errors import Conflict, DomainError, InvalidInput, NotFound
from service.personnel import PersonInput, add_person, vendor_roster
from service.printing import application_letter
from service.printing import render as render_pdf
from service.reminders import my_reminders
from service.security import Role
from service.service_items import (
    CATEGORIES,
    FEE_UNITS,
    GRADE_BANDS,
    ServiceItemInput,
    create_service_item,
    list_service_items,
)
from service.vendors import VendorInput, own_vendor, register_vendor
from service.web.deps import DB, AppSettings, Keys, Storage
from service.web.files import pdf_response
from service.web.forms import form_date
from service.whitelist import list_entries, vendor_status
from workflows.entry_review import STATE_LABELS

# Every form value follows the text rule (schemas/text.py); a repeated field arrives as a list.
Form = Annotated[dict[Text, MultilineText | list[MultilineText]], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[Text, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
ORG_LABELS = {
    "enterprise": "企业",
    "private_non_enterprise": "民办非企业单位",
    "social_organization": "社会团体",
    "public_institution": "事业单位",
}
FILE_CHECK_CODES = ("unsupported_file_type", "file_too_large")
PERSON_ROLE_LABELS = {"lead_instructor": "主讲教师", "assistant": "助教", "driver": "司机", "other": "其他"}


def _text(data: Mapping[str, object], name: str) -> str:
    """One text field of a form, "" when absent; a repeated field counts as its first value."""
    value = data.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def _errors(error: DomainError) -> dict[str, str]:
    found = {d.get("field") or "summary": d["message"] for d in error.details}
    return found or {"summary": error.message}


def _upload_errors(error: DomainError) -> dict[str, str]:
    """The file checks' refusals (type by content, size) name no field: they are the file's."""
    errors = _errors(error)
    if set(errors) == {"summary"} and error.code in FILE_CHECK_CODES:
        return {"file": errors["summary"]}
    return errors


async def _vendor_or_register(request: Request, db):
    vendor = await own_vendor(db, current_user(request).actor)
    if vendor is None:
        raise _Unregistered()
    return vendor


class _Unregistered(NotFound):
    code = "vendor_not_registered"
    message = "请先登记机构信息"


async def _standing(db, actor, vendor_id: UUID) -> dict[UUID, list[Any]]:
    """Each item's whitelist entries now (a superseded one no longer speaks for its item)."""
    by_item: dict[UUID, list[Any]] = {}
    for view in await list_entries(db, actor, vendor_id=vendor_id, region_code=None):
        if view.status != "superseded":
            by_item.setdefault(view.entry.service_item_id, []).append(view)
    return by_item


def _crumbs(*parts: str) -> list[dict]:
    return [{"text": "机构", "href": "/vendor"}] + [{"text": p} for p in parts]


@get("/vendor", **page(Role.VENDOR))
async def overview(request: Request, db: DB) -> Response:
    """机构信息, or the registration form when the vendor is not registered yet."""
    actor = current_user(request).actor
    vendor = await own_vendor(db, actor)
    if vendor is None:
        return render(
            request,
            "vendor/register.html",
            title="机构登记",
            errors={},
            form={},
            credit_code=actor.vendor_credit_code,
            org_labels=ORG_LABELS,
            crumbs=_crumbs("机构登记"),
        )
    standing = await _standing(db, actor, vendor.id)
    return render(
        request,
        "vendor/overview.html",
        title="机构信息",
        vendor=vendor,
        status=vendor_status(v.status for views in standing.values() for v in views),
        active_items=sum(any(v.status == "active" for v in views) for views in standing.values()),
        org_labels=ORG_LABELS,
        reminders=await my_reminders(db, actor),
        crumbs=_crumbs("机构信息"),
    )


@post("/vendor/register", status_code=200, **page(Role.VENDOR))
async def register(request: Request, db: DB, data: Form) -> Response:
    actor = current_user(request).actor
    try:
        await register_vendor(
            db,
            actor,
            VendorInput(
                credit_code=actor.vendor_credit_code or "",
                name=_text(data, "name"),
                org_type=_text(data, "org_type"),
                region_code=_text(data, "region_code"),
                address=_text(data, "address"),
                contact_name=_text(data, "contact_name"),
                contact_phone=_text(data, "contact_phone"),
                legal_representative=_text(data, "legal_representative"),
                public_welfare_pledge=data.get("public_welfare_pledge") == "yes",
            ),
        )
    except DomainError as error:
        return render(
            request,
            "vendor/register.html",
            status_code=error.status_code,
            title="机构登记",
            errors=_errors(error),
            form=data,
            credit_code=actor.vendor_credit_code,
            org_labels=ORG_LABELS,
            crumbs=_crumbs("机构登记"),
        )
    return Redirect("/vendor", status_code=303)


async def _documents_page(request: Request, db, *, status_code: int = 200, errors=None, form=None) -> Response:
    vendor = await _vendor_or_register(request, db)
    documents = await list_documents(db, current_user(request).actor, vendor.id)
    return render(
        request,
        "vendor/documents.html",
        status_code=status_code,
        title="资质材料",
        vendor=vendor,
        documents=documents,
        doc_types=DOC_TYPES,
        errors=errors or {},
        form=form or {},
        max_mb=request.app.state.settings.max_upload_bytes // (1024 * 1024),
        crumbs=_crumbs("资质材料"),
    )


@get("/vendor/documents", **page(Role.VENDOR))
async def documents(request: Request, db: DB) -> Response:
    return await _documents_page(request, db)


@post("/vendor/documents", status_code=200, **page(Role.VENDOR))
async def upload(request: Request, db: DB, storage: Storage, settings: AppSettings, data: Multipart) -> Response:
    """Upload a qualification document; the file checks' errors come back in words."""
    vendor = await _vendor_or_register(request, db)
    file = data.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidInput.field("file", "required", "请选择要上传的文件")
        content = await file.read(settings.max_upload_bytes + 1)
        await upload_document(
            db,
            storage,
            current_user(request).actor,
            vendor.id,
            content=content,
            filename=file.filename,
            max_bytes=settings.max_upload_bytes,
            data=DocumentInput(
                str(data.get("doc_type", "")),
                str(data.get("number", "")),
                str(data.get("issuer", "")),
                form_date(data.get("valid_from"), "valid_from"),
                form_date(data.get("valid_until"), "valid_until"),
            ),
        )
    except DomainError as error:
        form = {k: v for k, v in data.items() if isinstance(v, str)}
        return await _documents_page(
            request, db, status_code=error.status_code, errors=_upload_errors(error), form=form
        )
    return Redirect("/vendor/documents", status_code=303)


async def _items_page(request: Request, db, *, status_code: int = 200, errors=None, form=None) -> Response:
    vendor, actor = await _vendor_or_register(request, db), current_user(request).actor
    items = await list_service_items(db, actor, vendor.id)
    return render(
        request,
        "vendor/items.html",
        status_code=status_code,
        title="服务项目",
        vendor=vendor,
        items=items,
        standing=await _standing(db, actor, vendor.id),
        categories=sorted(CATEGORIES.items()),
        grade_bands=GRADE_BANDS,
        fee_units=FEE_UNITS,
        errors=errors or {},
        form=form or {},
        crumbs=_crumbs("服务项目"),
    )


@get("/vendor/items", **page(Role.VENDOR))
async def items(request: Request, db: DB) -> Response:
    return await _items_page(request, db)


def _fee_in_fen(text: str) -> int:
    """`30` or `30.50` yuan → fen; anything else is a field error."""
    text = (text or "").strip()
    try:
        yuan, _, jiao = text.partition(".")
        if not yuan.isdigit() or (jiao and (not jiao.isdigit() or len(jiao) > 2)):
            raise ValueError
        return int(yuan) * 100 + int((jiao + "00")[:2] if jiao else 0)
    except ValueError:
        raise InvalidInput.field("fee", "invalid_fee", "收费请填写金额（元），最多两位小数，免费填 0") from None


@post("/vendor/items", status_code=200, **page(Role.VENDOR))
async def add_item(request: Request, db: DB) -> Response:
    vendor = await _vendor_or_register(request, db)
    form = await request.form()
    data = {k: form.get(k) for k in form}
    try:
        category = str(data.get("category_code") or "")
        size = str(data.get("max_class_size") or "")
        if not category.isdigit():
            raise InvalidInput.field("category_code", "required", "请选择活动类别")
        if not size.isdigit():
            raise InvalidInput.field("max_class_size", "invalid_class_size", "班额请填写整数")
        await create_service_item(
            db,
            current_user(request).actor,
            vendor.id,
            ServiceItemInput(
                category_code=int(category),
                activity=str(data.get("activity") or ""),
                description=str(data.get("description") or ""),
                grade_bands=list(form.getall("grade_bands", [])),
                fee=_fee_in_fen(str(data.get("fee") or "")),
                fee_unit=str(data.get("fee_unit") or ""),
                max_class_size=int(size),
                venue=str(data.get("venue") or ""),
            ),
        )
    except DomainError as error:
        return await _items_page(request, db, status_code=error.status_code, errors=_errors(error), form=data)
    return Redirect("/vendor/items", status_code=303)


async def _people_page(request: Request, db, *, status_code: int = 200, errors=None, form=None) -> Response:
    vendor = await _vendor_or_register(request, db)
    roster = await vendor_roster(db, current_user(request).actor, vendor.id)
    return render(
        request,
        "vendor/people.html",
        status_code=status_code,
        title="人员",
        vendor=vendor,
        roster=roster,
        roles=PERSON_ROLE_LABELS,
        errors=errors or {},
        form=form or {},
        crumbs=_crumbs("人员"),
    )


@get("/vendor/people", **page(Role.VENDOR))
async def people(request: Request, db: DB) -> Response:
    """人员: each person's clearance and what they still need."""
    return await _people_page(request, db)


@post("/vendor/people", status_code=200, **page(Role.VENDOR))
async def add_staff(request: Request, db: DB, keyring: Keys, data: Form) -> Response:
    vendor = await _vendor_or_register(request, db)
    try:
        await add_person(
            db,
            keyring,
            current_user(request).actor,
            vendor.id,
            PersonInput(
                id_number=_text(data, "id_number"),
                name=_text(data, "name"),
                role=_text(data, "role"),
                start_date=form_date(_text(data, "start_date"), "start_date"),
                phone=_text(data, "phone") or None,
            ),
        )
    except DomainError as error:
        safe = {k: v for k, v in data.items() if k != "id_number"}
        return await _people_page(request, db, status_code=error.status_code, errors=_errors(error), form=safe)
    return Redirect("/vendor/people", status_code=303)


async def _applications_page(request: Request, db, *, status_code: int = 200, errors=None) -> Response:
    actor = current_user(request).actor
    vendor = await _vendor_or_register(request, db)
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
        crumbs=_crumbs("入校申请"),
    )


@get("/vendor/applications", **page(Role.VENDOR))
async def my_applications(request: Request, db: DB) -> Response:
    return await _applications_page(request, db)


@post("/vendor/applications", status_code=200, **page(Role.VENDOR))
async def new_application(request: Request, db: DB) -> Response:
    """A draft: to a county or city bureau, with chosen items and documents."""
    vendor = await _vendor_or_register(request, db)
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
        return await _applications_page(request, db, status_code=error.status_code, errors=_errors(error))
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
        crumbs=_crumbs("入校申请", fmt.region_name(view.application.region_code)),
    )


@get("/vendor/applications/{application_id:uuid}", **page(Role.VENDOR))
async def application_detail(request: Request, db: DB, application_id: FromPath[UUID]) -> Response:
    return await _application_page(request, db, application_id)


@post("/vendor/applications/{application_id:uuid}/act", status_code=200, **page(Role.VENDOR))
async def act(request: Request, db: DB, application_id: FromPath[UUID], data: Form) -> Response:
    """Submit, resubmit or withdraw, based on the version the vendor saw."""
    try:
        version = int(_text(data, "version")) if _text(data, "version").isdigit() else None
        await transition(
            db,
            current_user(request).actor,
            application_id,
            action=_text(data, "action"),
            reason=_text(data, "reason") or None,
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
    overview,
    register,
    documents,
    upload,
    items,
    add_item,
    people,
    add_staff,
    my_applications,
    new_application,
    application_detail,
    act,
    letter,
]
