"""The bureau's dashboard page (监管看板) per region: orders by standing, the blocked and
at-risk ones with their causes in words, schools without a published timetable by the
deadline, documents and named people's clearances ending within 30 days, open
complaints by age.

It is the supervision front door's dashboard, the same as the API's, as of the read."""

from __future__ import annotations

from litestar import Request, Response, get

from service.complaints import CATEGORIES as COMPLAINT_CATEGORIES
from service.console.order_pages import STANDING_WORDS, uuid_or_none
from service.console.reviewer_pages import region_choices
from service.console.web import current_user, page, render
from service.orders import list_terms
from service.security import Role
from service.supervision import region_dashboard
from service.web.deps import DB
from service.web.params import QueryText
from workflows.complaint import COMPLAINT

BUREAU = (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
COMPLAINT_AGE_LABELS = [("within_7_days", "7 天以内"), ("8_to_30_days", "8–30 天"), ("over_30_days", "超过 30 天")]


@get("/supervision/dashboard", **page(*BUREAU))
async def dashboard(request: Request, db: DB, region: QueryText = None, term: QueryText = None) -> Response:
    actor = current_user(request).actor
    region_code = (region or "").strip() or actor.region_code or "360000"
    board = await region_dashboard(db, actor, region_code, term_id=uuid_or_none(term, "term"))
    terms = await list_terms(db, actor, region_code)
    overdue = [p for p in board.timetables if p.overdue]
    return render(
        request,
        "supervision/dashboard.html",
        title="监管看板",
        board=board,
        region_code=region_code,
        region_choices=region_choices(actor),
        terms=terms,
        standing_words=STANDING_WORDS,
        overdue=overdue,
        published=sum(1 for p in board.timetables if p.published_at is not None),
        by_age=board.complaints_by_age(),
        complaint_ages=COMPLAINT_AGE_LABELS,
        complaint_categories=COMPLAINT_CATEGORIES,
        complaint_states=COMPLAINT.state_labels,
        crumbs=[{"text": "监管"}, {"text": "监管看板"}],
    )


ROUTES = [dashboard]
