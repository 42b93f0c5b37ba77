"""HTTP for the bureau's region dashboard."""

from __future__ import annotations

from uuid import UUID

from litestar import get
from litestar.params import FromQuery

from schemas.orders import StandingReason
from schemas.supervision import (
    AttentionOrder,
    BelowThresholdOut,
    DashboardOut,
    EndingClearanceOut,
    EndingDocumentOut,
    OpenComplaintOut,
)
from schemas.timetables import SchoolProgressOut
from service.security import Role
from service.supervision.dashboard import region_dashboard
from service.web.access import access
from service.web.deps import DB, CurrentActor
from service.web.params import PathText


@get(
    "/api/v1/regions/{region_code:str}/dashboard",
    tags=["supervision"],
    **access(Role.REVIEWER, Role.AUDITOR, Role.ADMIN, errors=(404,)),
)
async def dashboard(
    db: DB, actor: CurrentActor, region_code: PathText, term: FromQuery[UUID | None] = None
) -> DashboardOut:
    """Orders by standing, blocked and at-risk orders with their causes, schools whose
    timetable is overdue, vendors' documents and named people's clearances ending
    within 30 days, open complaints by age, items below
    the satisfaction threshold — all as of now.
    `term`: default the term in progress in the region."""
    d = await region_dashboard(db, actor, region_code, term_id=term)
    return DashboardOut(
        region_code=d.region_code,
        term_id=d.term.id if d.term else None,
        term_name=d.term.name if d.term else None,
        orders_by_standing=d.orders_by_standing,
        attention=[
            AttentionOrder(
                order_id=v.order.id,
                school_code=v.school_code,
                vendor_name=v.vendor_name,
                activity=v.activity,
                standing=v.standing.standing,
                standing_reasons=[StandingReason(**r) for r in v.standing.reasons],
            )
            for v in d.attention
        ],
        timetables_overdue=[
            SchoolProgressOut(
                school_code=p.school.code,
                school_name=p.school.name,
                state=p.state,
                published_at=p.published_at,
                overdue=True,
            )
            for p in d.timetables
            if p.overdue
        ],
        timetables_published=sum(1 for p in d.timetables if p.published_at is not None),
        schools=len(d.timetables),
        documents_ending=[
            EndingDocumentOut(
                vendor_id=doc.vendor_id, vendor_name=name, doc_type=doc.doc_type, last_day=doc.last_day.isoformat()
            )
            for name, doc in d.documents_ending
        ],
        clearances_ending=[
            EndingClearanceOut(
                person_id=c.person_id,
                masked_name=c.masked_name,
                vendor_name=c.vendor_name,
                last_day=c.last_day.isoformat(),
                orders=c.orders,
            )
            for c in d.clearances_ending
        ],
        open_complaints_by_age=d.complaints_by_age(),
        open_complaints=[
            OpenComplaintOut(
                complaint_id=c.complaint_id,
                school_code=code,
                category=c.category,
                state=c.state,
                received_at=c.received_at,
                age_days=c.age_days,
            )
            for code, c in d.open_complaints
        ],
        below_threshold=[
            BelowThresholdOut(
                service_item_id=b.service_item_id,
                vendor_name=b.vendor_name,
                activity=b.activity,
                region_code=b.region_code,
                satisfied=b.satisfied,
                ratings=b.ratings,
                threshold_percent=b.threshold_percent,
                opened_at=b.opened_at,
            )
            for b in d.below_threshold
        ],
    )
