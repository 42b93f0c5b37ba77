"""The objection form: a signed-in account holder objects to an admission in its
public notice, from the card on /public/notices.

The form calls `applications.file_objection`, the front door the API's
`POST /api/v1/applications/{id}/objections` calls: who may object, the reason's limit,
the notice's end and the pause are its rules, not this page's. A signed-out visitor is
sent to sign in and back (the access guard's redirect with `next`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from schemas.text import MultilineText, Text
from service.applications import REASON_LIMIT, Notice, file_objection, public_notices
from service.console.web import page, render
from service.errors import DomainError, InvalidInput, NotFound
from service.security import Role
from service.web.deps import DB

Form = Annotated[dict[Text, MultilineText], Body(media_type=RequestEncodingType.URL_ENCODED)]
ANYONE_SIGNED_IN = tuple(Role)
#: Refusals that end the form: the notice is no longer open to objections.
CLOSED = ("not_in_public_notice", "notice_closed")
# Also the answer for an application the actor may not see once its notice is over
# (the front door's 404): the board linked to it, so it was in notice, and the words
# say no more than the public board does.
CLOSED_TEXT = "该申请不在公示期内（公示已经结束），不能再提出异议。如仍有意见，请书面向申请地区的教育局反映。"


def _crumbs(notice: Notice | None) -> list[dict]:
    last = {"text": notice.application.number} if notice else {"text": "提出异议"}
    return [{"text": "入校公示", "href": "/public/notices"}, last]


async def _notice(db, application_id: UUID) -> Notice | None:
    found = await public_notices(db, application_id=application_id, limit=1)
    return found.items[0] if found.items else None


async def _form(
    request: Request,
    db,
    application_id: UUID,
    *,
    status_code: int = 200,
    reason: str = "",
    errors: dict[str, str] | None = None,
    message: str | None = None,
) -> Response:
    notice = await _notice(db, application_id)
    if notice is None:
        return _closed(request, status_code=409 if status_code == 200 else status_code)
    return render(
        request,
        "public/objection_form.html",
        status_code=status_code,
        title="提出异议",
        notice=notice,
        reason=reason,
        limit=REASON_LIMIT,
        errors=errors or {},
        message=message,
        crumbs=_crumbs(notice),
    )


def _closed(request: Request, *, status_code: int = 409) -> Response:
    return render(
        request, "public/objection_closed.html", status_code=status_code, title="公示已结束", message=CLOSED_TEXT
    )


@get("/public/notices/{application_id:uuid}/objection", **page(*ANYONE_SIGNED_IN))
async def objection_form(request: Request, db: DB, application_id: FromPath[UUID]) -> Response:
    """提出异议: the notice's vendor, items and end, and a reason box."""
    return await _form(request, db, application_id)


@post("/public/notices/{application_id:uuid}/objection", status_code=200, **page(*ANYONE_SIGNED_IN))
async def file(request: Request, db: DB, application_id: FromPath[UUID], data: Form) -> Response:
    """File the objection through the applications front door; the notice pauses."""
    reason = data.get("reason", "")
    try:
        await file_objection(db, request.state.user.actor, application_id, reason or None)
    except InvalidInput as error:
        errors = {d["field"] or "summary": d["message"] for d in error.details} or {"summary": error.message}
        return await _form(request, db, application_id, status_code=422, reason=reason, errors=errors)
    except DomainError as error:
        if isinstance(error, NotFound) or error.code in CLOSED:
            return _closed(request)
        return await _form(
            request, db, application_id, status_code=error.status_code, reason=reason, message=error.message
        )
    return Redirect(f"/public/notices/{application_id}/objection/filed", status_code=303)


@get("/public/notices/{application_id:uuid}/objection/filed", **page(*ANYONE_SIGNED_IN))
async def filed(request: Request, db: DB, application_id: FromPath[UUID]) -> Response:
    """Where filing redirects: the notice is paused, and who handles the objection."""
    notice = await _notice(db, application_id)
    if notice is None:  # already decided and concluded: the card is gone from the board
        return _closed(request, status_code=200)
    return render(request, "public/objection_filed.html", title="异议已提交", notice=notice, crumbs=_crumbs(notice))


ROUTES = [objection_form, file, filed]
