"""HTTP for timetables: the school's, the public's and the bureau's views."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from schemas.timetables import (
    DayNumbersOut,
    NumbersOut,
    PublicTimetableOut,
    RegionProgressOut,
    SchoolProgressOut,
    SessionOut,
    TimetableAction,
    TimetableOut,
    TimetableWrite,
)
from service.errors import NotFound
from service.printing import render, timetable_job
from service.security import Role
from service.service_items import CATEGORIES
from service.timetables import services
from service.web.access import access, public
from service.web.deps import DB, CurrentActor
from service.web.files import pdf_response
from service.web.idempotency import IfMatchHeader
from service.web.params import PathText

STAFF = (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


def _sessions(rows: list[dict]) -> list[SessionOut]:
    return [SessionOut(category_name=CATEGORIES[r["category_code"]], **r) for r in rows]


def _numbers(numbers: dict) -> NumbersOut:
    return NumbersOut(
        days=[DayNumbersOut(**d) for d in numbers["days"]],
        science_sessions=numbers["science_sessions"],
        conforms=numbers["conforms"],
        problems=numbers["problems"],
    )


def timetable_out(view: services.TimetableView) -> TimetableOut:
    t = view.timetable
    return TimetableOut(
        school_code=view.school.code,
        term_id=view.term_id,
        state=view.state,
        version=t.version if t else 0,
        sessions=_sessions(view.sessions),
        numbers=_numbers(view.numbers),
        allowed_actions=view.allowed_actions,
        filed_at=t.filed_at if t else None,
        published_at=t.published_at if t else None,
    )


class TimetableController(Controller):
    path = "/api/v1/schools/{school_code:str}/timetables/{term_id:uuid}"
    tags = ["timetables"]

    @get("/", **access(Role.SCHOOL, *STAFF, errors=(404,)))
    async def read(self, db: DB, actor: CurrentActor, school_code: PathText, term_id: FromPath[UUID]) -> TimetableOut:
        """The timetable with the school's accepted orders and its §1(1) numbers."""
        return timetable_out(await services.get_timetable(db, actor, school_code, term_id))

    @put("/", **access(Role.SCHOOL, errors=(404, 409, 422)))
    async def write(
        self,
        db: DB,
        actor: CurrentActor,
        school_code: PathText,
        term_id: FromPath[UUID],
        data: JSONBody[TimetableWrite],
        if_match: IfMatchHeader = None,
    ) -> TimetableOut:
        """Replace the school's own sessions of a draft (`version` 0 for a new one)."""
        sessions = [msgspec.structs.asdict(s) for s in data.sessions]
        return timetable_out(
            await services.save_timetable(
                db, actor, school_code, term_id, sessions, version=data.version, if_match=if_match
            )
        )

    @post("/{action:str}", status_code=200, **access(Role.SCHOOL, errors=(404, 409, 422)))
    async def act(
        self,
        db: DB,
        actor: CurrentActor,
        school_code: PathText,
        term_id: FromPath[UUID],
        action: PathText,
        data: JSONBody[TimetableAction],
        if_match: IfMatchHeader = None,
    ) -> TimetableOut:
        """`file` (备案; refused with the numbers when they do not conform), `publish`,
        `revise` (back to draft; a reason once published)."""
        if action not in ("file", "publish", "revise"):
            raise NotFound("没有该操作", code="not_found")
        return timetable_out(
            await services.act_on_timetable(
                db, actor, school_code, term_id, action, version=data.version, if_match=if_match, reason=data.reason
            )
        )


class PublicTimetableController(Controller):
    path = "/api/v1/public/timetables"
    tags = ["public"]

    @get("/{school_code:str}/{term_ref:str}", **public(errors=(404, 503)))
    async def published(
        self, db: DB, school_code: PathText, term_ref: PathText
    ) -> PublicTimetableOut | Response[bytes]:
        """The timetable as the school published it (no sign-in): `…/{term_id}` as JSON,
        `…/{term_id}.pdf` as a PDF for parents."""
        as_pdf = term_ref.endswith(".pdf")
        try:
            term_id = UUID(term_ref.removesuffix(".pdf"))
        except ValueError:
            raise NotFound("该学校尚未公布本学期的课后服务安排表", code="timetable_not_published") from None
        if as_pdf:
            return pdf_response(await render(await timetable_job(db, school_code, term_id)), "timetable.pdf")
        found = await services.public_timetable(db, school_code, term_id)
        return PublicTimetableOut(
            school_code=found.school.code,
            school_name=found.school.name,
            term_id=term_id,
            term_name=found.term_name,
            published_at=found.published["published_at"],
            sessions=_sessions(found.published["sessions"]),
            numbers=_numbers(found.published["numbers"]),
        )


class RegionTimetablesController(Controller):
    path = "/api/v1/regions/{region_code:str}/timetables"
    tags = ["timetables"]

    @get("/", **access(*STAFF, errors=(404, 422)))
    async def progress(
        self, db: DB, actor: CurrentActor, region_code: PathText, term: FromQuery[UUID]
    ) -> RegionProgressOut:
        """Each school of the region: its timetable's state for the term; those not
        published by the term's deadline first, marked `overdue`."""
        due_on, rows = await services.region_progress(db, actor, region_code, term)
        return RegionProgressOut(
            region_code=region_code,
            term_id=term,
            timetable_due_on=due_on.isoformat(),
            schools=[
                SchoolProgressOut(
                    school_code=p.school.code,
                    school_name=p.school.name,
                    state=p.state,
                    published_at=p.published_at,
                    overdue=p.overdue,
                )
                for p in rows
            ],
        )
