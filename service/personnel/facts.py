"""The clearance facts of many people at once: their check records as clearance reads
them, the regions whose settings apply, and the entry clearances a vendor's staff have
(what applications and the gate roster ask)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Exists, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service import timeutil
from service.db import driver_connection
from service.personnel.clearance import CheckFact, FactTuple, cleared_until
from service.personnel.models import (
    BackgroundCheck,
    BarLift,
    Engagement,
    Person,
)
from service.personnel.people import Engaged, engagements_of
from service.personnel.rules import bar_lift_in_force_sql, engagement_in_force
from service.personnel.settings import PersonnelSettings, settings_for_region_sets, settings_for_regions
from service.personnel.suspensions import suspended_sql
from service.privacy import mask_name


def _lifted_exists() -> Exists:
    # Only a confirmed lift lifts; a check may have several lift rows (closed ones
    # stay as records), so ask EXISTS rather than join (one fact per check).
    return (
        select(BarLift.id)
        .where(col(BarLift.check_id) == col(BackgroundCheck.id), text(bar_lift_in_force_sql("bar_lifts")))
        .exists()
    )


#: Everything `entry_clearances_many` reads of a person, in one statement: the person,
#: open suspension (`suspended_sql`), the engagements without a departure with their
#: vendors' regions (`engagement_in_force` then judges the start date), and the check
#: records as `clearance.cleared_until` reads them (`FactTuple`), each as an array of
#: anonymous records (asyncpg gives tuples).
_PEOPLE_FACTS = f"""
SELECT p.id, p.name, p.origin_region_code, {suspended_sql("p")},
       ARRAY(SELECT ROW(e.vendor_id, v.region_code, e.ended_at, e.start_date)
               FROM engagements e JOIN vendors v ON v.id = e.vendor_id
              WHERE e.person_id = p.id AND e.ended_at IS NULL),
       ARRAY(SELECT ROW(c.check_type, c.result, c.query_date, c.valid_until, c.recorded_at,
                        EXISTS (SELECT 1 FROM bar_lifts l WHERE l.check_id = c.id AND {bar_lift_in_force_sql("l")}))
               FROM background_checks c WHERE c.person_id = p.id)
  FROM people p
 WHERE p.id = ANY($1::uuid[])
"""


async def check_facts_of(session: AsyncSession, person_ids: Iterable[UUID]) -> dict[UUID, list[CheckFact]]:
    ids = list(set(person_ids))
    found: dict[UUID, list[CheckFact]] = {pid: [] for pid in ids}
    if not ids:
        return found
    # sqlmodel types select() of at most four columns; these eight give plain rows.
    query = select(  # type: ignore[call-overload]
        BackgroundCheck.id,
        BackgroundCheck.person_id,
        BackgroundCheck.check_type,
        BackgroundCheck.result,
        BackgroundCheck.query_date,
        BackgroundCheck.valid_until,
        BackgroundCheck.recorded_at,
        _lifted_exists(),
    ).where(col(BackgroundCheck.person_id).in_(ids))
    for row in (await session.exec(query)).all():
        found[row[1]].append(
            CheckFact(
                id=row[0],
                check_type=row[2],
                result=row[3],
                query_date=row[4],
                valid_until=row[5],
                recorded_at=row[6],
                lifted=bool(row[7]),
            )
        )
    return found


def settings_regions(person: Person, engaged: Iterable[Engaged], today: date) -> frozenset[str]:
    """The regions whose settings apply to the person on `today`: those of the vendors
    engaging them in force (`rules.engagement_in_force`, as the person lookup reads
    them); with none, the region that first recorded the person."""
    codes = frozenset(v.region_code for e, v in engaged if e.in_force(today))
    if not codes and person.origin_region_code:
        codes = frozenset({person.origin_region_code})
    return codes


async def _settings_of(
    session: AsyncSession, current: dict[UUID, list[Engaged]], person: Person, today: date
) -> PersonnelSettings:
    """The strictest settings of `settings_regions`."""
    return await settings_for_regions(session, settings_regions(person, current.get(person.id, []), today))


@dataclass(frozen=True)
class EntryClearance:
    """May a person enter schools for one vendor, and until when (for other domains)."""

    person_id: UUID
    masked_name: str  # never the full name: this travels into other domains' views
    cleared: bool  # known, engaged by the vendor in force today, and `cleared`
    cleared_until: date | None  # the last day of the clearance, when cleared


async def entry_clearances(
    session: AsyncSession, vendor_id: UUID, person_ids: Sequence[UUID], now: datetime | None = None
) -> dict[UUID, EntryClearance]:
    """For each of `person_ids` (unknown ones included), whether they may enter a school
    for this vendor now: engaged in force today (started, not departed), `cleared`, and
    not suspended pending a complaint's investigation (service/personnel/suspensions.py)."""
    return (await entry_clearances_many(session, {vendor_id: person_ids}, now))[vendor_id]


async def entry_clearances_many(
    session: AsyncSession, wanted: Mapping[UUID, Sequence[UUID]], now: datetime | None = None
) -> dict[UUID, dict[UUID, EntryClearance]]:
    """`entry_clearances` for several vendors at once ({vendor id: person ids}): one
    statement per kind of fact for everyone, the settings read once per set of regions
    (a school's order list names the people of dozens of vendors)."""
    ids = list(dict.fromkeys(p for person_ids in wanted.values() for p in person_ids))
    if not ids:
        return {vendor_id: {} for vendor_id in wanted}
    now = now or timeutil.utcnow()
    today = timeutil.today_in_china(now)
    # Plain rows, not ORM objects, in one statement: a dashboard reads thousands of people at once.
    people: dict[UUID, tuple[str, str | None]] = {}
    engaged: dict[UUID, list[tuple[UUID, str]]] = {}  # in force today: (vendor, region)
    facts: dict[UUID, list[FactTuple]] = {}
    suspended: set[UUID] = set()
    for person_id, name, origin, is_suspended, engagements, checks in await (await driver_connection(session)).fetch(
        _PEOPLE_FACTS, ids
    ):
        people[person_id] = (name, origin)
        engaged[person_id] = [
            (vendor_id, region_code)
            for vendor_id, region_code, ended_at, start_date in engagements
            if engagement_in_force(ended_at, start_date, today)
        ]
        facts[person_id] = checks
        if is_suspended:
            suspended.add(person_id)
    regions_of = {
        person_id: frozenset(region for _, region in engaged[person_id])
        or (frozenset({origin}) if origin else frozenset())  # as settings_regions says
        for person_id, (_, origin) in people.items()
    }
    settings = await settings_for_region_sets(session, regions_of.values())  # one read for every region
    states: dict[UUID, tuple[bool, date | None]] = {
        person_id: cleared_until(facts[person_id], settings[regions_of[person_id]], now, today) for person_id in people
    }
    found: dict[UUID, dict[UUID, EntryClearance]] = {}
    for vendor_id, person_ids in wanted.items():
        answers = found.setdefault(vendor_id, {})
        for person_id in dict.fromkeys(person_ids):
            person = people.get(person_id)
            if person is None:
                answers[person_id] = EntryClearance(person_id, "", False, None)
                continue
            engaged_here = any(v == vendor_id for v, _ in engaged[person_id])
            cleared = engaged_here and states[person_id][0] and person_id not in suspended
            answers[person_id] = EntryClearance(
                person_id, mask_name(person[0]), cleared, states[person_id][1] if cleared else None
            )
    return found


async def cleared_staff(session: AsyncSession, vendor_id: UUID, now: datetime | None = None) -> list[EntryClearance]:
    """The vendor's people who may enter schools for it now, by masked name, oldest
    engagement first (for a school naming who will teach an order)."""
    rows = (
        await session.exec(
            select(Engagement.person_id)
            .where(Engagement.vendor_id == vendor_id, col(Engagement.ended_at).is_(None))
            .order_by(col(Engagement.start_date), col(Engagement.created_at))
        )
    ).all()
    ids = list(dict.fromkeys(rows))
    found = await entry_clearances(session, vendor_id, ids, now)
    return [found[person_id] for person_id in ids if found[person_id].cleared]


async def uncleared_among(
    session: AsyncSession, vendor_id: UUID, person_ids: Sequence[UUID], now: datetime | None = None
) -> list[UUID]:
    """Those of `person_ids` who may not enter a school for this vendor now: unknown,
    not engaged by the vendor in force today (not started yet, or departed), or not
    `cleared` (for other domains' guards)."""
    found = await entry_clearances(session, vendor_id, person_ids, now)
    return [person_id for person_id, entry in found.items() if not entry.cleared]


async def not_engaged_by(session: AsyncSession, vendor_id: UUID, person_ids: Sequence[UUID]) -> list[UUID]:
    """Those of `person_ids` the vendor does not currently engage."""
    ids = list(dict.fromkeys(person_ids))
    current = await engagements_of(session, ids, current_only=True)
    return [pid for pid in ids if not any(v.id == vendor_id for _, v in current[pid])]


@dataclass(frozen=True)
class ClearanceEndingOn:
    person_id: UUID
    vendor_id: UUID
    masked_name: str
    last_day: date


async def clearances_ending_on(
    session: AsyncSession, days: Sequence[date], now: datetime | None = None
) -> list[ClearanceEndingOn]:
    """People cleared now for a vendor that engages them, whose clearance's last valid
    day is one of `days` (for the reminders; per vendor, as `entry_clearances`)."""
    if not days:
        return []
    wanted = set(days)
    rows = (
        await session.exec(select(Engagement.vendor_id, Engagement.person_id).where(col(Engagement.ended_at).is_(None)))
    ).all()
    by_vendor: dict[UUID, list[UUID]] = {}
    for vendor_id, person_id in rows:
        by_vendor.setdefault(vendor_id, []).append(person_id)
    # One set of statements for everyone engaged, not one per vendor: the scan reads every
    # engaged person and runs in each worker.
    clearances = await entry_clearances_many(session, by_vendor, now)
    return [
        ClearanceEndingOn(person_id, vendor_id, entry.masked_name, entry.cleared_until)
        for vendor_id in sorted(clearances)
        for person_id, entry in clearances[vendor_id].items()
        if entry.cleared and entry.cleared_until in wanted
    ]
