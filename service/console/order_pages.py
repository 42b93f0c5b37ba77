"""Order pages (点单, §2(4)): the school's orders with their standing, the order form and
cancelling; the vendor's incoming orders with accept and decline.

Every list and every step is a call of the orders front door, as the API makes it; the
buttons are the actions the service says the caller may take now (the workflow table's),
and a standing's reasons are the words the service wrote."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from schemas.text import MultilineText, Text
from service.applications import settle_due_notices
from service.console.web import current_user, page, render
from service.errors import Conflict, DomainError, InvalidInput, NotFound
from service.orders import (
    OrderInput,
    OrderView,
    Term,
    list_school_orders,
    list_terms,
    list_vendor_orders,
    place_order,
    placed_order,
    staff_for_order,
    transition_order,
)
from service.security import Actor, Role
from service.service_items import GRADE_BANDS
from service.timetables import WEEKDAY_NAMES
from service.timeutil import today_in_china
from service.web.deps import DB
from service.web.params import QueryText
from service.whitelist import filters, public_whitelist
from workflows.school_order import SCHOOL_ORDER

# Every form value follows the text rule (schemas/text.py); a repeated field arrives as a list.
Form = Annotated[dict[Text, MultilineText | list[MultilineText]], Body(media_type=RequestEncodingType.URL_ENCODED)]
CONFLICT_TEXT = "该订单已由对方处理或已被更新，请查看最新状态"
STANDING_WORDS = {"in_force": "正常", "at_risk": "存在风险", "blocked": "受阻", "closed": "已关闭"}


def values(data: dict, name: str) -> list[str]:
    """A form field that may repeat (checkboxes), as a list of its non-empty values."""
    raw = data.get(name)
    found = raw if isinstance(raw, list) else [raw] if raw is not None else []
    return [v.strip() for v in found if isinstance(v, str) and v.strip()]


def one(data: dict, name: str) -> str:
    found = values(data, name)
    return found[0] if found else ""


def uuid_or_none(value: str | None, field: str) -> UUID | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInput.field(field, "invalid_choice", "请选择列表中的选项") from None


def errors_of(error: DomainError) -> dict[str, str]:
    """The API's details by field; `people[2]` sits next to the people field."""
    found: dict[str, str] = {}
    for detail in error.details:
        field = (detail.get("field") or "summary").split("[")[0]
        found[field] = (found[field] + "；" if field in found else "") + detail["message"]
    return found or {"summary": error.message}


def term_of(terms: list[Term], chosen: UUID | None) -> Term | None:
    """The chosen term, else the one in progress, else the latest."""
    if chosen is not None:
        found = next((t for t in terms if t.id == chosen), None)
        if found is None:
            raise NotFound("未找到适用于本校所在地区的学期", code="term_not_found")
        return found
    today = today_in_china()
    running = [t for t in terms if t.starts_on <= today <= t.ends_on]
    return running[0] if running else (terms[0] if terms else None)


def schedule(view: OrderView) -> str:
    order = view.order
    days = "、".join(WEEKDAY_NAMES[d] for d in order.weekdays)
    return f"{days} {order.start_time:%H:%M}–{order.end_time:%H:%M}"


def action_forms(view: OrderView) -> list[dict]:
    rows = {t.action: t for t in SCHOOL_ORDER.transitions if t.source == view.order.state}
    return [
        {
            "action": a,
            "label": SCHOOL_ORDER.action_label(a),
            "reason_required": rows[a].requires_reason,
            "danger": a in ("decline", "cancel"),
        }
        for a in view.allowed_actions
        if a in rows
    ]


def done_text(action: str | None) -> str | None:
    """The confirmation after a step went through (the page it redirected to)."""
    return f"已{SCHOOL_ORDER.action_label(action)}" if action in SCHOOL_ORDER.actions else None


def school_code_of(request: Request) -> str:
    code = current_user(request).school_code
    if not code:
        raise NotFound("该账号未关联学校", code="school_not_found")
    return code


async def _orders_page(
    request: Request,
    db,
    term: str | None,
    *,
    status_code: int = 200,
    message: str | None = None,
    warnings: list[dict] | None = None,
    errors: dict | None = None,
    tried: tuple[str, str] | None = None,
    reason: str = "",
) -> Response:
    actor = current_user(request).actor
    terms = await list_terms(db, actor, None)
    chosen = term_of(terms, uuid_or_none(term, "term"))
    views = await list_school_orders(db, actor, school_code_of(request), term_id=chosen.id) if chosen else []
    return render(
        request,
        "school/orders.html",
        status_code=status_code,
        title="点单",
        terms=terms,
        term=chosen,
        rows=[{"view": v, "schedule": schedule(v), "actions": action_forms(v)} for v in views],
        standing_words=STANDING_WORDS,
        message=message,
        message_kind="error" if status_code >= 400 else "ok",
        warnings=warnings or [],
        errors=errors or {},
        tried=tried,
        reason=reason,
        crumbs=[{"text": "点单与安排"}, {"text": "点单"}],
    )


def placed_text(view: OrderView) -> str:
    return f"已向{view.vendor_name}点单“{view.activity}”，等待机构确认"


@get("/school/orders", **page(Role.SCHOOL))
async def school_orders(
    request: Request, db: DB, term: QueryText = None, done: QueryText = None, placed: QueryText = None
) -> Response:
    """点单: the school's orders of a term, each with its standing now and its causes;
    `placed` (where placing redirects) confirms that order, with its warnings as they
    stand now, so a refresh shows the confirmation again instead of ordering twice."""
    placed_id = uuid_or_none(placed, "placed")
    if placed_id is None:
        return await _orders_page(request, db, term, message=done_text(done))
    view = await placed_order(db, current_user(request).actor, placed_id)
    return await _orders_page(request, db, term, message=placed_text(view), warnings=view.warnings)


async def _offer(db, actor: Actor) -> list:
    """The items on the school's region's whitelist that may be ordered (public rows)."""
    await settle_due_notices(db)  # a notice over by now: its items may be ordered
    rows, _ = await public_whitelist(db, filters(actor.region_code, None, None), cursor=None, limit=200)
    return rows


async def _form_page(
    request: Request, db, form: dict, *, status_code: int = 200, errors: dict | None = None
) -> Response:
    actor = current_user(request).actor
    terms = [t for t in await list_terms(db, actor, None) if t.ends_on >= today_in_china()]
    offer = await _offer(db, actor)
    item_id = form.get("service_item_id") or ""
    item = next((row for row in offer if str(row.item_id) == item_id), None)
    staff = await staff_for_order(db, actor, school_code_of(request), item.item_id) if item else []
    return render(
        request,
        "school/order_form.html",
        status_code=status_code,
        title="点单",
        terms=terms,
        offer=offer,
        item=item,
        staff=staff,
        form=form,
        errors=errors or {},
        weekdays=WEEKDAY_NAMES,
        grade_bands=GRADE_BANDS,
        crumbs=[{"text": "点单与安排"}, {"text": "点单", "href": "/school/orders"}, {"text": "新建点单"}],
    )


@get("/school/orders/new", **page(Role.SCHOOL))
async def order_form(request: Request, db: DB, term: QueryText = None, item: QueryText = None) -> Response:
    """新建点单: choose an item from the whitelist, then its teachers and times."""
    return await _form_page(request, db, {"term_id": term or "", "service_item_id": item or ""})


def _order_input(data: dict) -> OrderInput:
    term_id = uuid_or_none(one(data, "term_id"), "term_id")
    item_id = uuid_or_none(one(data, "service_item_id"), "service_item_id")
    size = one(data, "class_size")
    problems = []
    if term_id is None:
        problems.append({"field": "term_id", "code": "required", "message": "请选择学期"})
    if item_id is None:
        problems.append({"field": "service_item_id", "code": "required", "message": "请选择服务项目"})
    if not size.isdigit():
        problems.append({"field": "class_size", "code": "invalid_class_size", "message": "班额请填写整数"})
    if problems or term_id is None or item_id is None:  # a missing id is among the problems
        raise InvalidInput("提交的内容有误", code="invalid_input", details=problems)
    weekdays = [int(d) for d in values(data, "weekdays") if d.isdigit()]
    people = [p for p in (uuid_or_none(v, "people") for v in values(data, "people")) if p]
    return OrderInput(
        term_id=term_id,
        service_item_id=item_id,
        weekdays=weekdays,
        start_time=one(data, "start_time"),
        end_time=one(data, "end_time"),
        venue=one(data, "venue"),
        class_size=int(size),
        grade_bands=values(data, "grade_bands"),
        people=people,
    )


@post("/school/orders", status_code=200, **page(Role.SCHOOL))
async def place(request: Request, db: DB, data: Form) -> Response:
    """Place the order, then redirect (Post/Redirect/Get) to the list with its
    confirmation: a refresh of that page reads, it does not order again."""
    actor = current_user(request).actor
    form = dict(data.items())
    try:
        reply = await place_order(db, actor, school_code_of(request), _order_input(data))
    except DomainError as error:
        if error.status_code >= 500:
            raise
        return await _form_page(request, db, form, status_code=error.status_code, errors=errors_of(error))
    assert reply.value is not None  # no idempotency key here, so never a replay
    order = reply.value.order
    return Redirect(f"/school/orders?term={order.term_id}&placed={order.id}", status_code=303)


async def _act(request: Request, db, order_id: UUID, data: dict):
    """One workflow step on the version the caller saw; None when it went through, else
    (status, message, errors) to show."""
    action, reason = one(data, "action"), one(data, "reason")
    try:
        version = one(data, "version")
        await transition_order(
            db,
            current_user(request).actor,
            order_id,
            action=action,
            version=int(version) if version.isdigit() else None,
            reason=reason or None,
        )
    except Conflict as error:
        return 409, CONFLICT_TEXT if error.code in ("version_conflict", "transition_not_allowed") else error.message, {}
    except InvalidInput as error:
        return 422, error.message, errors_of(error)
    except DomainError as error:
        if error.status_code == 404 or error.status_code >= 500:
            raise
        return error.status_code, error.message, {}
    return None


@post("/school/orders/{order_id:uuid}/act", status_code=200, **page(Role.SCHOOL))
async def school_act(request: Request, db: DB, order_id: FromPath[UUID], data: Form) -> Response:
    failed = await _act(request, db, order_id, data)
    term = one(data, "term")
    if failed is None:
        return Redirect(f"/school/orders?term={term}&done={one(data, 'action')}", status_code=303)
    status, message, errors = failed
    return await _orders_page(
        request,
        db,
        term,
        status_code=status,
        message=message,
        errors=errors,
        tried=(str(order_id), one(data, "action")),
        reason=one(data, "reason"),
    )


async def _vendor_page(
    request: Request,
    db,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict | None = None,
    tried: tuple[str, str] | None = None,
    reason: str = "",
) -> Response:
    views = await list_vendor_orders(db, current_user(request).actor)
    return render(
        request,
        "vendor/orders.html",
        status_code=status_code,
        title="收到的订单",
        message_kind="error" if status_code >= 400 else "ok",
        rows=[{"view": v, "schedule": schedule(v), "actions": action_forms(v)} for v in views],
        standing_words=STANDING_WORDS,
        message=message,
        errors=errors or {},
        tried=tried,
        reason=reason,
        crumbs=[{"text": "机构", "href": "/vendor"}, {"text": "收到的订单"}],
    )


@get("/vendor/orders", **page(Role.VENDOR))
async def vendor_orders(request: Request, db: DB, done: QueryText = None) -> Response:
    """收到的订单: what schools ordered, to accept or decline (with a reason)."""
    return await _vendor_page(request, db, message=done_text(done))


@post("/vendor/orders/{order_id:uuid}/act", status_code=200, **page(Role.VENDOR))
async def vendor_act(request: Request, db: DB, order_id: FromPath[UUID], data: Form) -> Response:
    failed = await _act(request, db, order_id, data)
    if failed is None:
        return Redirect(f"/vendor/orders?done={one(data, 'action')}", status_code=303)
    status, message, errors = failed
    return await _vendor_page(
        request,
        db,
        status_code=status,
        message=message,
        errors=errors,
        tried=(str(order_id), one(data, "action")),
        reason=one(data, "reason"),
    )


ROUTES = [school_orders, order_form, place, school_act, vendor_orders, vendor_act]
