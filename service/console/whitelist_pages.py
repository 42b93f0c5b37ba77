"""Reviewer pages for the dynamic whitelist: entries in scope with the actions their
status allows (the whitelist domain's ELIGIBLE table), and the four-eyes requests
waiting for a second reviewer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from schemas.text import MultilineText, Text
from service.console.reviewer_pages import queue_count
from service.console.web import current_user, page, render
from service.errors import DomainError, NotFound
from service.security import Role
from service.service_items import get_service_item
from service.vendors import get_vendor
from service.web.deps import DB
from service.web.forms import form_date
from service.web.params import QueryText
from service.whitelist import (
    ACTIONS,
    ELIGIBLE,
    ActionInput,
    confirm_request,
    decline_request,
    list_entries,
    list_requests,
    take_action,
)

# Form values may be multi-line (a reason typed in a textarea); every one follows the text rule.
Form = Annotated[dict[Text, MultilineText], Body(media_type=RequestEncodingType.URL_ENCODED)]
ACTION_LABELS = {"suspend": "暂停", "reinstate": "恢复", "revoke": "撤销", "renew": "续期"}


async def _or_none(read):
    """An entry is visible by its region; its vendor (registered elsewhere) may not be."""
    try:
        return await read
    except NotFound:
        return None


async def _names(db, actor, entries) -> tuple[dict, dict]:
    vendors, items = {}, {}
    for view in entries:
        entry = view.entry
        if entry.vendor_id not in vendors:
            vendors[entry.vendor_id] = await _or_none(get_vendor(db, actor, entry.vendor_id))
        if entry.service_item_id not in items:
            items[entry.service_item_id] = await _or_none(
                get_service_item(db, actor, entry.vendor_id, entry.service_item_id)
            )
    return vendors, items


async def _page(
    request: Request, db, *, status_code: int = 200, message: str | None = None, error: str | None = None
) -> Response:
    actor = current_user(request).actor
    entries = [
        v for v in await list_entries(db, actor, vendor_id=None, region_code=None) if v.status not in ("superseded",)
    ]
    vendors, items = await _names(db, actor, entries)
    pending = await list_requests(db, actor, "pending")
    request_vendors = {
        r.vendor_id: vendors.get(r.vendor_id) or await _or_none(get_vendor(db, actor, r.vendor_id)) for r in pending
    }
    return render(
        request,
        "reviewer/whitelist.html",
        status_code=status_code,
        title="白名单管理",
        entries=entries,
        vendors=vendors,
        items=items,
        pending=pending,
        request_vendors=request_vendors,
        eligible={a: ELIGIBLE[a] for a in ACTIONS},
        action_labels=ACTION_LABELS,
        my_id=actor.account_id,
        message=message,
        error=error,
        counts={"/reviewer": await queue_count(db, actor)},
        crumbs=[{"text": "审核"}, {"text": "白名单管理"}],
    )


def requested_text(action: str | None) -> str | None:
    """The confirmation after a request for a second reviewer was made (the page the POST
    redirected to, so a refresh does not ask again)."""
    label = ACTION_LABELS.get(action or "")
    return f"已提交{label}申请，须由另一名审核员确认后生效" if label else None


@get("/reviewer/whitelist", **page(Role.REVIEWER))
async def whitelist(request: Request, db: DB, requested: QueryText = None) -> Response:
    return await _page(request, db, message=requested_text(requested))


@post("/reviewer/whitelist/act", status_code=200, **page(Role.REVIEWER))
async def act(request: Request, db: DB, data: Form) -> Response:
    """Suspend or renew at once; revoke or reinstate becomes a request for a second reviewer."""
    try:
        reply = await take_action(
            db,
            current_user(request).actor,
            ActionInput(
                action=data.get("action", ""),
                reason=data.get("reason") or None,
                entry_ids=[UUID(data.get("entry_id", ""))],
                ban_until=form_date(data.get("ban_until"), "ban_until", required=False)
                if data.get("action") == "revoke"
                else None,
            ),
        )
    except ValueError:
        return await _page(request, db, status_code=422, error="请从列表中选择")
    except DomainError as error:
        return await _page(request, db, status_code=error.status_code, error=error.message)
    assert reply.value is not None  # no idempotency key here, so never a replay
    if reply.value.status == "pending":
        return Redirect(f"/reviewer/whitelist?requested={reply.value.action}", status_code=303)
    return Redirect("/reviewer/whitelist", status_code=303)


@post("/reviewer/whitelist/requests/decide", status_code=200, **page(Role.REVIEWER))
async def decide(request: Request, db: DB, data: Form) -> Response:
    """The second reviewer confirms (it takes effect now) or declines a request."""
    actor = current_user(request).actor
    try:
        request_id = UUID(data.get("request_id", ""))
        if data.get("decision") == "confirm":
            await confirm_request(db, actor, request_id, data.get("reason") or None)
        else:
            await decline_request(db, actor, request_id, data.get("reason") or None)
    except ValueError:
        return await _page(request, db, status_code=422, error="请从列表中选择")
    except DomainError as error:
        return await _page(request, db, status_code=error.status_code, error=error.message)
    return Redirect("/reviewer/whitelist", status_code=303)


ROUTES = [whitelist, act, decide]
