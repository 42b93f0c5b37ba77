"""People, engagements, consents, certificates, check records and bar lifts.

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

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service import timeutil
from service.audit import build_event, diff, record_event, record_events
from service.db import Database
from service.documents import BlobStorage, check_file, document_status, safe_filename
from service.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    problem,
    raise_problems,
)
from service.four_eyes import request_facts, request_tags
from service.identifiers import InvalidIdentifier, birth_date, gender, is_phone, mask_id_number, normalize_id_number
from service.idempotency import Idempotency, Reply, run_once
from service.personnel.clearance import CheckFact, Clearance, FactTuple, cleared_until, clearance
from service.personnel.models import (
    BARRING_CHECK_TYPES,
    CERTIFICATE_TYPES,
    CHECK_TYPES,
    RESULTS,
    ROLES,
    BackgroundCheck,
    BarLift,
    Certificate,
    ConsentDocument,
    Engagement,
    Person,
    lift_status,
)
from service.personnel.rules import bar_lift_in_force_sql, engagement_in_force
from service.personnel.settings import PersonnelSettings, settings_for_regions
from service.personnel.suspensions import suspended_among
from service.privacy import mask_name, mask_phone
from service.reason import clean_reason
from service.regions import regions
from service.security import Actor, Keyring, Role
from service.vendors import Vendor, can_see_vendor, load_visible_vendor, vendors_by_ids
from service.schools import School, school_by_code
from service.webhooks import enqueue_standing_change
from workflows.engine import decide
from workflows.four_eyes import BAR_LIFT
from workflows.guards import different_reviewer

ID_NUMBER_PURPOSE = b"person.id_number"
CATEGORY_CODES = range(1, 9)  # the notice's eight activity categories
WHITESPACE = re.compile(r"\s+")


# -- identity --------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """A validated resident ID number, in every form the service keeps of it."""

    index: str
    ciphertext: bytes
    masked: str
    gender: str
    birth_date: date


def identity(keyring: Keyring, number: str) -> Identity:
    """`number` must already be normalised (18 characters, upper-case)."""
    return Identity(index=keyring.blind_index(number), ciphertext=keyring.encrypt(number.encode(), ID_NUMBER_PURPOSE),
                    masked=mask_id_number(number), gender=gender(number), birth_date=birth_date(number))


def clean_name(name: str | None) -> str:
    """Names compare after NFKC folding and whitespace collapsing, nothing more."""
    return WHITESPACE.sub(" ", unicodedata.normalize("NFKC", name or "")).strip()



# -- visibility --------------------------------------------------------------------------

Engaged = tuple[Engagement, Vendor]


async def engagements_of(session: AsyncSession, person_ids: Iterable[UUID], *, current_only: bool = False
                       ) -> dict[UUID, list[Engaged]]:
    ids = list(set(person_ids))
    found: dict[UUID, list[Engaged]] = {pid: [] for pid in ids}
    if not ids:
        return found
    query = (select(Engagement, Vendor).join(Vendor, col(Vendor.id) == col(Engagement.vendor_id))
             .where(col(Engagement.person_id).in_(ids)).order_by(col(Engagement.created_at)))
    if current_only:
        query = query.where(col(Engagement.ended_at).is_(None))
    for engagement, vendor in (await session.exec(query)).all():
        found[engagement.person_id].append((engagement, vendor))
    return found


def can_see_person(actor: Actor, person: Person, engaged: list[Engaged]) -> bool:
    if actor.is_admin:
        return True
    if actor.role is Role.VENDOR:
        return any(e.ended_at is None and v.credit_code == actor.vendor_credit_code for e, v in engaged)
    if actor.role in (Role.REVIEWER, Role.AUDITOR):
        return actor.covers_region(person.origin_region_code) or any(
            actor.covers_region(v.region_code) for _, v in engaged)
    return False


async def load_visible_person(session: AsyncSession, actor: Actor, person_id: UUID, *, for_update: bool = False
                              ) -> tuple[Person, list[Engaged]]:
    query = select(Person).where(Person.id == person_id)
    if for_update:
        query = query.with_for_update()
    person = (await session.exec(query)).first()
    engaged = (await engagements_of(session, [person_id]))[person_id] if person else []
    if person is None or not can_see_person(actor, person, engaged):
        raise NotFound("未找到该人员", code="person_not_found")
    return person, engaged


def _visible_engagements(actor: Actor, engaged: list[Engaged]) -> list[Engaged]:
    """A vendor sees only its own engagements; reviewers those of vendors in scope."""
    return [(e, v) for e, v in engaged if can_see_vendor(actor, v)]


# -- clearance ---------------------------------------------------------------------------


def _lifted_exists():
    # Only a confirmed lift lifts; a check may have several lift rows (closed ones
    # stay as records), so ask EXISTS rather than join (one fact per check).
    return (select(BarLift.id)
            .where(col(BarLift.check_id) == col(BackgroundCheck.id), text(bar_lift_in_force_sql("bar_lifts")))
            .exists())


async def fact_tuples_of(session: AsyncSession, person_ids: Iterable[UUID]) -> dict[UUID, list[FactTuple]]:
    """The check records as `clearance.cleared_until` reads them (plain tuples, no
    objects): for reading the clearance of thousands of people at once."""
    ids = list(set(person_ids))
    found: dict[UUID, list[FactTuple]] = {pid: [] for pid in ids}
    if not ids:
        return found
    query = (select(BackgroundCheck.person_id, BackgroundCheck.check_type, BackgroundCheck.result,
                    BackgroundCheck.query_date, BackgroundCheck.valid_until, BackgroundCheck.recorded_at,
                    _lifted_exists())
             .where(col(BackgroundCheck.person_id).in_(ids)))
    for row in (await session.exec(query)).all():
        found[row[0]].append((row[1], row[2], row[3], row[4], row[5], bool(row[6])))
    return found


async def check_facts_of(session: AsyncSession, person_ids: Iterable[UUID]) -> dict[UUID, list[CheckFact]]:
    ids = list(set(person_ids))
    found: dict[UUID, list[CheckFact]] = {pid: [] for pid in ids}
    if not ids:
        return found
    query = (select(BackgroundCheck.id, BackgroundCheck.person_id, BackgroundCheck.check_type,
                    BackgroundCheck.result, BackgroundCheck.query_date, BackgroundCheck.valid_until,
                    BackgroundCheck.recorded_at, _lifted_exists())
             .where(col(BackgroundCheck.person_id).in_(ids)))
    for row in (await session.exec(query)).all():
        found[row[1]].append(CheckFact(id=row[0], check_type=row[2], result=row[3], query_date=row[4],
                                       valid_until=row[5], recorded_at=row[6], lifted=bool(row[7])))
    return found


def settings_regions(person: Person, engaged: Iterable[Engaged], today: date) -> frozenset[str]:
    """The regions whose settings apply to the person on `today`: those of the vendors
    engaging them in force (`rules.engagement_in_force`, as the person lookup reads
    them); with none, the region that first recorded the person."""
    codes = frozenset(v.region_code for e, v in engaged if e.in_force(today))
    if not codes and person.origin_region_code:
        codes = frozenset({person.origin_region_code})
    return codes


async def _settings_of(session: AsyncSession, current: dict[UUID, list[Engaged]], person: Person, today: date
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


async def entry_clearances(session: AsyncSession, vendor_id: UUID, person_ids: Sequence[UUID],
                           now: datetime | None = None) -> dict[UUID, EntryClearance]:
    """For each of `person_ids` (unknown ones included), whether they may enter a school
    for this vendor now: engaged in force today (started, not departed), `cleared`, and
    not suspended pending a complaint's investigation (service/personnel/suspensions.py)."""
    return (await entry_clearances_many(session, {vendor_id: person_ids}, now))[vendor_id]


async def entry_clearances_many(session: AsyncSession, wanted: Mapping[UUID, Sequence[UUID]],
                                now: datetime | None = None) -> dict[UUID, dict[UUID, EntryClearance]]:
    """`entry_clearances` for several vendors at once ({vendor id: person ids}): one
    statement per kind of fact for everyone, the settings read once per set of regions
    (a school's order list names the people of dozens of vendors)."""
    ids = list(dict.fromkeys(p for person_ids in wanted.values() for p in person_ids))
    if not ids:
        return {vendor_id: {} for vendor_id in wanted}
    now = now or timeutil.utcnow()
    today = timeutil.today_in_china(now)
    # Plain rows, not ORM objects: a dashboard reads thousands of people at once.
    people = {row[0]: row for row in (await session.exec(
        select(Person.id, Person.name, Person.origin_region_code).where(col(Person.id).in_(ids)))).all()}
    engaged: dict[UUID, list[tuple[UUID, str]]] = {pid: [] for pid in ids}  # in force today: (vendor, region)
    for person_id, vendor_id, region_code, ended_at, start_date in (await session.exec(
            select(Engagement.person_id, Engagement.vendor_id, Vendor.region_code, Engagement.ended_at,
                   Engagement.start_date).join(Vendor, col(Vendor.id) == col(Engagement.vendor_id))
            .where(col(Engagement.person_id).in_(ids), col(Engagement.ended_at).is_(None)))).all():
        if engagement_in_force(ended_at, start_date, today):
            engaged[person_id].append((vendor_id, region_code))
    facts = await fact_tuples_of(session, ids)
    suspended = await suspended_among(session, ids)
    settings: dict[frozenset[str], PersonnelSettings] = {}
    states: dict[UUID, tuple[bool, date | None]] = {}
    for person_id, (_, _, origin) in people.items():
        codes = frozenset(region for _, region in engaged[person_id]) or (
            frozenset({origin}) if origin else frozenset())  # as settings_regions says
        if codes not in settings:
            settings[codes] = await settings_for_regions(session, codes)
        states[person_id] = cleared_until(facts[person_id], settings[codes], now, today)
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
            answers[person_id] = EntryClearance(person_id, mask_name(person[1]), cleared,
                                                states[person_id][1] if cleared else None)
    return found


async def cleared_staff(session: AsyncSession, vendor_id: UUID, now: datetime | None = None) -> list[EntryClearance]:
    """The vendor's people who may enter schools for it now, by masked name, oldest
    engagement first (for a school naming who will teach an order)."""
    rows = (await session.exec(select(Engagement.person_id).where(Engagement.vendor_id == vendor_id,
                                                                 col(Engagement.ended_at).is_(None))
                               .order_by(col(Engagement.start_date), col(Engagement.created_at)))).all()
    ids = list(dict.fromkeys(rows))
    found = await entry_clearances(session, vendor_id, ids, now)
    return [found[person_id] for person_id in ids if found[person_id].cleared]


async def uncleared_among(session: AsyncSession, vendor_id: UUID, person_ids: Sequence[UUID],
                          now: datetime | None = None) -> list[UUID]:
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
        rows = (await session.exec(
            select(Engagement, Person).join(Person, col(Person.id) == col(Engagement.person_id))
            .where(Engagement.vendor_id == vendor.id, col(Engagement.ended_at).is_(None))
            .order_by(col(Engagement.start_date), col(Engagement.created_at)))).all()
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
    rows = (await session.exec(select(Person.id_number_index, Person.id_number_masked, Person.name)
                               .where(col(Person.id_number_index).in_(wanted)))).all()
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


async def _find_or_create_person(session: AsyncSession, actor: Actor, keyring: Keyring, number: str, name: str,
                                 origin_region: str | None) -> tuple[Person, bool]:
    """The person with this number (their name must match), or a new one. Race-safe:
    the insert does nothing if another transaction created the person first."""
    index = keyring.blind_index(number)
    person = (await session.exec(select(Person).where(Person.id_number_index == index).with_for_update())).first()
    created = False
    if person is None:
        ident = identity(keyring, number)
        candidate = Person(id_number_index=ident.index, id_number_ciphertext=ident.ciphertext,
                           id_number_masked=ident.masked, name=name, gender=ident.gender,
                           birth_date=ident.birth_date, origin_region_code=origin_region,
                           created_by=actor.account_id)
        inserted = await session.exec(
            pg_insert(Person).values(**candidate.model_dump())
            .on_conflict_do_nothing(index_elements=["id_number_index"]).returning(Person.id))
        created = inserted.first() is not None
        person = (await session.exec(select(Person).where(Person.id_number_index == index).with_for_update())).one()
    if clean_name(person.name) != name:
        raise InvalidInput.field("name", "name_mismatch", "姓名与该身份证号码已登记的姓名不一致，请核对")
    return person, created


async def add_person(db: Database, keyring: Keyring, actor: Actor, vendor_id: UUID, data: PersonInput, *,
                     idempotency: Idempotency | None = None) -> Reply[PersonView]:
    """Engage a person at a vendor; the person is created on first sight of the number
    (at most once per idempotency key)."""
    number, data = _validate_person(data)

    async def engage(session: AsyncSession) -> PersonView:
        vendor = await load_visible_vendor(session, actor, vendor_id)
        person, created = await _find_or_create_person(session, actor, keyring, number, data.name,
                                                       vendor.region_code)
        current = (await session.exec(select(Engagement).where(
            Engagement.person_id == person.id, Engagement.vendor_id == vendor.id,
            col(Engagement.ended_at).is_(None)))).first()
        if current is not None:
            raise Conflict("该人员已在本机构任职", code="already_engaged")
        engagement = Engagement(person_id=person.id, vendor_id=vendor.id, role=data.role, phone=data.phone,
                                start_date=data.start_date, created_by=actor.account_id)
        session.add(engagement)
        await session.flush()
        if created:
            await record_event(session, actor, "personnel:person:create", "person", person.id,
                               region_code=vendor.region_code, changes=diff(None, person_audit_view(person)))
        await record_event(session, actor, "personnel:engagement:create", "engagement", engagement.id,
                           region_code=vendor.region_code, changes=diff(None, {
                               "person_id": person.id, "vendor_id": vendor.id, "role": data.role,
                               "start_date": data.start_date, "phone": mask_phone(data.phone)}))
        engaged = (await engagements_of(session, [person.id]))[person.id]
        return await _view(session, actor, person, engaged)

    try:
        return await run_once(db, idempotency, engage)
    except IntegrityError as error:
        if "uq_engagements_current" in str(error.orig):
            raise Conflict("该人员已在本机构任职", code="already_engaged") from None
        raise


async def record_departure(db: Database, actor: Actor, vendor_id: UUID, person_id: UUID, *,
                           end_date: date | None, reason: str | None,
                           idempotency: Idempotency | None = None) -> Reply[Engaged]:
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
        engagement = (await session.exec(select(Engagement).where(
            Engagement.person_id == person_id, Engagement.vendor_id == vendor.id,
            col(Engagement.ended_at).is_(None)).with_for_update())).first()
        if engagement is None:
            raise NotFound("该人员当前未在本机构任职", code="engagement_not_found")
        if end_date < engagement.start_date:
            raise InvalidInput.field("end_date", "end_before_start", "离职日期不能早于入职日期")
        engagement.end_date, engagement.departure_reason = end_date, reason
        engagement.ended_at, engagement.ended_by = timeutil.utcnow(), actor.account_id
        session.add(engagement)
        await record_event(session, actor, "personnel:engagement:end", "engagement", engagement.id,
                           region_code=vendor.region_code, reason=reason,
                           changes=diff({"end_date": None}, {"end_date": end_date}))
        await enqueue_standing_change(session, person_ids=[person_id], cause="personnel:engagement:end")
        return engagement, vendor

    return await run_once(db, idempotency, work)


async def read_id_number(db: Database, keyring: Keyring, actor: Actor, person_id: UUID) -> tuple[Person, str]:
    """The unmasked number, for reviewers in scope and admins; every read is audited."""
    async with db.transaction() as session:
        person, _ = await load_visible_person(session, actor, person_id)
        number = keyring.decrypt(person.id_number_ciphertext, ID_NUMBER_PURPOSE).decode()
        await record_event(session, actor, "personnel:id_number:read", "person", person.id,
                           region_code=actor.region_code)
        return person, number


# -- consent documents and certificates -----------------------------------------------------


@dataclass(frozen=True)
class Upload:
    content: bytes
    filename: str | None
    max_bytes: int




async def upload_person_consent(db: Database, storage: BlobStorage, actor: Actor, person_id: UUID, upload: Upload,
                                *, title: str | None, signed_on: date | None,
                                idempotency: Idempotency | None = None) -> Reply[ConsentDocument]:
    """The person's signed consent (at most once per idempotency key)."""
    content_type = check_file(upload.content, upload.max_bytes)
    title = (title or "").strip() or "个人信息查询授权书"
    if len(title) > 200:
        raise InvalidInput.field("title", "too_long", "标题不能超过 200 个字符")

    async def store(session: AsyncSession) -> ConsentDocument:
        person, engaged = await load_visible_person(session, actor, person_id)
        _require_writer(actor)
        digest = storage.put(upload.content)
        consent = ConsentDocument(kind="person_consent", person_id=person.id, title=title, signed_on=signed_on,
                                  sha256=digest, size=len(upload.content), content_type=content_type,
                                  filename=safe_filename(upload.filename), uploaded_by=actor.account_id)
        session.add(consent)
        await session.flush()
        await record_event(session, actor, "personnel:consent:upload", "consent_document", consent.id,
                           region_code=_region_of(actor, engaged), evidence=[digest],
                           changes=diff(None, {"kind": consent.kind, "person_id": person.id, "title": title,
                                               "signed_on": signed_on, "sha256": digest}))
        return consent

    return await run_once(db, idempotency, store)


async def upload_authorisation(db: Database, storage: BlobStorage, actor: Actor, upload: Upload, *, title: str | None,
                               region_code: str | None, signed_on: date | None,
                               idempotency: Idempotency | None = None) -> Reply[ConsentDocument]:
    """An authorisation the bureau holds for a batch query (the import's consent), at
    most once per idempotency key."""
    content_type = check_file(upload.content, upload.max_bytes)
    title = (title or "").strip()
    problems = []
    if not title:
        problems.append(problem("title", "required", "请填写授权文件名称（如公安机关批量查询授权函）"))
    elif len(title) > 200:
        problems.append(problem("title", "too_long", "标题不能超过 200 个字符"))
    region_code = (region_code or "").strip() or actor.region_code
    if region_code not in regions():
        problems.append(problem("region_code", "unknown_region", "行政区划代码不存在或不在本系统服务范围内"))
    raise_problems(problems)
    if not actor.covers_region(region_code):
        raise Forbidden("只能为本辖区上传授权文件", code="out_of_scope")

    async def store(session: AsyncSession) -> ConsentDocument:
        digest = storage.put(upload.content)
        consent = ConsentDocument(kind="bureau_authorisation", region_code=region_code, title=title,
                                  signed_on=signed_on, sha256=digest, size=len(upload.content),
                                  content_type=content_type, filename=safe_filename(upload.filename),
                                  uploaded_by=actor.account_id)
        session.add(consent)
        await session.flush()
        await record_event(session, actor, "personnel:consent:upload", "consent_document", consent.id,
                           region_code=region_code, evidence=[digest],
                           changes=diff(None, {"kind": consent.kind, "title": title, "signed_on": signed_on,
                                               "sha256": digest}))
        return consent

    return await run_once(db, idempotency, store)


async def list_consents(db: Database, actor: Actor, person_id: UUID) -> list[ConsentDocument]:
    async with db.transaction() as session:
        await load_visible_person(session, actor, person_id)
        query = (select(ConsentDocument).where(ConsentDocument.person_id == person_id)
                 .order_by(col(ConsentDocument.uploaded_at)))
        return list((await session.exec(query)).all())


async def list_authorisations(db: Database, actor: Actor, *, limit: int = 50) -> list[ConsentDocument]:
    """The bureau authorisations usable by `actor` (those of regions it covers), newest
    first: what an import or a check recorded by hand may be made under."""
    scope = actor.scope_regions()
    query = select(ConsentDocument).where(ConsentDocument.kind == "bureau_authorisation")
    if scope is not None:
        query = query.where(col(ConsentDocument.region_code).in_(scope))
    query = query.order_by(col(ConsentDocument.uploaded_at).desc()).limit(limit)
    async with db.transaction() as session:
        return list((await session.exec(query)).all())


async def read_consent_file(db: Database, storage: BlobStorage, actor: Actor, person_id: UUID, consent_id: UUID
                            ) -> tuple[ConsentDocument, bytes]:
    """A person's signed consent (it shows their identity and signature)."""
    return await _read_person_file(db, storage, actor, person_id, ConsentDocument, consent_id,
                                   action="personnel:consent:read", object_type="consent_document",
                                   missing=NotFound("未找到该授权书", code="consent_not_found"))


async def read_certificate_file(db: Database, storage: BlobStorage, actor: Actor, person_id: UUID,
                                certificate_id: UUID) -> tuple[Certificate, bytes]:
    """A certificate's scan (it shows the holder's identity)."""
    return await _read_person_file(db, storage, actor, person_id, Certificate, certificate_id,
                                   action="personnel:certificate:read", object_type="certificate",
                                   missing=NotFound("未找到该证书", code="certificate_not_found"))


async def _read_person_file(db: Database, storage: BlobStorage, actor: Actor, person_id: UUID, model, record_id: UUID,
                            *, action: str, object_type: str, missing: NotFound):
    """A file held for a person, for whoever may see the person; each read is an audit event."""
    async with db.transaction() as session:
        person, engaged = await load_visible_person(session, actor, person_id)
        record = await session.get(model, record_id)
        if record is None or record.person_id != person.id:
            raise missing
        await _record_file_read(session, actor, action, object_type, record, _region_of(actor, engaged))
    return record, storage.get(record.sha256)


async def read_authorisation_file(db: Database, storage: BlobStorage, actor: Actor, consent_id: UUID
                                  ) -> tuple[ConsentDocument, bytes]:
    """A bureau authorisation, for the reviewers and auditors of its region; each read audited."""
    async with db.transaction() as session:
        consent = await session.get(ConsentDocument, consent_id)
        if (consent is None or consent.kind != "bureau_authorisation"
                or not (actor.is_admin or actor.covers_region(consent.region_code))):
            raise NotFound("未找到该授权文件", code="consent_not_found")
        await _record_file_read(session, actor, "personnel:consent:read", "consent_document", consent,
                                consent.region_code)
    return consent, storage.get(consent.sha256)


async def _record_file_read(session: AsyncSession, actor: Actor, action: str, object_type: str,
                            record: ConsentDocument | Certificate, region_code: str | None) -> None:
    await record_event(session, actor, action, object_type, record.id, region_code=region_code,
                       evidence=[record.sha256])


@dataclass(frozen=True)
class CertificateInput:
    cert_type: str
    number: str
    issuer: str
    category_codes: str
    valid_from: date
    valid_until: date | None


def _validate_certificate(data: CertificateInput) -> tuple[CertificateInput, list[int]]:
    problems = []
    if data.cert_type not in CERTIFICATE_TYPES:
        problems.append(problem("cert_type", "invalid_cert_type",
                                 "证书类型必须是 teacher_qualification、coaching 或 professional 之一"))
    for field in ("number", "issuer"):
        value = (getattr(data, field) or "").strip()
        if not value:
            problems.append(problem(field, "required", "此项不能为空"))
        elif len(value) > (100 if field == "number" else 200):
            problems.append(problem(field, "too_long", "内容过长"))
    codes: list[int] = []
    for part in re.split(r"[,，;；\s]+", data.category_codes or ""):
        if part:
            if not part.isdigit() or int(part) not in CATEGORY_CODES:
                problems.append(problem("category_codes", "invalid_category", "活动类别代码应为 1 到 8 之间的数字"))
                break
            codes.append(int(part))
    if not codes and not any(p["field"] == "category_codes" for p in problems):
        problems.append(problem("category_codes", "required", "请填写证书适用的活动类别代码"))
    if data.valid_until is not None and data.valid_until < data.valid_from:
        problems.append(problem("valid_until", "invalid_validity", "有效期截止日期不能早于起始日期"))
    raise_problems(problems)
    return (CertificateInput(data.cert_type, data.number.strip(), data.issuer.strip(), "", data.valid_from,
                             data.valid_until), sorted(set(codes)))


def certificate_status(certificate: Certificate, now: datetime | None = None) -> str:
    return document_status(certificate.valid_from, certificate.valid_until, now)


async def upload_certificate(db: Database, storage: BlobStorage, actor: Actor, person_id: UUID, upload: Upload,
                             data: CertificateInput, *, idempotency: Idempotency | None = None) -> Reply[Certificate]:
    """A qualification certificate with its scan (at most once per idempotency key)."""
    content_type = check_file(upload.content, upload.max_bytes)
    data, codes = _validate_certificate(data)

    async def store(session: AsyncSession) -> Certificate:
        person, engaged = await load_visible_person(session, actor, person_id)
        _require_writer(actor)
        digest = storage.put(upload.content)
        certificate = Certificate(person_id=person.id, cert_type=data.cert_type, number=data.number,
                                  issuer=data.issuer, category_codes=codes, valid_from=data.valid_from,
                                  valid_until=data.valid_until, sha256=digest, size=len(upload.content),
                                  content_type=content_type, filename=safe_filename(upload.filename),
                                  uploaded_by=actor.account_id)
        session.add(certificate)
        await session.flush()
        await record_event(session, actor, "personnel:certificate:upload", "certificate", certificate.id,
                           region_code=_region_of(actor, engaged), evidence=[digest],
                           changes=diff(None, {"person_id": person.id, "cert_type": data.cert_type,
                                               "number": data.number, "issuer": data.issuer,
                                               "category_codes": codes, "valid_from": data.valid_from,
                                               "valid_until": data.valid_until, "sha256": digest}))
        return certificate

    return await run_once(db, idempotency, store)


async def list_certificates(db: Database, actor: Actor, person_id: UUID) -> list[Certificate]:
    async with db.transaction() as session:
        await load_visible_person(session, actor, person_id)
        query = select(Certificate).where(Certificate.person_id == person_id).order_by(col(Certificate.uploaded_at))
        return list((await session.exec(query)).all())


def _require_writer(actor: Actor) -> None:
    if actor.role is Role.AUDITOR:
        raise Forbidden("审计人员只能查阅", code="role_not_allowed")


def _region_of(actor: Actor, engaged: list[Engaged]) -> str | None:
    """The region an event about a person belongs to: the acting vendor's, else the actor's."""
    if actor.role is Role.VENDOR:
        for engagement, vendor in engaged:
            if engagement.ended_at is None and vendor.credit_code == actor.vendor_credit_code:
                return vendor.region_code
    return actor.region_code


# -- background-check records ----------------------------------------------------------------


@dataclass(frozen=True)
class CheckInput:
    check_type: str
    result: str
    query_date: date
    reference: str
    issuing_authority: str
    valid_until: date | None
    consent_document_id: UUID | None


def validate_check_fields(check_type: str, result: str, query_date: date | None, reference: str,
                          issuing_authority: str, valid_until: date | None, today: date) -> list[dict]:
    """The rules every check record meets, recorded one by one or imported."""
    problems = []
    if check_type not in CHECK_TYPES:
        problems.append(problem("check_type", "invalid_check_type", "查询类型无效"))
    if result not in RESULTS:
        problems.append(problem("result", "invalid_result", "查询结果必须是 clear、adverse 或 pending 之一"))
    if query_date is not None and query_date > today:
        problems.append(problem("query_date", "query_date_in_future", "查询日期不能晚于今天"))
    if not reference:
        problems.append(problem("reference", "required", "查询编号不能为空"))
    elif len(reference) > 100:
        problems.append(problem("reference", "too_long", "查询编号不能超过 100 个字符"))
    if not issuing_authority:
        problems.append(problem("issuing_authority", "required", "出具机关不能为空"))
    elif len(issuing_authority) > 200:
        problems.append(problem("issuing_authority", "too_long", "出具机关不能超过 200 个字符"))
    if valid_until is not None and query_date is not None and valid_until < query_date:
        problems.append(problem("valid_until", "invalid_validity", "有效期截止日期不能早于查询日期"))
    return problems


async def require_consent(session: AsyncSession, actor: Actor, consent_id: UUID | None,
                          person_id: UUID | None) -> ConsentDocument:
    """The consent a check is made under: the person's own signed consent, or an
    authorisation the bureau holds for a region the reviewer covers."""
    if consent_id is None:
        raise InvalidInput.field("consent_document_id", "consent_required",
                                 "须提供本人签署的授权书或机关授权文件后方可记录查询结果")
    consent = await session.get(ConsentDocument, consent_id)
    usable = consent is not None and (
        (consent.kind == "person_consent" and person_id is not None and consent.person_id == person_id)
        or (consent.kind == "bureau_authorisation" and actor.covers_region(consent.region_code)))
    if not usable:
        raise InvalidInput.field("consent_document_id", "invalid_consent_document",
                                 "授权文件不存在，或不适用于该人员/本辖区")
    return consent


def check_audit_changes(check: BackgroundCheck) -> dict:
    return diff(None, {"person_id": check.person_id, "check_type": check.check_type, "result": check.result,
                       "query_date": check.query_date, "reference": check.reference,
                       "issuing_authority": check.issuing_authority, "valid_until": check.valid_until,
                       "consent_document_id": check.consent_document_id})


async def record_check(db: Database, actor: Actor, person_id: UUID, data: CheckInput, *,
                       idempotency: Idempotency | None = None) -> Reply[BackgroundCheck]:
    """Record a check result under a consent (at most once per idempotency key)."""
    reference = (data.reference or "").strip()
    authority = (data.issuing_authority or "").strip()
    today = timeutil.today_in_china(timeutil.utcnow())
    raise_problems(validate_check_fields(data.check_type, data.result, data.query_date, reference, authority,
                                          data.valid_until, today))

    async def record(session: AsyncSession) -> BackgroundCheck:
        person, _ = await load_visible_person(session, actor, person_id)
        consent = await require_consent(session, actor, data.consent_document_id, person.id)
        check = BackgroundCheck(person_id=person.id, check_type=data.check_type, result=data.result,
                                query_date=data.query_date, reference=reference, issuing_authority=authority,
                                valid_until=data.valid_until, consent_document_id=consent.id,
                                recorded_by=actor.account_id)
        session.add(check)
        await session.flush()
        await record_event(session, actor, "personnel:check:record", "background_check", check.id,
                           region_code=actor.region_code, changes=check_audit_changes(check),
                           evidence=[consent.sha256])
        await enqueue_standing_change(session, person_ids=[person.id], cause="personnel:check:record")
        return check

    try:
        return await run_once(db, idempotency, record)
    except IntegrityError as error:
        if "uq_background_checks_type_reference" in str(error.orig):
            raise Conflict("该查询编号已登记", code="duplicate_reference", details=[
                problem("reference", "duplicate_reference", "该查询类型下此查询编号已登记")]) from None
        raise


async def read_checks(db: Database, actor: Actor, person_id: UUID) -> list[BackgroundCheck]:
    """Check records with their content. Each record read is an audit event."""
    async with db.transaction() as session:
        person, _ = await load_visible_person(session, actor, person_id)
        query = (select(BackgroundCheck).where(BackgroundCheck.person_id == person.id)
                 .order_by(col(BackgroundCheck.query_date).desc(), col(BackgroundCheck.recorded_at).desc()))
        checks = list((await session.exec(query)).all())
        await record_events(session, [build_event(actor, "personnel:check:read", "background_check", check.id,
                                                  region_code=actor.region_code,
                                                  changes={}) for check in checks])
        return checks


# -- lifting a bar -----------------------------------------------------------------------------


def _require_province_reviewer(actor: Actor) -> None:
    if actor.role is not Role.REVIEWER or actor.region_level != "province":
        raise Forbidden("只有省级审核人员可以解除禁入", code="province_reviewer_required")


#: Bar-lift reasons: their columns hold 1,000 characters, and the code is `too_long`.
_LIFT_REASON = {"limit": 1000, "too_long_code": "too_long"}


async def request_bar_lift(db: Database, actor: Actor, person_id: UUID, check_id: UUID, reason: str, *,
                           idempotency: Idempotency | None = None) -> Reply[BarLift]:
    _require_province_reviewer(actor)
    reason = clean_reason(reason, required=True, required_message="解除禁入须说明理由", **_LIFT_REASON)

    async def work(session: AsyncSession) -> BarLift:
        person, _ = await load_visible_person(session, actor, person_id, for_update=True)
        check = await session.get(BackgroundCheck, check_id)
        if check is None or check.person_id != person.id:
            raise NotFound("未找到该查询记录", code="check_not_found")
        if check.result != "adverse" or check.check_type not in BARRING_CHECK_TYPES:
            raise InvalidInput.field("check_id", "not_barring", "该记录不构成禁入（仅违法犯罪记录或性侵查询的不良结果）")
        # A declined or withdrawn request is a record only; an open or confirmed one stands.
        standing = select(BarLift).where(BarLift.check_id == check.id, col(BarLift.closed_at).is_(None))
        if (await session.exec(standing)).first() is not None:
            raise Conflict("该记录已有解除申请", code="lift_exists")
        lift = BarLift(person_id=person.id, check_id=check.id, reason=reason, requested_by=actor.account_id)
        session.add(lift)
        await session.flush()
        await record_event(session, actor, "personnel:bar:lift_request", "bar_lift", lift.id,
                           region_code=actor.region_code, reason=reason,
                           changes=diff(None, {"person_id": person.id, "check_id": check.id}))
        return lift

    return await run_once(db, idempotency, work)


LIFT_STATUS_ZH = {"pending": "待确认", "confirmed": "确认", "declined": "驳回", "withdrawn": "撤回"}


async def _pending_lift(session: AsyncSession, actor: Actor, person_id: UUID, lift_id: UUID, verb: str,
                        reason: str | None) -> BarLift:
    """The lift request `verb` (confirm | decline | withdraw) acts on, locked with its
    person, once the `workflows.four_eyes.BAR_LIFT` table allows it: 404 outside the
    actor's scope; 409 unless still pending; a confirmation or decline only by a
    province-level reviewer other than the requester (four eyes), a withdrawal only by
    the requester."""
    person, _ = await load_visible_person(session, actor, person_id, for_update=True)
    lift = (await session.exec(select(BarLift).where(BarLift.id == lift_id).with_for_update()
                               .execution_options(populate_existing=True))).first()
    if lift is None or lift.person_id != person.id:
        raise NotFound("未找到该解除申请", code="lift_not_found")
    status = lift_status(lift)
    decision = decide(BAR_LIFT, status, verb, request_tags(actor, lift.requested_by),
                      request_facts(actor, lift.requested_by, reason))
    if decision.allowed:
        return lift
    if status == "confirmed" and verb == "confirm":
        raise Conflict("该解除申请已确认", code="lift_already_confirmed")
    if status != "pending":
        raise Conflict(f"该解除申请已{LIFT_STATUS_ZH[status]}，不能再处理", code="lift_not_pending",
                       details=[{"field": "status", "code": status, "message": LIFT_STATUS_ZH[status]}])
    if verb == "withdraw":
        raise Forbidden("只有提出申请的审核人员可以撤回", code="lift_requester_required")
    if decision.failed_guard == different_reviewer.name:
        raise Forbidden("须由另一名省级审核人员确认", code="second_reviewer_required")
    raise Forbidden("只有省级审核人员可以解除禁入", code="province_reviewer_required")


async def confirm_bar_lift(db: Database, actor: Actor, person_id: UUID, lift_id: UUID, reason: str | None, *,
                           idempotency: Idempotency | None = None) -> Reply[BarLift]:
    """The second reviewer's confirmation; only then does the bar stop counting."""
    _require_province_reviewer(actor)
    reason = clean_reason(reason, **_LIFT_REASON)

    async def work(session: AsyncSession) -> BarLift:
        lift = await _pending_lift(session, actor, person_id, lift_id, "confirm", reason)
        lift.confirmed_by, lift.confirmed_at, lift.confirm_reason = actor.account_id, timeutil.utcnow(), reason
        session.add(lift)
        await record_event(session, actor, "personnel:bar:lift_confirm", "bar_lift", lift.id,
                           region_code=actor.region_code, reason=reason,
                           changes=diff({"confirmed": False}, {"confirmed": True}))
        await enqueue_standing_change(session, person_ids=[person_id], cause="personnel:bar:lift_confirm")
        return lift

    return await run_once(db, idempotency, work)


async def _close_bar_lift(db: Database, actor: Actor, person_id: UUID, lift_id: UUID, reason: str | None,
                          verb: str, closed_as: str, *,
                          idempotency: Idempotency | None = None) -> Reply[BarLift]:
    async def work(session: AsyncSession) -> BarLift:
        lift = await _pending_lift(session, actor, person_id, lift_id, verb, reason)
        lift.closed_as, lift.closed_by, lift.closed_at, lift.close_reason = (
            closed_as, actor.account_id, timeutil.utcnow(), reason)
        session.add(lift)
        await record_event(session, actor, f"personnel:bar:lift_{verb}", "bar_lift", lift.id,
                           region_code=actor.region_code, reason=reason,
                           changes=diff({"status": "pending"}, {"status": closed_as}))
        return lift

    return await run_once(db, idempotency, work)


async def decline_bar_lift(db: Database, actor: Actor, person_id: UUID, lift_id: UUID, reason: str | None, *,
                           idempotency: Idempotency | None = None) -> Reply[BarLift]:
    """A second province-level reviewer refuses the request, with a reason. The bar
    stays; the request stays as a record; a new request for the check may follow."""
    _require_province_reviewer(actor)
    reason = clean_reason(reason, required=True, required_message="驳回解除申请须说明理由", **_LIFT_REASON)
    return await _close_bar_lift(db, actor, person_id, lift_id, reason, "decline", "declined",
                                 idempotency=idempotency)


async def withdraw_bar_lift(db: Database, actor: Actor, person_id: UUID, lift_id: UUID, reason: str | None, *,
                            idempotency: Idempotency | None = None) -> Reply[BarLift]:
    """The requester takes back their own pending request (a reason is optional)."""
    reason = clean_reason(reason, **_LIFT_REASON)
    return await _close_bar_lift(db, actor, person_id, lift_id, reason, "withdraw", "withdrawn",
                                 idempotency=idempotency)
