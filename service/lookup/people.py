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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

import msgspec

from service.audit import Signer
from service.db import Database
from service.errors import InvalidInput, raise_problems
from service.identifiers import InvalidIdentifier, normalize_id_number, validate_credit_code
from service.lookup.cache import lookup_cache
from service.lookup.people_reader import CODES, INDEX, NAME, ORIGIN, REGIONS, SUSPENDED, Snapshot, facts, reader
from service.lookup.receipts import compact_batch_query
from service.lookup.rules import lookup_region
from service.lookup.store import LookupResult, Stale, store_receipt
from service.personnel import clean_name, cleared_until
from service.security import Actor, Keyring
from service.timeutil import today_in_china

MAX_BATCH = 500
NAME_DOMAIN = "schoolgate.lookup.name\x00"
NOT_CLEARED: dict[str, Any] = {"result": "not_cleared", "vendors": []}
# Answers are embedded encoded (canonical: sorted keys) in the response and the receipt.
_NOT_CLEARED = msgspec.Raw(msgspec.json.encode(NOT_CLEARED, order="sorted"))


@lru_cache(maxsize=4096)
def _cleared(until: date | None, vendors: tuple[tuple[str, str | None], ...]) -> msgspec.Raw:
    """A `cleared` answer, encoded once per distinct answer (many people share their
    last valid day and vendors): keyed by its whole content, so never stale."""
    answer = {
        "result": "cleared",
        "valid_until": until.isoformat() if until else None,
        "vendors": [{"credit_code": c, "name": n} for c, n in vendors],
    }
    return msgspec.Raw(msgspec.json.encode(answer, order="sorted"))


@dataclass(frozen=True)
class PersonQuery:
    id_number: str | None
    name: str | None
    vendor_credit_code: str | None = None


class PersonAsked(Protocol):
    """What a lookup needs of one entry: a `PersonQuery`, or the request's decoded struct
    as it is (the controllers pass it without copying)."""

    @property
    def id_number(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def vendor_credit_code(self) -> str | None: ...


class QueryEntry(msgspec.Struct):
    """One entry of a receipt's query, as signed (encoded with sorted keys, as every
    receipt is: `receipts.canonical`)."""

    id_number_hmac: str
    name_hmac: str
    vendor_credit_code: str | None


@dataclass(slots=True)  # not frozen: ~2 µs less per entry, 500 per batch (never mutated)
class _Entry:
    index: str  # keyed hash of the normalised number
    name: str  # cleaned
    name_hmac: str
    vendor_credit_code: str | None
    query: QueryEntry


def name_hmac(keyring: Keyring, name: str) -> str:
    """Keyed hash of a cleaned name (domain separated from the ID-number index)."""
    return keyring.blind_index(NAME_DOMAIN + name)


def validate_entries(keyring: Keyring, queries: Sequence[PersonAsked], prefix: str) -> list[_Entry]:
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
            index, hashed = keyring.blind_index(number), name_hmac(keyring, name)
            entries.append(_Entry(index, name, hashed, code, QueryEntry(index, hashed, code)))
    raise_problems(problems)
    return entries


def _check_batch_size(queries: Sequence[PersonAsked]) -> None:
    if len(queries) > MAX_BATCH:
        raise InvalidInput.field("entries", "too_many_entries", f"一次最多核验 {MAX_BATCH} 人")
    if not queries:
        raise InvalidInput.field("entries", "required", "请至少提供一条核验记录")


async def _answers(db: Database, entries: list[_Entry], region_code: str) -> tuple[list[msgspec.Raw], Snapshot]:
    """The answers, in order, and the snapshot they come from — with the same statement
    whoever is asked about."""
    snap = await reader(db).read(list(dict.fromkeys(e.index for e in entries)))
    cache = lookup_cache(db)
    answers = []
    statuses: dict[str, tuple[bool, date | None]] = {}  # by blind index asked
    today = today_in_china(snap.at)
    for entry in entries:
        person = snap.people.get(entry.index)
        if person is None:  # nobody recorded at all: there is no one to be told from
            answers.append(_NOT_CLEARED)
            continue
        # A decoy (an unknown number) is judged in full like the person asked for, and
        # then not cleared: the same work either way.
        decoy = person[INDEX] != entry.index
        engaged = person[CODES] or ()
        status = statuses.get(entry.index)
        if status is None:
            regions = frozenset(person[REGIONS] or ()) or frozenset({person[ORIGIN] or region_code})
            status = statuses[entry.index] = cleared_until(
                facts(person), cache.personnel_settings(regions), snap.at, today
            )
        cleared, until = status
        qualifying: dict[str, str | None] = {}
        for code in engaged:
            if entry.vendor_credit_code in (None, code) and snap.vendor_open(code, region_code):
                qualifying[code] = snap.vendors[code].name
        if clean_name(person[NAME]) != entry.name or not cleared or not qualifying or decoy or person[SUSPENDED]:
            answers.append(_NOT_CLEARED)
            continue
        answers.append(_cleared(until, tuple(sorted(qualifying.items()))))
    return answers, snap


async def _run(
    db: Database,
    signer: Signer,
    keyring: Keyring,
    actor: Actor,
    queries: Sequence[PersonAsked],
    *,
    batch: bool,
    region: str | None,
    limit: int | None,
    token_hash: str | None,
) -> LookupResult:
    if batch:
        _check_batch_size(queries)
    entries = validate_entries(keyring, queries, "entries" if batch else "")
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
            query=msgspec.Raw(msgspec.json.encode({"entries": [e.query for e in entries]}, order="sorted")),
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
            query=msgspec.Raw(msgspec.json.encode(entries[0].query, order="sorted")),
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
    if isinstance(receipt_id, Stale):  # pragma: no cover - only a receipt made from cached state is stale
        raise RuntimeError("a person lookup's receipt was refused as stale")
    stamp = msgspec.json.encode({"checked_at": now.isoformat(), "receipt_id": str(receipt_id)})
    head = bytes(results) if batch else bytes(answers[0])
    return LookupResult(head[:-1] + b"," + stamp[1:], receipt_id)


async def lookup_person(
    db: Database,
    signer: Signer,
    keyring: Keyring,
    actor: Actor,
    query: PersonAsked,
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
    queries: Sequence[PersonAsked],
    *,
    region: str | None = None,
    limit: int | None = None,
    token_hash: str | None = None,
) -> LookupResult:
    return await _run(
        db, signer, keyring, actor, queries, batch=True, region=region, limit=limit, token_hash=token_hash
    )
