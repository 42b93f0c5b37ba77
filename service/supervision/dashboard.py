"""A region's dashboard for its bureau: orders by standing, the blocked and at-risk ones
with their causes, schools without a published timetable past the deadline, and vendors'
documents and the named people's clearances ending within 30 days, and the open
complaints about the region's schools by age, and the items whose satisfaction fell
below the threshold (in re-review). Every figure is derived at the instant of the read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from service.complaints import OpenComplaint, open_complaints_by_age
from service.db import Database
from service.documents import EndingDocument, documents_ending
from service.errors import Forbidden, NotFound
from service.orders import AT_RISK, BLOCKED, IN_FORCE, OrderView, Term, open_orders_in_regions, terms_for_region
from service.personnel import EntryClearance
from service.ratings import items_below_threshold
from service.regions import regions
from service.schools import schools_by_ids
from service.security import Actor, Role
from service.service_items import items_by_ids
from service.timetables import SchoolProgress, region_progress
from service.timeutil import EXPIRING_WITHIN, today_in_china, utcnow
from service.vendors import vendor_ids_in_regions, vendors_by_ids


@dataclass(frozen=True)
class Dashboard:
    region_code: str
    term: Term | None  # the term read (given, or the one in progress); None: no term applies
    orders_by_standing: dict[str, int]
    attention: list[OrderView]  # blocked first, then at risk
    timetables: list[SchoolProgress]  # every school; overdue ones first
    documents_ending: list[tuple[str, EndingDocument]]  # (vendor name, document)
    clearances_ending: list[ClearanceEnding]  # people teaching open orders, soonest first
    open_complaints: list[tuple[str, OpenComplaint]]  # (school code, case), oldest first
    below_threshold: list[BelowThreshold]  # items in re-review, the oldest first

    def complaints_by_age(self) -> dict[str, int]:
        """Open cases counted by how long they have waited (whole days)."""
        ages = [c.age_days for _, c in self.open_complaints]
        return {key: sum(1 for a in ages if low <= a <= high) for key, (low, high) in COMPLAINT_AGES.items()}


@dataclass(frozen=True)
class BelowThreshold:
    """An item whose term satisfaction fell below the region's threshold (in re-review)."""

    service_item_id: UUID
    vendor_name: str
    activity: str
    region_code: str
    satisfied: int
    ratings: int
    threshold_percent: int
    opened_at: datetime


#: The age bands of open complaints on the dashboard, in whole days since received.
COMPLAINT_AGES = {"within_7_days": (0, 7), "8_to_30_days": (8, 30), "over_30_days": (31, 10**6)}


@dataclass(frozen=True)
class ClearanceEnding:
    """A person named on an open order whose clearance (their checks) ends within 30 days."""

    person_id: UUID
    masked_name: str
    vendor_name: str
    last_day: date
    orders: int  # how many open orders of the region name them


def clearances_ending(
    named: list[tuple[UUID, EntryClearance]], vendor_names: dict[UUID, str], today: date
) -> list[ClearanceEnding]:
    """Of the people named on open orders ((vendor, person) once per order), those whose
    clearance ends within 30 days, with how many open orders name them."""
    horizon = today + EXPIRING_WITHIN
    found: dict[tuple[UUID, UUID], list] = {}
    for vendor_id, person in named:
        if person.cleared and person.cleared_until is not None and person.cleared_until <= horizon:
            entry = found.setdefault((person.person_id, vendor_id), [person, 0])
            entry[1] += 1
    return sorted(
        (
            ClearanceEnding(p.person_id, p.masked_name, vendor_names[vendor_id], p.cleared_until, n)
            for (_, vendor_id), (p, n) in found.items()
        ),
        key=lambda c: (c.last_day, c.vendor_name, c.masked_name),
    )


def _current(terms: list[Term], today) -> Term | None:
    running = [t for t in terms if t.starts_on <= today <= t.ends_on]
    return running[0] if running else None


async def region_dashboard(
    db: Database, actor: Actor, region_code: str, *, term_id: UUID | None = None, now: datetime | None = None
) -> Dashboard:
    now = now or utcnow()
    if regions().get(region_code) is None:
        raise NotFound("行政区划代码不存在", code="region_not_found")
    if actor.role not in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN) or not actor.covers_region(region_code):
        raise Forbidden("无权查看该地区的监管看板", code="region_forbidden")
    codes = regions().descendants(region_code)
    async with db.transaction() as session:
        terms = await terms_for_region(session, region_code)
        term = next((t for t in terms if t.id == term_id), None) if term_id else _current(terms, today_in_china(now))
        if term_id and term is None:
            raise NotFound("未找到适用于该地区的学期", code="term_not_found")
        orders = await open_orders_in_regions(session, actor, codes, now, term_id=term.id if term else None)
        vendor_ids = await vendor_ids_in_regions(session, codes)
        ending = await documents_ending(session, vendor_ids, today_in_china(now))
        complaints = await open_complaints_by_age(session, codes, now)
        reviews = await items_below_threshold(session, codes)
        items = await items_by_ids(session, [r.service_item_id for r in reviews])
        school_codes = {
            s.id: s.code for s in (await schools_by_ids(session, [c.school_id for c in complaints])).values()
        }
        horizon = today_in_china(now) + EXPIRING_WITHIN
        ending_people = {v for v, p in orders.named if p.cleared_until is not None and p.cleared_until <= horizon}
        named = [d.vendor_id for d in ending] + [r.vendor_id for r in reviews] + list(ending_people)
        names = {v.id: v.name for v in (await vendors_by_ids(session, named)).values()}
    attention = sorted(orders.attention, key=lambda v: (v.standing.standing != BLOCKED, v.school_code, str(v.order.id)))
    timetables = (await region_progress(db, actor, region_code, term.id, now=now))[1] if term else []
    return Dashboard(
        region_code,
        term,
        {s: orders.counts.get(s, 0) for s in (IN_FORCE, AT_RISK, BLOCKED)},
        attention,
        timetables,
        [(names[d.vendor_id], d) for d in ending],
        clearances_ending(orders.named, names, today_in_china(now)),
        [(school_codes[c.school_id], c) for c in complaints],
        [
            BelowThreshold(
                r.service_item_id,
                names[r.vendor_id],
                items[r.service_item_id].activity,
                r.region_code,
                r.satisfied,
                r.ratings,
                r.threshold_percent,
                r.opened_at,
            )
            for r in reviews
        ],
    )
