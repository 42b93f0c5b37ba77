"""School pages: check a vendor, check a person, my past checks, the receipt PDF.

Each check is the lookup front door the API uses (one signed receipt per check, the
same rate limit); the page only turns its answer into a status card."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from schemas.text import MultilineText, Text
from service.applications import settle_due_notices
from service.console.web import current_user, page, render
from service.errors import InvalidInput, TooManyRequests
from service.lookup import MAX_BATCH, PersonQuery, lookup_person, lookup_roster, lookup_vendor, own_lookups
from service.printing import receipt_pdf
from service.security import Role
from service.web.deps import DB
from service.web.files import pdf_response
from service.web.params import QueryText
from service.whitelist import filters, public_whitelist

# Form values may be multi-line (a reason typed in a textarea); every one follows the text rule.
Form = Annotated[dict[Text, MultilineText], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[Text, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
CHECKERS = (Role.SCHOOL,)
RECENT_CHECKS = 5  # on the school's home, below the forms
ROSTER_MAX_BYTES = 2 * 1024 * 1024  # 500 rows of a roster are a few tens of kilobytes


def _errors(error: InvalidInput) -> dict[str, str]:
    return {d.get("field") or "summary": d["message"] for d in error.details} or {"summary": error.message}


async def _name_matches(db, actor, name: str | None) -> tuple[list[dict], dict[str, str]]:
    """Vendors on the published whitelist whose name or activity matches (public data)."""
    if not (name or "").strip():
        return [], {}
    try:
        await settle_due_notices(db)  # a notice over by now: its vendor is found
        rows, _ = await public_whitelist(db, filters(actor.region_code, None, name), cursor=None, limit=50)
    except InvalidInput as error:
        return [], _errors(error)
    vendors: dict[str, dict] = {}
    for row in rows:
        vendors.setdefault(row.credit_code, {"credit_code": row.credit_code, "name": row.vendor_name})
    return list(vendors.values()), {}


@get("/school/check", **page(*CHECKERS))
async def vendor_form(request: Request, db: DB, q: QueryText = None) -> Response:
    """机构核验: by credit code (a check, with a receipt), or find the code by name; the
    school's home, so its latest checks are listed below the forms (过往核验)."""
    actor = current_user(request).actor
    matches, errors = await _name_matches(db, actor, q)
    searched = bool((q or "").strip())
    return render(
        request,
        "school/vendor.html",
        title="机构核验",
        q=q or "",
        matches=matches,
        errors=errors,
        code="",
        answer=None,
        searched=searched,
        recent=[] if searched else await own_lookups(db, actor, limit=RECENT_CHECKS),
        crumbs=[{"text": "核验"}, {"text": "机构核验"}],
    )


@post("/school/check", status_code=200, **page(*CHECKERS))
async def vendor_check(request: Request, db: DB, data: Form) -> Response:
    actor = current_user(request).actor
    code = (data.get("credit_code") or "").strip().upper()
    answer, errors, status = None, {}, 200
    try:
        result = await lookup_vendor(db, request.app.state.signer, actor, code)
        answer = msgspec.json.decode(result.body)
    except (InvalidInput, TooManyRequests) as error:
        errors, status = (
            ({"credit_code": error.message} if isinstance(error, InvalidInput) else {"summary": error.message}),
            error.status_code,
        )
    return render(
        request,
        "school/vendor.html",
        status_code=status,
        title="机构核验",
        q="",
        matches=[],
        errors=errors,
        code=code,
        answer=answer,
        searched=False,
        crumbs=[{"text": "核验"}, {"text": "机构核验"}],
    )


@get("/school/person", **page(*CHECKERS))
async def person_form(request: Request) -> Response:
    return render(
        request,
        "school/person.html",
        title="人员核验",
        errors={},
        answer=None,
        name="",
        crumbs=[{"text": "核验"}, {"text": "人员核验"}],
    )


@post("/school/person", status_code=200, **page(*CHECKERS))
async def person_check(request: Request, db: DB, data: Form) -> Response:
    """人员核验: 可以入校 until a date, or 未通过核验 — never why."""
    state, actor = request.app.state, current_user(request).actor
    name = (data.get("name") or "").strip()
    answer, errors, status = None, {}, 200
    try:
        result = await lookup_person(
            state.db, state.signer, state.keyring, actor, PersonQuery(id_number=data.get("id_number"), name=name)
        )
        answer = msgspec.json.decode(result.body)
    except InvalidInput as error:
        errors, status = _errors(error), 422
    except TooManyRequests as error:
        errors, status = {"summary": error.message}, 429
    # The ID number is never echoed back into the page: the form is empty again.
    return render(
        request,
        "school/person.html",
        status_code=status,
        title="人员核验",
        errors=errors,
        answer=answer,
        name=name,
        crumbs=[{"text": "核验"}, {"text": "人员核验"}],
    )


@get("/school/history", **page(*CHECKERS))
async def history(request: Request, db: DB) -> Response:
    """我的核验记录: this account's checks, newest first, each with its receipt."""
    rows = await own_lookups(db, current_user(request).actor, limit=100)
    return render(
        request,
        "school/history.html",
        title="我的核验记录",
        rows=rows,
        crumbs=[{"text": "核验"}, {"text": "我的核验记录"}],
    )


@get("/school/receipts/{receipt_id:uuid}/receipt.pdf", **page(*CHECKERS))
async def receipt(request: Request, db: DB, receipt_id: FromPath[UUID]) -> Response:
    """下载核验凭证: the signed receipt as a PDF (the same document as the API's)."""
    content = await receipt_pdf(db, request.app.state.signer, current_user(request).actor, receipt_id)
    return pdf_response(content, f"receipt-{receipt_id}.pdf")


def _roster_page(request: Request, *, status_code: int = 200, errors=None, check=None, filename: str = "") -> Response:
    return render(
        request,
        "school/roster.html",
        status_code=status_code,
        title="花名册核验",
        errors=errors or {},
        check=check,
        filename=filename,
        max_rows=MAX_BATCH,
        max_mb=ROSTER_MAX_BYTES // (1024 * 1024),
        crumbs=[{"text": "核验"}, {"text": "花名册核验"}],
    )


@get("/school/roster", **page(*CHECKERS))
async def roster_form(request: Request) -> Response:
    return _roster_page(request)


@post("/school/roster", status_code=200, request_max_body_size=ROSTER_MAX_BYTES + 64 * 1024, **page(*CHECKERS))
async def roster_check(request: Request, data: Multipart) -> Response:
    """花名册核验: a CSV or XLSX with the import's columns → one answer per row, one
    signed receipt for the rows looked up (the batch lookup of the API)."""
    state, actor = request.app.state, current_user(request).actor
    file = data.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidInput.field("file", "required", "请选择花名册文件（CSV 或 XLSX）")
        content = await file.read(ROSTER_MAX_BYTES + 1)
        if len(content) > ROSTER_MAX_BYTES:
            raise InvalidInput.field("file", "file_too_large", f"文件不能超过 {ROSTER_MAX_BYTES // (1024 * 1024)} MB")
        check = await lookup_roster(state.db, state.signer, state.keyring, actor, content)
    except InvalidInput as error:
        return _roster_page(
            request, status_code=422, errors={"file": "；".join(d["message"] for d in error.details) or error.message}
        )
    except TooManyRequests as error:
        return _roster_page(request, status_code=429, errors={"summary": error.message})
    return _roster_page(request, check=check, filename=file.filename)


ROUTES = [vendor_form, vendor_check, person_form, person_check, roster_form, roster_check, history, receipt]
