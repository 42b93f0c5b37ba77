"""Reading complaints: who sees a case (staff in scope, and whoever filed it), the case
as its handlers see it, the lists, and the open cases for the bureau's dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.complaints.models import Complaint, ComplaintEvidence
from service.db import Database
from service.errors import Forbidden, InvalidInput, NotFound
from service.four_eyes import request_tags
from service.personnel import suspended_among
from service.regions import regions
from service.schools import School
from service.security import Actor, Role
from service.whitelist import WhitelistActionRequest
from workflows import allowed_actions
from workflows.complaint import COMPLAINT, OPEN_STATES

STAFF = (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


@dataclass(frozen=True)
class ComplaintView:
    complaint: Complaint
    school_code: str
    evidence: list[ComplaintEvidence]
    suspension_request: WhitelistActionRequest | None
    person_suspended: bool
    allowed_actions: list[str] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return COMPLAINT.state_label(self.complaint.state)


def handler_tags(actor: Actor, complaint: Complaint) -> frozenset[str]:
    return request_tags(actor, None) if actor.covers_region(complaint.region_code) else frozenset()


def _visible(actor: Actor, complaint: Complaint) -> bool:
    staff = actor.role in STAFF and actor.covers_region(complaint.region_code)
    return staff or (complaint.filed_by is not None and complaint.filed_by == actor.account_id)


async def load_complaint(session: AsyncSession, actor: Actor, complaint_id: UUID, *, lock: bool = False) -> Complaint:
    query = select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    complaint = (await session.exec(query)).first()
    if complaint is None or not _visible(actor, complaint):
        raise NotFound("未找到该投诉", code="complaint_not_found")
    return complaint


async def view_of(
    session: AsyncSession, actor: Actor, complaint: Complaint, school_code: str | None = None
) -> ComplaintView:
    if school_code is None:
        school_code = (await session.exec(select(School.code).where(School.id == complaint.school_id))).one()
    evidence = (
        await session.exec(
            select(ComplaintEvidence)
            .where(ComplaintEvidence.complaint_id == complaint.id)
            .order_by(col(ComplaintEvidence.created_at))
        )
    ).all()
    request = (
        await session.exec(
            select(WhitelistActionRequest)
            .where(WhitelistActionRequest.complaint_id == complaint.id)
            .order_by(col(WhitelistActionRequest.requested_at).desc())
        )
    ).first()
    suspended = complaint.person_id is not None and complaint.person_id in await suspended_among(
        session, [complaint.person_id]
    )
    return ComplaintView(
        complaint,
        school_code,
        list(evidence),
        request,
        suspended,
        allowed_actions(COMPLAINT, complaint.state, handler_tags(actor, complaint)),
    )


async def get_complaint(db: Database, actor: Actor, complaint_id: UUID) -> ComplaintView:
    async with db.transaction() as session:
        return await view_of(session, actor, await load_complaint(session, actor, complaint_id))


async def list_complaints(
    db: Database, actor: Actor, *, region_code: str | None = None, state: str | None = None
) -> list[ComplaintView]:
    """The complaints about schools of a region in scope (default: the caller's), oldest first."""
    if actor.role not in STAFF:
        raise Forbidden("只有教育行政部门可以查看投诉列表", code="role_forbidden")
    if state is not None and state not in COMPLAINT.states:
        raise InvalidInput.field("state", "invalid_state", "状态须为 " + "、".join(COMPLAINT.states))
    async with db.transaction() as session:
        query = select(Complaint).order_by(col(Complaint.created_at), col(Complaint.id)).limit(500)
        region = region_code or actor.region_code
        if region is not None:
            if not actor.covers_region(region):
                raise NotFound("行政区划不在权限范围内", code="region_not_found")
            query = query.where(col(Complaint.region_code).in_(regions().descendants(region)))
        elif not actor.is_admin:
            return []
        if state is not None:
            query = query.where(Complaint.state == state)
        return [await view_of(session, actor, c) for c in (await session.exec(query)).all()]


@dataclass(frozen=True)
class OpenComplaint:
    """An open case as the bureau's dashboard shows it (nothing personal)."""

    complaint_id: UUID
    case_code: str
    school_id: UUID
    category: str
    state: str
    received_at: datetime
    age_days: int


async def open_complaints_by_age(
    session: AsyncSession, region_codes: Sequence[str], now: datetime
) -> list[OpenComplaint]:
    """Every received or investigating complaint about the schools of these regions,
    oldest first, with its age in whole days at `now` (for the dashboard)."""
    rows = (
        await session.exec(
            select(Complaint)
            .where(col(Complaint.region_code).in_(list(region_codes)), col(Complaint.state).in_(list(OPEN_STATES)))
            .order_by(col(Complaint.created_at), col(Complaint.id))
        )
    ).all()
    return [
        OpenComplaint(c.id, c.case_code, c.school_id, c.category, c.state, c.created_at, (now - c.created_at).days)
        for c in rows
    ]
