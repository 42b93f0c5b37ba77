"""People and their engagements: adding a person to a vendor's staff, departures, the
person view with its clearance, rosters, and the audited read of an ID number.

The rest of personnel lives beside it: `people` (identity and who sees a person),
`facts` (clearance of many at once), `consents`, `certificates`, `checks`, `bar_lifts`.

Who sees a person:
- admin: everyone;
- a vendor: people it currently engages (a departure ends that at once);
- a reviewer or auditor: people engaged (now or before) by a vendor in its region, or
  first recorded in its region (an import by a reviewer there);
- nobody else. Outside that, a person answers 404 exactly as a missing one.

Sensitive reads (the unmasked ID number, the content of a check result) append an
audit event in the same transaction as the read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service import timeutil
from service.audit import diff, record_event
from service.db import Database
from service.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    problem,
    raise_problems,
)
from service.idempotency import Idempotency, Reply, run_once
from service.identifiers import InvalidIdentifier, is_phone, normalize_id_number
from service.personnel.clearance import Clearance, clearance
from service.personnel.facts import _settings_of, check_facts_of, settings_regions
from service.personnel.models import (
    ROLES,
    Engagement,
    Person,
)
from service.personnel.people import (
    ID_NUMBER_PURPOSE,
    Engaged,
    _visible_engagements,
    clean_name,
    engagements_of,
    identity,
    load_visible_person,
)
from service.personnel.settings import PersonnelSettings, settings_for_regions
from service.privacy import mask_name, mask_phone
from service.schools import School, school_by_code
from service.security import Actor, Keyring, Role
from service.vendors import Vendor, load_visible_vendor, vendors_by_ids
from service.webhooks import enqueue_standing_change


@dataclass(frozen=True)
class PersonView:
    person: Person
    clearance: Clearance
    engagements: list[Engaged]  # those the viewer may see


async def _view(session: AsyncSession, actor: Actor, person: Person, engaged: list[Engaged]) -> PersonView:
    facts = (await check_facts_of(session, [person.id]))[person.id]
    now = timeutil.utcnow()
    settings = await _settings_of(session, {person.id: engaged}, person, timeutil.today_in_china(now))
    return PersonView(person, clearance(facts, settings, now), _visible_engagements(actor, engaged))


async def get_person(db: Database, actor: Actor, person_id: UUID) -> PersonView:
    async with db.transaction() as session:
        person, engaged = await load_visible_person(session, actor, person_id)
        return await _view(session, actor, person, engaged)


@dataclass(frozen=True)
class RosterEntry:
    person: Person
    engagement: Engagement
    clearance: Clearance


async def vendor_roster(db: Database, actor: Actor, vendor_id: UUID) -> list[RosterEntry]:
    """The vendor's current people with their clearance, oldest engagement first."""
    async with db.transaction() as session:
        vendor = await load_visible_vendor(session, actor, vendor_id)
        rows = (
            await session.exec(
                select(Engagement, Person)
                .join(Person, col(Person.id) == col(Engagement.person_id))
                .where(Engagement.vendor_id == vendor.id, col(Engagement.ended_at).is_(None))
                .order_by(col(Engagement.start_date), col(Engagement.created_at))
            )
        ).all()
        ids = [person.id for _, person in rows]
        facts = await check_facts_of(session, ids)
        current = await engagements_of(session, ids, current_only=True)
        now = timeutil.utcnow()
        today = timeutil.today_in_china(now)
        cache: dict[frozenset[str], PersonnelSettings] = {}
        entries = []
        for engagement, person in rows:
            codes = settings_regions(person, current[person.id], today)
            if codes not in cache:
                cache[codes] = await settings_for_regions(session, codes)
            entries.append(RosterEntry(person, engagement, clearance(facts[person.id], cache[codes], now)))
        return entries


async def masked_by_index(session: AsyncSession, indexes: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Masked ID number and masked name of the people with these blind indexes (for
    documents that name whom a receipt was about, never unmasked)."""
    wanted = list(dict.fromkeys(indexes))
    if not wanted:
        return {}
    rows = (
        await session.exec(
            select(Person.id_number_index, Person.id_number_masked, Person.name).where(
                col(Person.id_number_index).in_(wanted)
            )
        )
    ).all()
    return {index: (masked, mask_name(name) or "") for index, masked, name in rows}


@dataclass(frozen=True)
class GateRoster:
    school: School
    vendor: Vendor
    entries: list[RosterEntry]


async def gate_roster(db: Database, actor: Actor, vendor_id: UUID, school_code: str | None) -> GateRoster:
    """The vendor's current people with their clearance, for one school's gate. The
    school must be in the caller's region (a school: its own region); otherwise, and
    for an unknown school or vendor, 404."""
    code = (school_code or "").strip()
    if not code:
        raise InvalidInput.field("school", "required", "须指定学校代码（school）")
    async with db.transaction() as session:
        school = await school_by_code(session, code)
        if school is None or not actor.covers_region(school.region_code):
            raise NotFound("未找到该学校", code="school_not_found")
        vendor = (await vendors_by_ids(session, [vendor_id])).get(vendor_id)
        if vendor is None:
            raise NotFound("未找到该机构", code="vendor_not_found")
    visible = Actor(account_id=None, role=Role.ADMIN)  # scope was settled above, by the school
    return GateRoster(school, vendor, await vendor_roster(db, visible, vendor_id))


# -- people and engagements ------------------------------------------------------------


@dataclass(frozen=True)
class PersonInput:
    id_number: str
    name: str
    role: str
    start_date: date
    phone: str | None = None


def _validate_person(data: PersonInput) -> tuple[str, PersonInput]:
    problems = []
    number = ""
    try:
        number = normalize_id_number(data.id_number or "")
    except InvalidIdentifier as error:
        problems.append(problem("id_number", error.code, error.message))
    name = clean_name(data.name)
    if not name:
        problems.append(problem("name", "required", "姓名不能为空"))
    elif len(name) > 100:
        problems.append(problem("name", "too_long", "姓名不能超过 100 个字符"))
    if data.role not in ROLES:
        problems.append(problem("role", "invalid_role", "岗位必须是 lead_instructor、assistant、driver 或 other 之一"))
    phone = (data.phone or "").strip() or None
    if phone is not None and not is_phone(phone):
        problems.append(problem("phone", "invalid_phone", "联系电话格式不正确"))
    raise_problems(problems)
    return number, PersonInput(id_number="", name=name, role=data.role, start_date=data.start_date, phone=phone)


def person_audit_view(person: Person) -> dict:
    return {"id_number": person.id_number_masked, "name": mask_name(person.name), "gender": person.gender}


async def _find_or_create_person(
    session: AsyncSession, actor: Actor, keyring: Keyring, number: str, name: str, origin_region: str | None
) -> tuple[Person, bool]:
    """The person with this number (their name must match), or a new one. Race-safe:
    the insert does nothing if another transaction created the person first."""
    index = keyring.blind_index(number)
    person = (await session.exec(select(Person).where(Person.id_number_index == index).with_for_update())).first()
    created = False
    if person is None:
        ident = identity(keyring, number)
        candidate = Person(
            id_number_index=ident.index,
            id_number_ciphertext=ident.ciphertext,
            id_number_masked=ident.masked,
            name=name,
            gender=ident.gender,
            birth_date=ident.birth_date,
            origin_region_code=origin_region,
            created_by=actor.account_id,
        )
        inserted = await session.exec(
            pg_insert(Person)
            .values(**candidate.model_dump())
            .on_conflict_do_nothing(index_elements=["id_number_index"])
            .returning(col(Person.id))
        )
        created = inserted.first() is not None
        person = (await session.exec(select(Person).where(Person.id_number_index == index).with_for_update())).one()
    if clean_name(person.name) != name:
        raise InvalidInput.field("name", "name_mismatch", "姓名与该身份证号码已登记的姓名不一致，请核对")
    return person, created


async def add_person(
    db: Database,
    keyring: Keyring,
    actor: Actor,
    vendor_id: UUID,
    data: PersonInput,
    *,
    idempotency: Idempotency | None = None,
) -> Reply[PersonView]:
    """Engage a person at a vendor; the person is created on first sight of the number
    (at most once per idempotency key)."""
    number, data = _validate_person(data)

    async def engage(session: AsyncSession) -> PersonView:
        vendor = await load_visible_vendor(session, actor, vendor_id)
        person, created = await _find_or_create_person(session, actor, keyring, number, data.name, vendor.region_code)
        current = (
            await session.exec(
                select(Engagement).where(
                    Engagement.person_id == person.id,
                    Engagement.vendor_id == vendor.id,
                    col(Engagement.ended_at).is_(None),
                )
            )
        ).first()
        if current is not None:
            raise Conflict("该人员已在本机构任职", code="already_engaged")
        engagement = Engagement(
            person_id=person.id,
            vendor_id=vendor.id,
            role=data.role,
            phone=data.phone,
            start_date=data.start_date,
            created_by=actor.account_id,
        )
        session.add(engagement)
        await session.flush()
        if created:
            await record_event(
                session,
                actor,
                "personnel:person:create",
                "person",
                person.id,
                region_code=vendor.region_code,
                changes=diff(None, person_audit_view(person)),
            )
        await record_event(
            session,
            actor,
            "personnel:engagement:create",
            "engagement",
            engagement.id,
            region_code=vendor.region_code,
            changes=diff(
                None,
                {
                    "person_id": person.id,
                    "vendor_id": vendor.id,
                    "role": data.role,
                    "start_date": data.start_date,
                    "phone": mask_phone(data.phone),
                },
            ),
        )
        engaged = (await engagements_of(session, [person.id]))[person.id]
        return await _view(session, actor, person, engaged)

    try:
        return await run_once(db, idempotency, engage)
    except IntegrityError as error:
        if "uq_engagements_current" in str(error.orig):
            raise Conflict("该人员已在本机构任职", code="already_engaged") from None
        raise


async def record_departure(
    db: Database,
    actor: Actor,
    vendor_id: UUID,
    person_id: UUID,
    *,
    end_date: date | None,
    reason: str | None,
    idempotency: Idempotency | None = None,
) -> Reply[Engaged]:
    """End the person's current engagement at the vendor, effective immediately."""
    reason = (reason or "").strip() or None
    if reason and len(reason) > 300:
        raise InvalidInput.field("reason", "too_long", "离职原因不能超过 300 个字符")
    today = timeutil.today_in_china(timeutil.utcnow())
    end_date = end_date or today
    if end_date > today:
        raise InvalidInput.field("end_date", "end_date_in_future", "离职日期不能晚于今天；离职登记即时生效")

    async def work(session: AsyncSession) -> Engaged:
        vendor = await load_visible_vendor(session, actor, vendor_id)
        engagement = (
            await session.exec(
                select(Engagement)
                .where(
                    Engagement.person_id == person_id,
                    Engagement.vendor_id == vendor.id,
                    col(Engagement.ended_at).is_(None),
                )
                .with_for_update()
            )
        ).first()
        if engagement is None:
            raise NotFound("该人员当前未在本机构任职", code="engagement_not_found")
        if end_date < engagement.start_date:
            raise InvalidInput.field("end_date", "end_before_start", "离职日期不能早于入职日期")
        engagement.end_date, engagement.departure_reason = end_date, reason
        engagement.ended_at, engagement.ended_by = timeutil.utcnow(), actor.account_id
        session.add(engagement)
        await record_event(
            session,
            actor,
            "personnel:engagement:end",
            "engagement",
            engagement.id,
            region_code=vendor.region_code,
            reason=reason,
            changes=diff({"end_date": None}, {"end_date": end_date}),
        )
        await enqueue_standing_change(session, person_ids=[person_id], cause="personnel:engagement:end")
        return engagement, vendor

    return await run_once(db, idempotency, work)


async def read_id_number(db: Database, keyring: Keyring, actor: Actor, person_id: UUID) -> tuple[Person, str]:
    """The unmasked number, for reviewers in scope and admins; every read is audited."""
    async with db.transaction() as session:
        person, _ = await load_visible_person(session, actor, person_id)
        number = keyring.decrypt(person.id_number_ciphertext, ID_NUMBER_PURPOSE).decode()
        await record_event(
            session, actor, "personnel:id_number:read", "person", person.id, region_code=actor.region_code
        )
        return person, number
