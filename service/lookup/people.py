"""Person lookups: may this person enter a school of my region now, and through which vendors?

`lookup_people` answers one entry or a batch (up to 500) with the same code path:

- every entry is validated first (ID number check character, name present, vendor
  credit code if given); any problem → 422 naming the entry, nothing stored;
- **the same database work whatever the answer**: the people are read by blind index,
  then — always, with a dummy person id added so no statement is skipped when nobody is
  known — their current engagements, their check facts, the settings of one region set
  per person (an unknown person uses the lookup region), the open whitelist entries of
  the vendors found (a dummy vendor id is always added) and the latest checkpoint size.
  So an unknown number, a wrong name, a barred person or an unlisted vendor cost the
  same statements as a cleared person (tested by counting them);
- the answer is `cleared` only when the person exists, the name matches (after
  `clean_name`), the clearance under the person's settings is `cleared` now, and at
  least one current engagement's vendor (only the named one, if a credit code is given)
  has an open whitelist entry covering the region. Everything else is one shape:
  `{"result": "not_cleared", "vendors": []}` — never a reason, never a check's type,
  result or date;
- one signed receipt per request, stored with the rate-limit count (batch entries
  counted one by one) in one statement inside the read transaction: over the limit →
  429 and nothing stored. The receipt holds the ID number and the name only as keyed
  hashes (HMAC-SHA256 with the personal-data index key; the name hash is domain
  separated), never in plain. A batch receipt lists every number's hash in `subjects`
  so `lookups_of` finds it for each person.

Not an audit event: the receipt already records who asked what and what they were
told, signed and durable (docs/lookup.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import text
from sqlmodel import col, select

from service.audit.keys import Signer
from service.db.engine import Database
from service.errors import InvalidInput, raise_problems
from service.identifiers.credit_code import validate_credit_code
from service.identifiers.errors import InvalidIdentifier
from service.identifiers.id_number import normalize_id_number
from service.lookup.services import (
    LookupResult,
    lookup_region,
    lookups_of,
    store_receipt,
)
from service.personnel.clearance import clearance
from service.personnel.services import (
    check_facts_raw,
    clean_name,
    current_vendors_raw,
    load_visible_person,
    people_by_index_raw,
)
from service.personnel.settings import PersonnelSettings, settings_for_regions
from service.schools.models import School
from service.security.actor import Actor
from service.security.keyring import Keyring
from service.timeutil import utcnow
from service.whitelist.services import vendor_entries_open
from service.whitelist.state import driver_connection

MAX_BATCH = 500
#: Stands in for "nobody" / "no vendor" so that every statement runs in every case.
DUMMY_ID = UUID(int=0)
NAME_DOMAIN = "schoolgate.lookup.name\x00"
NOT_CLEARED: dict[str, Any] = {"result": "not_cleared", "vendors": []}


@dataclass(frozen=True)
class PersonQuery:
    id_number: str | None
    name: str | None
    vendor_credit_code: str | None = None


@dataclass(frozen=True)
class _Entry:
    index: str  # keyed hash of the normalised number
    name: str  # cleaned
    name_hmac: str
    vendor_credit_code: str | None

    def query(self) -> dict[str, Any]:
        return {"id_number_hmac": self.index, "name_hmac": self.name_hmac,
                "vendor_credit_code": self.vendor_credit_code}


def name_hmac(keyring: Keyring, name: str) -> str:
    """Keyed hash of a cleaned name (domain separated from the ID-number index)."""
    return keyring.blind_index(NAME_DOMAIN + name)


def _validate(keyring: Keyring, queries: Sequence[PersonQuery], prefix: str) -> list[_Entry]:
    problems: list[dict[str, Any]] = []
    entries: list[_Entry] = []
    for position, q in enumerate(queries):
        where = f"{prefix}[{position}]." if prefix else ""
        number = None
        try:
            number = normalize_id_number(q.id_number or "")
        except InvalidIdentifier as error:
            problems.append({"field": f"{where}id_number", "code": error.code, "message": error.message})
        name = clean_name(q.name)
        if not name:
            problems.append({"field": f"{where}name", "code": "required", "message": "姓名不能为空"})
        elif len(name) > 100:
            problems.append({"field": f"{where}name", "code": "too_long", "message": "姓名不能超过 100 个字符"})
        code = None
        if q.vendor_credit_code is not None and q.vendor_credit_code.strip():
            try:
                code = validate_credit_code(q.vendor_credit_code).code
            except InvalidIdentifier as error:
                problems.append({"field": f"{where}vendor_credit_code", "code": error.code,
                                 "message": error.message})
        if number is not None and name and not problems:
            entries.append(_Entry(keyring.blind_index(number), name, name_hmac(keyring, name), code))
    raise_problems(problems)
    return entries


def _check_batch_size(queries: Sequence[PersonQuery]) -> None:
    if len(queries) > MAX_BATCH:
        raise InvalidInput.field("entries", "too_many_entries", f"一次最多核验 {MAX_BATCH} 人")
    if not queries:
        raise InvalidInput.field("entries", "required", "请至少提供一条核验记录")


async def _answers(session, entries: list[_Entry], region_code: str, now: datetime) -> tuple[list[dict], int]:
    """The answers, in order, and the checkpoint size — with the same statements run
    whoever is asked about."""
    indexes = list(dict.fromkeys(e.index for e in entries))
    # Raw asyncpg on the transaction's connection (the ORM cost ~20% of a batch's time in
    # building rows). Same statements whoever is asked about (DUMMY_ID always in).
    conn = await driver_connection(session)
    people = await people_by_index_raw(conn, indexes)
    ids = [p.id for p in people.values()] + [DUMMY_ID]
    current = await current_vendors_raw(conn, ids)
    facts = await check_facts_raw(conn, ids)

    settings: dict[frozenset[str], PersonnelSettings] = {}

    async def settings_of(codes: frozenset[str]) -> PersonnelSettings:
        if codes not in settings:
            settings[codes] = await settings_for_regions(session, codes)
        return settings[codes]

    statuses: dict[UUID, Any] = {}
    for person in people.values():
        codes = frozenset(v.region_code for v in current[person.id]) or frozenset(
            {person.origin_region_code or region_code})
        statuses[person.id] = clearance(facts[person.id], await settings_of(codes), now)
    if len(people) < len(indexes):  # someone unknown: the settings work a known person costs
        await settings_of(frozenset({region_code}))

    vendor_ids = list({v.id for pid in ids for v in current[pid]} | {DUMMY_ID})
    open_ids = await vendor_entries_open(conn, vendor_ids, region_code, now)
    checkpoint = (await session.exec(text("SELECT coalesce(max(size), 0) FROM audit_checkpoints"))).one()[0]

    answers = []
    for entry in entries:
        person = people.get(entry.index)
        state = statuses.get(person.id) if person is not None else None
        vendors: dict[str, str] = {}
        if person is not None:
            for vendor in current[person.id]:
                if vendor.id in open_ids and entry.vendor_credit_code in (None, vendor.credit_code):
                    vendors[vendor.credit_code] = vendor.name
        if (person is None or clean_name(person.name) != entry.name or state is None
                or state.status != "cleared" or not vendors):
            answers.append(dict(NOT_CLEARED, vendors=[]))
            continue
        answers.append({"result": "cleared",
                        "valid_until": state.cleared_until.isoformat() if state.cleared_until else None,
                        "vendors": [{"credit_code": c, "name": n} for c, n in sorted(vendors.items())]})
    return answers, int(checkpoint)


async def _run(db: Database, signer: Signer, keyring: Keyring, actor: Actor, queries: Sequence[PersonQuery], *,
               batch: bool, region: str | None, limit: int | None) -> LookupResult:
    if batch:
        _check_batch_size(queries)
    entries = _validate(keyring, queries, "entries" if batch else "")
    region_code = lookup_region(actor, region)
    now = utcnow()
    async with db.transaction() as session:
        answers, checkpoint = await _answers(session, entries, region_code, now)
        conn = await driver_connection(session)
        if batch:
            receipt_id = await store_receipt(
                conn, signer, kind="person_batch", subject="batch",
                subjects=list(dict.fromkeys(e.index for e in entries)),
                query={"entries": [e.query() for e in entries]}, answer={"results": answers}, as_of=now, time=now,
                actor=actor, region_code=region_code, checkpoint_size=checkpoint, count=len(entries), limit=limit)
        else:
            receipt_id = await store_receipt(
                conn, signer, kind="person", subject=entries[0].index, query=entries[0].query(),
                answer=answers[0], as_of=now, time=now, actor=actor, region_code=region_code,
                checkpoint_size=checkpoint, count=1, limit=limit)
    stamp = {"checked_at": now.isoformat(), "receipt_id": str(receipt_id)}
    body = {"results": answers} | stamp if batch else answers[0] | stamp
    return LookupResult(msgspec.json.encode(body), receipt_id)


async def lookup_person(db: Database, signer: Signer, keyring: Keyring, actor: Actor, query: PersonQuery, *,
                        region: str | None = None, limit: int | None = None) -> LookupResult:
    return await _run(db, signer, keyring, actor, [query], batch=False, region=region, limit=limit)


async def lookup_people(db: Database, signer: Signer, keyring: Keyring, actor: Actor,
                        queries: Sequence[PersonQuery], *, region: str | None = None,
                        limit: int | None = None) -> LookupResult:
    return await _run(db, signer, keyring, actor, queries, batch=True, region=region, limit=limit)


# ------------------------------------------------------------------ the person's side


@dataclass(frozen=True)
class PersonLookup:
    at: datetime
    kind: str  # person | person_batch
    caller_role: str | None
    school_code: str | None
    school_name: str | None
    region_code: str | None
    result: str  # cleared | not_cleared


def _result_for(record, index: str) -> str:
    if record.kind == "person_batch":
        for entry, answer in zip(record.query.get("entries", []), record.answer.get("results", [])):
            if entry.get("id_number_hmac") == index:
                return answer["result"]
        return "not_cleared"
    return record.answer.get("result", "not_cleared")


async def person_lookups(db: Database, actor: Actor, person_id: UUID) -> list[PersonLookup]:
    """Who looked this person up, when, and what they were told (newest first): for
    the person's vendor and reviewers in scope (404 otherwise, as for any person read)."""
    async with db.transaction() as session:
        person, _ = await load_visible_person(session, actor, person_id)
        index = person.id_number_index
    records = [r for r in await lookups_of(db, index) if r.kind in ("person", "person_batch")]
    school_ids = list({r.school_id for r in records if r.school_id is not None})
    schools: dict[UUID, School] = {}
    accounts: dict[UUID, str] = {}
    async with db.transaction() as session:
        if school_ids:
            schools = {s.id: s for s in (await session.exec(select(School).where(col(School.id).in_(school_ids))))}
        account_ids = list({r.account_id for r in records})
        if account_ids:
            rows = await session.exec(text("SELECT id, role FROM accounts WHERE id = ANY(:ids)").bindparams(
                ids=account_ids))
            accounts = {row[0]: row[1] for row in rows}
    out = []
    for record in records:
        school = schools.get(record.school_id) if record.school_id else None
        out.append(PersonLookup(at=record.at, kind=record.kind, caller_role=accounts.get(record.account_id),
                                school_code=school.code if school else None,
                                school_name=school.name if school else None,
                                region_code=record.region_code, result=_result_for(record, index)))
    return out
