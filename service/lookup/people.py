"""Person lookups: may this person enter a school of my region now, and through which vendors?

`lookup_people` answers one entry or a batch (up to 500) with the same code path:

- every entry is validated first (ID number check character, name present, vendor
  credit code if given); any problem → 422 naming the entry, nothing stored;
- **the same database work whatever the answer**: one read-only statement
  (`READ_PEOPLE`, on the raw asyncpg pool) reads, from one snapshot, the people by
  blind index, their current engagements, their check facts, the whitelist state (for
  the lookup's region) of every vendor engaging them, the checkpoint size and the
  lookup state version; then the receipt store. So an unknown number, a wrong name, a
  barred person or an unlisted vendor run the same two statements as a cleared person
  (tested by recording them) — and the same rows: an unknown number reads a decoy
  person in full, so it does the work of a known number with a wrong name and its
  answer time tells nothing (tested on the statement's plan). Region settings come from the worker's lookup cache
  (`lookup.cache`), refreshed by the same statement whenever the version moved; so do
  the vendors' whitelist states, once the warmer has read every vendor at the version
  the statement sees (otherwise the statement reads them too);
  clearance is `personnel.clearance.cleared_until` (the part of `clearance` a lookup
  answers, tested equal to it);
- the answer is `cleared` only when the person exists, the name matches (after
  `clean_name`), the clearance under the person's settings is `cleared` now, the
  person's entry is not suspended (a complaint under investigation), and at
  least one current engagement's vendor (only the named one, if a credit code is given)
  has an open whitelist entry covering the region. Everything else is one shape:
  `{"result": "not_cleared", "vendors": []}` — never a reason, never a check's type,
  result or date;
- one signed receipt per request, stored with the rate-limit count (batch entries
  counted one by one) by the worker's group writer (`lookup.writer`: the receipts of
  the lookups ready at the same moment, one durable commit) before the answer leaves:
  over the limit → 429 and nothing stored. The receipt holds the ID number and the name only as keyed
  hashes (HMAC-SHA256 with the personal-data index key; the name hash is domain
  separated), never in plain. A batch receipt is stored compact (its entries 82 bytes
  each, `receipts.compact_batch_query`; migration 0014) and indexed by every number's
  hash prefix in `subjects`, so `lookups_of` finds it for each person.

Not an audit event: the receipt already records who asked what and what they were
told, signed and durable (docs/lookup.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import text
from sqlmodel import col, select

from service.audit import Signer
from service.coalesce import Coalescer
from service.db import Database
from service.errors import InvalidInput, raise_problems
from service.identifiers import InvalidIdentifier, mask_id_number, normalize_id_number, validate_credit_code
from service.lookup.cache import lookup_cache
from service.lookup.receipts import compact_batch_query
from service.lookup.services import (
    LookupResult,
    lookup_region,
    lookups_of,
    store_receipt,
)
from service.personnel import (
    FactTuple,
    ImportRejected,
    bar_lift_in_force_sql,
    clean_name,
    cleared_until,
    engagement_in_force_sql,
    load_visible_person,
    read_people,
    suspended_sql,
)
from service.schools import School
from service.security import Actor, Keyring
from service.timeutil import today_in_china, utcnow
from service.whitelist import (
    ACTIVE,
    EntryRow,
    VendorState,
    entries_from_rows,
    evaluate,
    for_region,
    region_chain,
    vendor_state_exprs,
)

MAX_BATCH = 500
NAME_DOMAIN = "schoolgate.lookup.name\x00"
NOT_CLEARED: dict[str, Any] = {"result": "not_cleared", "vendors": []}


@dataclass(frozen=True)
class PersonQuery:
    id_number: str | None
    name: str | None
    vendor_credit_code: str | None = None


@dataclass(slots=True)  # not frozen: ~2 µs less per entry, 500 per batch (never mutated)
class _Entry:
    index: str  # keyed hash of the normalised number
    name: str  # cleaned
    name_hmac: str
    vendor_credit_code: str | None

    def query(self) -> dict[str, Any]:
        return {
            "id_number_hmac": self.index,
            "name_hmac": self.name_hmac,
            "vendor_credit_code": self.vendor_credit_code,
        }


def name_hmac(keyring: Keyring, name: str) -> str:
    """Keyed hash of a cleaned name (domain separated from the ID-number index)."""
    return keyring.blind_index(NAME_DOMAIN + name)


def _validate(keyring: Keyring, queries: Sequence[PersonQuery], prefix: str) -> list[_Entry]:
    """`queries`: PersonQuery or anything with the same three attributes (the
    controllers pass the decoded request structs as they are)."""
    problems: list[dict[str, Any]] = []
    entries: list[_Entry] = []
    today = today_in_china()
    for position, q in enumerate(queries):
        where = f"{prefix}[{position}]." if prefix else ""
        number = None
        try:
            number = normalize_id_number(q.id_number or "", today=today)
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
                problems.append({"field": f"{where}vendor_credit_code", "code": error.code, "message": error.message})
        if number is not None and name and not problems:
            entries.append(_Entry(keyring.blind_index(number), name, name_hmac(keyring, name), code))
    raise_problems(problems)
    return entries


def _check_batch_size(queries: Sequence[PersonQuery]) -> None:
    if len(queries) > MAX_BATCH:
        raise InvalidInput.field("entries", "too_many_entries", f"一次最多核验 {MAX_BATCH} 人")
    if not queries:
        raise InvalidInput.field("entries", "required", "请至少提供一条核验记录")


#: One read-only statement for one person, a batch, or the single lookups of several
#: requests at once (same statement whoever is asked about, found or not): $1 blind
#: indexes, $2 the instant, $3 the lookup state version of this worker's cached region
#: settings, $4 the version at which this worker's vendor cache holds every vendor
#: (`LookupCache.complete_version`), $5 the China date of the instant (an engagement
#: counts while in force: `personnel.rules.engagement_in_force`, whose SQL fragment
#: is composed in below). From one snapshot: a head row (kind 0: the
#: checkpoint size, the version, and — only when the vendor cache is not complete at
#: this version — the whitelist state in every region of every vendor currently engaging
#: those people, as JSON, and every region_settings row only when the cached ones are
#: not of this version), then one row per person found (kind 1) with the credit codes
#: and regions of their current engagements' vendors (oldest first) and their check
#: facts as parallel arrays of scalars — binary, decoded by asyncpg in C (JSON for 2,500
#: facts cost PostgreSQL ~8 ms to build and Python as much to read; arrays of records
#: cost PostgreSQL ~60 % more per person than these arrays of scalars).
#:
#: Every asked index gives exactly one person row (`asked` says which it answers): the
#: person with that index, or — for a number nobody recorded — a decoy, the person with
#: the next index in order (the first one past the last), read in full like a real one
#: and then answered `not_cleared`. An unknown number thus costs what a known number
#: with a wrong name costs: one probe of the same index, one row, its engagements and
#: facts, its vendors' state, its clearance computed (no timing oracle, tested by
#: comparing the statement's plans with their row counts). Blind indexes are keyed
#: hashes, so the decoy is an arbitrary person, no more expensive than a typical one.
READ_PEOPLE = f"""
WITH p AS MATERIALIZED (SELECT k.asked, d.id, d.id_number_index, d.name, d.origin_region_code
                          FROM unnest($1::text[]) AS k(asked)
                          CROSS JOIN LATERAL (
                               (SELECT id, id_number_index, name, origin_region_code FROM people
                                 WHERE id_number_index >= k.asked ORDER BY id_number_index LIMIT 1)
                               UNION ALL
                               (SELECT id, id_number_index, name, origin_region_code FROM people
                                 ORDER BY id_number_index LIMIT 1)
                               LIMIT 1) d)
SELECT 0 AS kind, (SELECT coalesce(max(size), 0) FROM audit_checkpoints) AS checkpoint_size,
       (SELECT version FROM lookup_state_version WHERE id = 1) AS state_version,
       CASE WHEN $4::bigint IS DISTINCT FROM (SELECT version FROM lookup_state_version WHERE id = 1)
            THEN (SELECT json_agg(json_build_array(v.id, v.credit_code, v.name,
                                                   {", ".join(vendor_state_exprs(regions=None, at="$2"))}))
                    FROM vendors v WHERE v.id = ANY(ARRAY(
                         SELECT DISTINCT vendor_id FROM engagements
                          WHERE person_id = ANY(ARRAY(SELECT id FROM p))
                            AND {engagement_in_force_sql("engagements", "$5")})))::text END AS vendors,
       CASE WHEN $3::bigint IS DISTINCT FROM (SELECT version FROM lookup_state_version WHERE id = 1)
            THEN (SELECT coalesce(json_agg(row_to_json(r)), '[]') FROM region_settings r)::text END AS settings,
       NULL::text AS id_number_index, NULL::text AS name, NULL::text AS origin_region_code,
       NULL::text[] AS vendor_codes, NULL::text[] AS vendor_regions, NULL::text[] AS check_types,
       NULL::text[] AS results, NULL::date[] AS query_dates, NULL::date[] AS valid_until,
       NULL::timestamptz[] AS recorded_at, NULL::boolean[] AS lifted, NULL::text AS asked,
       NULL::boolean AS suspended
UNION ALL
SELECT 1, NULL, NULL, NULL, NULL, p.id_number_index, p.name, p.origin_region_code, e.codes, e.regions,
       c.check_types, c.results, c.query_dates, c.valid_until, c.recorded_at, c.lifted, p.asked,
       {suspended_sql("p")}
  FROM p
  CROSS JOIN LATERAL (SELECT array_agg(v.credit_code ORDER BY g.created_at, g.vendor_id) AS codes,
                             array_agg(v.region_code ORDER BY g.created_at, g.vendor_id) AS regions
                        FROM engagements g JOIN vendors v ON v.id = g.vendor_id
                       WHERE g.person_id = p.id AND {engagement_in_force_sql("g", "$5")}) e
  CROSS JOIN LATERAL (SELECT array_agg(c.check_type) AS check_types, array_agg(c.result) AS results,
                             array_agg(c.query_date) AS query_dates, array_agg(c.valid_until) AS valid_until,
                             array_agg(c.recorded_at) AS recorded_at,
                             array_agg(b.check_id IS NOT NULL) AS lifted
                        FROM background_checks c
                        -- at most one open-or-confirmed lift per check (uq_bar_lifts_check_open):
                        -- the join never repeats a check, and the planner may hash it
                        LEFT OUTER JOIN bar_lifts b ON b.check_id = c.id AND {bar_lift_in_force_sql("b")}
                       WHERE c.person_id = p.id) c
"""
# The vendors' JSON (msgspec parses the dates in C).
_VENDORS = msgspec.json.Decoder(list[tuple[UUID, str, str, list[EntryRow], dict[str, date], dict[str, list[str]]]])
# A person row's columns (then the six fact arrays, from column 10, the index asked, and
# whether the person's entry is suspended pending a complaint's investigation).
_INDEX, _NAME, _ORIGIN, _CODES, _REGIONS, _ASKED, _SUSPENDED = 5, 6, 7, 8, 9, 16, 17


def _facts(person) -> Iterable[FactTuple]:
    """(type, result, query date, valid until, recorded at, lifted) per check record,
    read once (by `cleared_until`)."""
    if person[10] is None:  # no check recorded
        return ()
    return zip(person[10], person[11], person[12], person[13], person[14], person[15])


@dataclass
class _Snapshot:
    """What one READ_PEOPLE call read, shared by the requests it served."""

    at: datetime
    checkpoint: int
    people: dict[str, Any]  # blind index asked -> its row (the person's, or a decoy's)
    vendors: dict[str, VendorState]  # credit code -> state in every region (of the snapshot's version)
    open_memo: dict[tuple[str, str], bool]

    def vendor_open(self, credit_code: str, region_code: str) -> bool:
        """Some entry of the vendor covering the region is active at the read instant."""
        key = (credit_code, region_code)
        found = self.open_memo.get(key)
        if found is None:
            state = for_region(self.vendors[credit_code], region_chain(region_code))
            found = self.open_memo[key] = any(status == ACTIVE for _, status in evaluate(state, self.at))
        return found


class _PeopleReader(Coalescer[list[str], _Snapshot]):
    """Coalesces the reads of concurrent person lookups in one worker: while one
    READ_PEOPLE call is in flight, the lookups arriving queue, and the next call reads
    all their people at once (each request then picks its own). Fewer round trips; the
    statement is the same for every lookup whatever the answer."""

    in_flight = 2
    MAX_INDEXES = 2_000

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db

    async def read(self, indexes: list[str]) -> _Snapshot:
        return await self.submit(indexes)

    def _take(self, queue):
        group, wanted = [queue.popleft()], set()
        wanted.update(group[0][0])
        while queue and len(wanted) + len(queue[0][0]) <= self.MAX_INDEXES:
            group.append(queue.popleft())
            wanted.update(group[-1][0])
        return group

    async def _serve(self, requests: list[list[str]]) -> list[_Snapshot]:
        snapshot = await self._read(list({index for indexes in requests for index in indexes}))
        return [snapshot] * len(requests)

    async def _read(self, indexes: list[str]) -> _Snapshot:
        """The vendors' state comes from this worker's vendor cache when the snapshot
        shows the version the cache holds every vendor at — then it is what the snapshot
        would have read. A vendor missing from it (its state has a time horizon that has
        passed) makes the read start again with the vendors' state in the statement."""
        cache = lookup_cache(self._db)
        complete = cache.complete_version
        while True:
            at = utcnow()
            pool = await self._db.raw_pool()
            async with pool.acquire() as conn:
                rows = await conn.fetch(READ_PEOPLE, indexes, at, cache.settings_version, complete, today_in_china(at))
            head = rows[0] if rows[0][0] == 0 else next(r for r in rows if r[0] == 0)
            checkpoint, version = head[1], head[2]
            cache.observe(version, checkpoint)
            if head[4] is not None:
                cache.load_settings(version, msgspec.json.decode(head[4]))
            people = {r[_ASKED]: r for r in rows if r[0] == 1}
            if head[3] is not None or complete != version:
                vendors = {
                    v[1]: VendorState(v[0], v[2], entries_from_rows(v[3]), v[4], {k: tuple(t) for k, t in v[5].items()})
                    for v in (_VENDORS.decode(head[3]) if head[3] is not None else ())
                }
            else:
                vendors = _cached_vendors(cache, people.values(), version, at)
                if vendors is None:
                    complete = None
                    continue
            return _Snapshot(at, int(checkpoint), people, vendors, {})


def _cached_vendors(cache, people, version: int, at: datetime) -> dict[str, VendorState] | None:
    """The state of every vendor engaging these people, from the cache — all of the
    snapshot's version — or None if any is missing."""
    vendors: dict[str, VendorState] = {}
    for person in people:
        for code in person[_CODES] or ():
            if code not in vendors:
                found = cache.vendor(code, at)
                if found is None or found[0] != version:
                    return None
                vendors[code] = found[1]
    return vendors


def _reader(db: Database) -> _PeopleReader:
    found = db.local.get("lookup.people_reader")
    if found is None:
        found = db.local["lookup.people_reader"] = _PeopleReader(db)
    return found


async def _answers(db: Database, entries: list[_Entry], region_code: str) -> tuple[list[dict], _Snapshot]:
    """The answers, in order, and the snapshot they come from — with the same statement
    whoever is asked about."""
    snap = await _reader(db).read(list(dict.fromkeys(e.index for e in entries)))
    cache = lookup_cache(db)
    answers = []
    statuses: dict[str, tuple[bool, date | None]] = {}  # by blind index asked
    today = today_in_china(snap.at)
    for entry in entries:
        person = snap.people.get(entry.index)
        if person is None:  # nobody recorded at all: there is no one to be told from
            answers.append(dict(NOT_CLEARED, vendors=[]))
            continue
        # A decoy (an unknown number) is judged in full like the person asked for, and
        # then not cleared: the same work either way.
        decoy = person[_INDEX] != entry.index
        engaged = person[_CODES] or ()
        status = statuses.get(entry.index)
        if status is None:
            regions = frozenset(person[_REGIONS] or ()) or frozenset({person[_ORIGIN] or region_code})
            status = statuses[entry.index] = cleared_until(
                _facts(person), cache.personnel_settings(regions), snap.at, today
            )
        cleared, until = status
        qualifying: dict[str, str] = {}
        for code in engaged:
            if entry.vendor_credit_code in (None, code) and snap.vendor_open(code, region_code):
                qualifying[code] = snap.vendors[code].name
        if clean_name(person[_NAME]) != entry.name or not cleared or not qualifying or decoy or person[_SUSPENDED]:
            answers.append(dict(NOT_CLEARED, vendors=[]))
            continue
        answers.append(
            {
                "result": "cleared",
                "valid_until": until.isoformat() if until else None,
                "vendors": [{"credit_code": c, "name": n} for c, n in sorted(qualifying.items())],
            }
        )
    return answers, snap


async def _run(
    db: Database,
    signer: Signer,
    keyring: Keyring,
    actor: Actor,
    queries: Sequence[PersonQuery],
    *,
    batch: bool,
    region: str | None,
    limit: int | None,
    token_hash: str | None,
) -> LookupResult:
    if batch:
        _check_batch_size(queries)
    entries = _validate(keyring, queries, "entries" if batch else "")
    region_code = lookup_region(actor, region)
    answers, snap = await _answers(db, entries, region_code)
    now, checkpoint = snap.at, snap.checkpoint  # the answer is as of the read
    if batch:
        # Encoded once, canonically: embedded as is in the signed receipt and the response.
        results = msgspec.Raw(msgspec.json.encode({"results": answers}, order="sorted"))
        receipt_id = await store_receipt(
            db,
            signer,
            kind="person_batch",
            subject="batch",
            query=msgspec.Raw(msgspec.json.encode({"entries": [e.query() for e in entries]}, order="sorted")),
            query_compact=compact_batch_query([(e.index, e.name_hmac, e.vendor_credit_code) for e in entries]),
            answer=results,
            as_of=now,
            time=now,
            actor=actor,
            region_code=region_code,
            checkpoint_size=checkpoint,
            count=len(entries),
            limit=limit,
            token_hash=token_hash,
        )
    else:
        receipt_id = await store_receipt(
            db,
            signer,
            kind="person",
            subject=entries[0].index,
            query=entries[0].query(),
            answer=answers[0],
            as_of=now,
            time=now,
            actor=actor,
            region_code=region_code,
            checkpoint_size=checkpoint,
            count=1,
            limit=limit,
            token_hash=token_hash,
        )
    stamp = msgspec.json.encode({"checked_at": now.isoformat(), "receipt_id": str(receipt_id)})
    head = bytes(results) if batch else msgspec.json.encode(answers[0])
    return LookupResult(head[:-1] + b"," + stamp[1:], receipt_id)


async def lookup_person(
    db: Database,
    signer: Signer,
    keyring: Keyring,
    actor: Actor,
    query: PersonQuery,
    *,
    region: str | None = None,
    limit: int | None = None,
    token_hash: str | None = None,
) -> LookupResult:
    return await _run(
        db, signer, keyring, actor, [query], batch=False, region=region, limit=limit, token_hash=token_hash
    )


async def lookup_people(
    db: Database,
    signer: Signer,
    keyring: Keyring,
    actor: Actor,
    queries: Sequence[PersonQuery],
    *,
    region: str | None = None,
    limit: int | None = None,
    token_hash: str | None = None,
) -> LookupResult:
    return await _run(
        db, signer, keyring, actor, queries, batch=True, region=region, limit=limit, token_hash=token_hash
    )


# ------------------------------------------------------------------ a roster file


@dataclass(frozen=True)
class RosterLine:
    row: int  # the file's row number
    id_number_masked: str | None  # None when the number is not a valid one
    name: str
    answer: dict[str, Any] | None  # the batch lookup's answer for the row
    problems: tuple[dict[str, str], ...]  # the row's field errors (then no answer)


@dataclass(frozen=True)
class RosterCheck:
    lines: list[RosterLine]
    receipt_id: UUID | None  # one signed receipt for the rows that were looked up
    checked_at: str | None


def _roster_line_problems(keyring: Keyring, line) -> tuple[str | None, tuple[dict[str, str], ...]]:
    try:
        _validate(keyring, [PersonQuery(line.id_number, line.name)], "")
    except InvalidInput as error:
        return None, tuple({"column": d["field"], "code": d["code"], "message": d["message"]} for d in error.details)
    return mask_id_number(normalize_id_number(line.id_number, today=today_in_china())), ()


async def lookup_roster(
    db: Database, signer: Signer, keyring: Keyring, actor: Actor, content: bytes, *, region: str | None = None
) -> RosterCheck:
    """A roster file (CSV or XLSX with the import's columns): one answer per row, the
    valid rows in one batch lookup with one signed receipt, the others with their errors.
    A file that cannot be read → 422 with the file's problems."""
    try:
        lines = read_people(content, limit=MAX_BATCH)
    except ImportRejected as rejected:
        raise InvalidInput(
            rejected.message,
            code="roster_rejected",
            details=[{"field": "file", "code": p.code, "message": p.message} for p in rejected.problems],
        ) from None
    checked = [(line, *_roster_line_problems(keyring, line)) for line in lines]
    valid = [(line, masked) for line, masked, problems in checked if not problems]
    answers: list[dict[str, Any]] = []
    receipt_id, checked_at = None, None
    if valid:
        result = await lookup_people(
            db, signer, keyring, actor, [PersonQuery(line.id_number, line.name) for line, _ in valid], region=region
        )
        body = msgspec.json.decode(result.body)
        answers, receipt_id, checked_at = body["results"], result.receipt_id, body["checked_at"]
    by_row = {line.row: answer for (line, _), answer in zip(valid, answers)}
    return RosterCheck(
        [
            RosterLine(line.row, masked, clean_name(line.name)[:100], by_row.get(line.row), problems)
            for line, masked, problems in checked
        ],
        receipt_id,
        checked_at,
    )


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
            rows = await session.exec(
                text("SELECT id, role FROM accounts WHERE id = ANY(:ids)").bindparams(ids=account_ids)
            )
            accounts = {row[0]: row[1] for row in rows}
    out = []
    for record in records:
        school = schools.get(record.school_id) if record.school_id else None
        out.append(
            PersonLookup(
                at=record.at,
                kind=record.kind,
                caller_role=accounts.get(record.account_id),
                school_code=school.code if school else None,
                school_name=school.name if school else None,
                region_code=record.region_code,
                result=_result_for(record, index),
            )
        )
    return out
