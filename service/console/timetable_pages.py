"""Timetable pages (课后服务安排表, §1(1), §1(3)): the school edits its own sessions, sees
the numbers (interest share per day, an interest activity every day, science present),
files and publishes; the public reads what was published, on a phone, with its PDF.

The numbers, the refusals and the allowed steps are the timetables front door's; the page
turns rows of a form into its sessions and its answer back into tables."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

import service.timetables as timetables
from service.console.order_pages import Form, errors_of, one, school_code_of, term_of, uuid_or_none, values
from service.console.web import current_user, page, public_page, render
from service.errors import Conflict, DomainError, InvalidInput
from service.orders import list_terms
from service.security import Role
from service.service_items import CATEGORIES
from service.timetables import WEEKDAY_NAMES
from service.web.deps import DB
from service.web.params import PathText, QueryText
from workflows.timetable import TIMETABLE

FIELDS = ("weekday", "start_time", "end_time", "category_code", "content", "venue", "teacher", "class_size")
BLANK_ROWS = 2
CONFLICT_TEXT = "安排表已被他人更新，请查看最新内容后再操作"


def new_key() -> str:
    return secrets.token_hex(4)


def _number(value: str) -> int | str:
    """A number the form typed, or the text itself (the service names it as wrong)."""
    return int(value) if value.isdigit() else value


def rows_of(sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The school's own sessions as editable rows, each with its key."""
    return [{"key": new_key(), **{f: str(s.get(f, "")) for f in FIELDS}} for s in sessions if "order_id" not in s]


def submitted_rows(data: dict) -> list[dict[str, Any]]:
    """The form's rows in their order (a row named by its key), the removed ones left out."""
    removed = set(values(data, "remove"))
    rows = []
    for key in values(data, "row"):
        if key in removed:
            continue
        rows.append({"key": key, **{f: one(data, f"{f}_{key}") for f in FIELDS}})
    return rows


def sessions_of(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The sessions to save (blank rows skipped) and, by position, the row each came from."""
    sessions, keys = [], []
    for row in rows:
        if not any(row[f] for f in FIELDS if f not in ("weekday", "category_code")):  # selects always hold one
            continue
        sessions.append(
            {f: _number(row[f]) if f in ("weekday", "category_code", "class_size") else row[f] for f in FIELDS}
        )
        keys.append(row["key"])
    return sessions, keys


def row_errors(error: DomainError, keys: list[str]) -> dict[str, str]:
    """`sessions[3].venue` -> `<key of row 3>.venue`, so each message sits in its cell."""
    found = {}
    for detail in error.details:
        field = detail.get("field") or "summary"
        if field.startswith("sessions[") and "]." in field:
            index, name = field[len("sessions[") :].split("].", 1)
            if index.isdigit() and int(index) < len(keys):
                field = f"{keys[int(index)]}.{name}"
        found[field] = detail["message"]
    return found or {"summary": error.message}


async def _page(
    request: Request,
    db,
    term: str | None,
    *,
    status_code: int = 200,
    rows: list | None = None,
    errors: dict | None = None,
    message: str | None = None,
    problems: list | None = None,
    reason: str = "",
) -> Response:
    actor = current_user(request).actor
    code = school_code_of(request)
    terms = await list_terms(db, actor, None)
    chosen = term_of(terms, uuid_or_none(term, "term"))
    view = await timetables.get_timetable(db, actor, code, chosen.id) if chosen else None
    editable = view is not None and view.state == "draft"
    if rows is None:
        rows = rows_of(view.sessions) if view else []
    if editable:
        rows = rows + [{"key": new_key(), **dict.fromkeys(FIELDS, "")} for _ in range(BLANK_ROWS if not errors else 0)]
    actions = (
        [
            {
                "action": a,
                "label": TIMETABLE.action_label(a),
                "reason_required": view.state == "published" and a == "revise",
            }
            for a in view.allowed_actions
        ]
        if view
        else []
    )
    return render(
        request,
        "school/timetable.html",
        status_code=status_code,
        title="课后服务安排表",
        terms=terms,
        term=chosen,
        view=view,
        rows=rows,
        editable=editable,
        errors=errors or {},
        message=message,
        message_kind="error" if status_code >= 400 else "ok",
        problems=problems or [],
        actions=actions,
        reason=reason,
        weekdays=WEEKDAY_NAMES,
        categories=sorted(CATEGORIES.items()),
        version=view.timetable.version if view and view.timetable else 0,
        school_code=code,
        public_href=f"/public/timetables/{code}/{chosen.id}" if chosen else None,
        crumbs=[{"text": "点单与安排"}, {"text": "课后服务安排表"}],
    )


@get("/school/timetable", **page(Role.SCHOOL))
async def timetable(request: Request, db: DB, term: QueryText = None, done: QueryText = None) -> Response:
    """课后服务安排表: the week's sessions (own and ordered), its numbers and its steps."""
    message = (
        f"已{TIMETABLE.action_label(done)}" if done in TIMETABLE.actions else ("已保存" if done == "save" else None)
    )
    return await _page(request, db, term, message=message)


@get("/school/timetable/row", **page(Role.SCHOOL))
async def blank_row(request: Request) -> Response:
    """One more empty row (HTMX appends it to the table)."""
    return render(
        request,
        "school/timetable_row.html",
        row={"key": new_key(), **dict.fromkeys(FIELDS, "")},
        errors={},
        weekdays=WEEKDAY_NAMES,
        categories=sorted(CATEGORIES.items()),
    )


@post("/school/timetable", status_code=200, **page(Role.SCHOOL))
async def save(request: Request, db: DB, data: Form) -> Response:
    term = one(data, "term")
    rows = submitted_rows(data)
    sessions, keys = sessions_of(rows)
    version = one(data, "version")
    try:
        await timetables.save_timetable(
            db,
            current_user(request).actor,
            school_code_of(request),
            uuid_or_none(term, "term") or UUID(int=0),
            sessions,
            version=int(version) if version.isdigit() else None,
        )
    except Conflict as error:
        return await _page(
            request,
            db,
            term,
            status_code=409,
            rows=rows,
            message=CONFLICT_TEXT if error.code == "version_conflict" else error.message,
        )
    except DomainError as error:
        if error.status_code == 404 or error.status_code >= 500:
            raise
        return await _page(
            request,
            db,
            term,
            status_code=error.status_code,
            rows=rows,
            errors=row_errors(error, keys),
            message=error.message,
        )
    return Redirect(f"/school/timetable?term={term}&done=save", status_code=303)


@post("/school/timetable/act", status_code=200, **page(Role.SCHOOL))
async def act(request: Request, db: DB, data: Form) -> Response:
    """报备案 / 向家长公布 / 撤回修改, on the version the school saw."""
    term, action, reason = one(data, "term"), one(data, "action"), one(data, "reason")
    version = one(data, "version")
    try:
        await timetables.act_on_timetable(
            db,
            current_user(request).actor,
            school_code_of(request),
            uuid_or_none(term, "term") or UUID(int=0),
            action,
            version=int(version) if version.isdigit() else None,
            reason=reason or None,
        )
    except Conflict as error:
        text = CONFLICT_TEXT if error.code in ("version_conflict", "transition_not_allowed") else error.message
        return await _page(request, db, term, status_code=409, message=text)
    except InvalidInput as error:
        problems = [d["message"] for d in error.details] if error.code == "timetable_not_conforming" else []
        return await _page(
            request,
            db,
            term,
            status_code=422,
            message=error.message,
            problems=problems,
            errors=errors_of(error) if not problems else {},
            reason=reason,
        )
    except DomainError as error:
        if error.status_code == 404 or error.status_code >= 500:
            raise
        return await _page(request, db, term, status_code=error.status_code, message=error.message)
    return Redirect(f"/school/timetable?term={term}&done={action}", status_code=303)


def by_day(sessions: list[dict[str, Any]], numbers: dict[str, Any]) -> list[dict[str, Any]]:
    """The week as one card per teaching day: its sessions and that day's numbers."""
    days = {d["weekday"]: d for d in numbers.get("days", [])}
    return [
        {
            "weekday": day,
            "name": WEEKDAY_NAMES[day],
            "numbers": days.get(day),
            "sessions": [s for s in sessions if s["weekday"] == day],
        }
        for day in sorted({s["weekday"] for s in sessions})
    ]


@get("/public/timetables/{school_code:str}/{term_id:uuid}", **public_page())
async def public_timetable(request: Request, db: DB, school_code: PathText, term_id: FromPath[UUID]) -> Response:
    """A school's published timetable for parents: one card per day, fees, the PDF."""
    published = await timetables.public_timetable(db, school_code, term_id)
    body = published.published
    return render(
        request,
        "public/timetable.html",
        title=f"{published.school.name} 课后服务安排表",
        school=published.school,
        term_name=published.term_name,
        days=by_day(body["sessions"], body["numbers"]),
        numbers=body["numbers"],
        published_at=body.get("published_at"),
        pdf_href=f"/api/v1/public/timetables/{school_code}/{term_id}.pdf",
    )


ROUTES = [timetable, blank_row, save, act, public_timetable]
