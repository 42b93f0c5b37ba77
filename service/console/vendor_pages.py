"""Vendor pages: registration, 机构信息, documents, service items, staff.

Every form is a call of the vendors, documents, service-items, personnel and whitelist
front doors, as the API makes them; errors come back as the API's `details` and sit
next to their field. The applications are in `vendor_application_pages.py`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect

from service.console.vendor_forms import (
    ORG_LABELS,
    PERSON_ROLE_LABELS,
    Form,
    Multipart,
    crumbs,
    form_errors,
    form_text,
    region_groups,
    upload_errors,
    vendor_or_register,
)
from service.console.web import current_user, page, render
from service.documents import DOC_TYPES, DocumentInput, list_documents, upload_document
from service.errors import DomainError, InvalidInput
from service.personnel import PersonInput, add_person, vendor_roster
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
from service.web.forms import form_date
from service.whitelist import list_entries, vendor_status


async def _standing(db, actor, vendor_id: UUID) -> dict[UUID, list[Any]]:
    """Each item's whitelist entries now (a superseded one no longer speaks for its item)."""
    by_item: dict[UUID, list[Any]] = {}
    for view in await list_entries(db, actor, vendor_id=vendor_id, region_code=None):
        if view.status != "superseded":
            by_item.setdefault(view.entry.service_item_id, []).append(view)
    return by_item


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
            region_groups=region_groups(),
            crumbs=crumbs("机构登记"),
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
        crumbs=crumbs("机构信息"),
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
                name=form_text(data, "name"),
                org_type=form_text(data, "org_type"),
                region_code=form_text(data, "region_code"),
                address=form_text(data, "address"),
                contact_name=form_text(data, "contact_name"),
                contact_phone=form_text(data, "contact_phone"),
                legal_representative=form_text(data, "legal_representative"),
                public_welfare_pledge=data.get("public_welfare_pledge") == "yes",
            ),
        )
    except DomainError as error:
        return render(
            request,
            "vendor/register.html",
            status_code=error.status_code,
            title="机构登记",
            errors=form_errors(error),
            form=data,
            credit_code=actor.vendor_credit_code,
            org_labels=ORG_LABELS,
            region_groups=region_groups(),
            crumbs=crumbs("机构登记"),
        )
    return Redirect("/vendor", status_code=303)


async def _documents_page(request: Request, db, *, status_code: int = 200, errors=None, form=None) -> Response:
    vendor = await vendor_or_register(request, db)
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
        crumbs=crumbs("资质材料"),
    )


@get("/vendor/documents", **page(Role.VENDOR))
async def documents(request: Request, db: DB) -> Response:
    return await _documents_page(request, db)


@post("/vendor/documents", status_code=200, **page(Role.VENDOR))
async def upload(request: Request, db: DB, storage: Storage, settings: AppSettings, data: Multipart) -> Response:
    """Upload a qualification document; the file checks' errors come back in words."""
    vendor = await vendor_or_register(request, db)
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
        return await _documents_page(request, db, status_code=error.status_code, errors=upload_errors(error), form=form)
    return Redirect("/vendor/documents", status_code=303)


async def _items_page(request: Request, db, *, status_code: int = 200, errors=None, form=None) -> Response:
    vendor, actor = await vendor_or_register(request, db), current_user(request).actor
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
        crumbs=crumbs("服务项目"),
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
    vendor = await vendor_or_register(request, db)
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
        return await _items_page(request, db, status_code=error.status_code, errors=form_errors(error), form=data)
    return Redirect("/vendor/items", status_code=303)


async def _people_page(request: Request, db, *, status_code: int = 200, errors=None, form=None) -> Response:
    vendor = await vendor_or_register(request, db)
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
        crumbs=crumbs("人员"),
    )


@get("/vendor/people", **page(Role.VENDOR))
async def people(request: Request, db: DB) -> Response:
    """人员: each person's clearance and what they still need."""
    return await _people_page(request, db)


@post("/vendor/people", status_code=200, **page(Role.VENDOR))
async def add_staff(request: Request, db: DB, keyring: Keys, data: Form) -> Response:
    vendor = await vendor_or_register(request, db)
    try:
        await add_person(
            db,
            keyring,
            current_user(request).actor,
            vendor.id,
            PersonInput(
                id_number=form_text(data, "id_number"),
                name=form_text(data, "name"),
                role=form_text(data, "role"),
                start_date=form_date(form_text(data, "start_date"), "start_date"),
                phone=form_text(data, "phone") or None,
            ),
        )
    except DomainError as error:
        safe = {k: v for k, v in data.items() if k != "id_number"}
        return await _people_page(request, db, status_code=error.status_code, errors=form_errors(error), form=safe)
    return Redirect("/vendor/people", status_code=303)


ROUTES = [overview, register, documents, upload, items, add_item, people, add_staff]
