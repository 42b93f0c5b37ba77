"""The vendor lookup, receipts and keys — the schools' hot path.

A vendor lookup, warm, makes **one** round trip to PostgreSQL, shared with the other
lookups of the worker that are ready at the same moment:

- the bearer token's actor comes from the per-process token cache (the receipt store
  re-validates the token: revoked or changed → 401, nothing stored);
- the vendor's whitelist state for the region comes from the per-process lookup cache
  (`lookup.cache`), tagged with the lookup state version it was read at; on a miss, one
  read-only statement reads it (plus the version, the audit checkpoint size and the
  state's horizon) on the raw asyncpg pool;
- in Python: the statuses (`whitelist.status`), the answer, the canonical receipt and
  its Ed25519 signature;
- the receipt is stored by the group writer (`lookup.writer`): one call of
  `lookup_store_receipts` for every receipt queued, one durable commit, before any of
  those answers is returned. Per row it re-validates the token, checks the cached
  state's version and checkpoint size are still current (else the lookup reads afresh,
  signs again and retries), counts the rate limit (429 and nothing stored past it) and
  inserts the receipt.

`as_of` lookups (past instants) are not cached: they read their state afresh.

Not an audit event: a school checking a vendor reads no personal data, and the
receipt already records who asked what, when, and what they were told (signed, and
bound to the audit log by the checkpoint size). Writing an audit event per lookup
would flood the log the auditors verify with hundreds of thousands of reads a day.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

import msgspec

from service.accounts import forget_token
from service.audit import Signer
from service.db import Database
from service.errors import InvalidInput, NotFound, Unauthenticated
from service.identifiers import InvalidIdentifier, validate_credit_code
from service.lookup import ratelimit, receipts
from service.lookup.cache import lookup_cache
from service.lookup.receipts import RECEIPT_TYPE, RECEIPT_VERSION
from service.lookup.writer import PendingReceipt, writer
from service.regions import regions
from service.security import Actor, Role
from service.timeutil import utcnow
from service.whitelist import (
    ACTIVE,
    VendorState,
    document_starts,
    evaluate,
    for_region,
    next_change,
    parse_row,
    region_chain,
    vendor_state_exprs,
    vendor_status,
)

#: A vendor `v`'s state at instant $2 in every region (narrowed per lookup with
#: `state.for_region`, so one cached state serves every school), the lookup state
#: version and the audit checkpoint size of the same snapshot, and the state's horizon:
#: the next instant after $2 at which a stored status interval or document of the
#: vendor starts or stops counting — a document by its upload or, valid from a later
#: date, at midnight China time starting that date (`state.document_starts`); NULL:
#: none. Read-only: no commit cost, no locks.
_VENDOR_STATE = f"""(SELECT coalesce(max(size), 0) FROM audit_checkpoints) AS checkpoint_size,
       (SELECT version FROM lookup_state_version WHERE id = 1) AS state_version,
       (SELECT min(t) FROM (
           SELECT s.valid_from AS t FROM whitelist_entries e JOIN whitelist_entry_status s ON s.entry_id = e.id
            WHERE e.vendor_id = v.id AND s.valid_from > $2
           UNION ALL
           SELECT s.valid_to FROM whitelist_entries e JOIN whitelist_entry_status s ON s.entry_id = e.id
            WHERE e.vendor_id = v.id AND s.valid_to > $2
           UNION ALL
           SELECT d.uploaded_at FROM documents d WHERE d.vendor_id = v.id AND d.uploaded_at > $2
           UNION ALL
           SELECT {document_starts("d")} FROM documents d
            WHERE d.vendor_id = v.id AND {document_starts("d")} > $2) later) AS horizon,
       v.id, v.name, {", ".join(vendor_state_exprs(regions=None, at="$2"))}"""
#: $1 credit code, $2 instant.
LOOKUP_VENDOR = f"SELECT {_VENDOR_STATE}\n  FROM (SELECT 1) AS one LEFT JOIN vendors v ON v.credit_code = $1"
#: $1 after this vendor id, $2 instant, $3 page size: the cache warmer's pages.
WARM_PAGE = f"SELECT {_VENDOR_STATE}, v.credit_code\n  FROM vendors v WHERE v.id > $1 ORDER BY v.id LIMIT $3"
GET_RECEIPT = (
    "SELECT canonical, signature, school_id, region_code, account_id, group_size, group_index, group_path, "
    "query_compact FROM lookup_receipts WHERE id = $1"
)


def _iso(value: datetime) -> str:
    return value.isoformat()


def check_credit_code(raw: str) -> str:
    try:
        return _valid_credit_code(raw)
    except InvalidIdentifier as error:
        raise InvalidInput.field("credit_code", error.code, error.message) from None


@lru_cache(maxsize=65_536)
def _valid_credit_code(raw: str) -> str:
    """Validation is pure and costs ~40 µs (python-stdnum plus the GB 11714 warning):
    remembered per raw input (a bad one raises, and is not remembered)."""
    return validate_credit_code(raw).code


def lookup_region(actor: Actor, region: str | None) -> str:
    """The region a lookup is judged for: a school's own; for reviewers, auditors and
    admins the `region` asked (inside their scope), else their own region."""
    if actor.role is Role.SCHOOL:
        if region is not None and region != actor.region_code:
            raise InvalidInput.field("region", "region_not_allowed", "学校账号只能按本校所在地区查询")
        if not actor.region_code:
            raise InvalidInput.field("region", "unknown_region", "学校账号未绑定地区")
        return actor.region_code
    if region is None:
        if actor.region_code:
            return actor.region_code
        raise InvalidInput.field("region", "region_required", "请用 region 参数指定按哪个地区判断")
    regions().require(region, "region")
    if not actor.covers_region(region):
        raise InvalidInput.field("region", "region_not_allowed", "只能按本辖区内的地区查询")
    return region


def check_as_of(as_of: datetime | None, now: datetime) -> datetime:
    if as_of is None:
        return now
    if as_of.tzinfo is None:
        raise InvalidInput.field("as_of", "invalid_as_of", "as_of 须为带时区的时刻，例如 2026-09-01T08:00:00+08:00")
    if as_of > now:
        raise InvalidInput.field("as_of", "as_of_in_future", "as_of 不能晚于当前时间")
    return as_of.astimezone(UTC)


def vendor_answer(credit_code: str, st: VendorState, at: datetime) -> dict[str, Any]:
    """The answer (JSON-native values only: it is signed as canonical JSON)."""
    evaluated = evaluate(st, at)
    services: dict[UUID, dict[str, Any]] = {}
    for entry, status in evaluated:
        if status != ACTIVE:
            continue
        service = services.get(entry.service_item_id)
        if service is None:
            services[entry.service_item_id] = service = {
                "item_id": str(entry.service_item_id),
                "category_code": entry.category_code,
                "activity": entry.activity,
                "grade_bands": list(entry.grade_bands),
                "fee": entry.fee,
                "fee_unit": entry.fee_unit,
                "fee_published_on": entry.fee_published_on.isoformat(),
                "valid_until": entry.interval.entry_valid_until,
                "region_codes": [],
            }
        service["region_codes"].append(entry.region_code)
        service["valid_until"] = max(service["valid_until"], entry.interval.entry_valid_until)
    listed = sorted(services.values(), key=lambda s: (s["category_code"], s["activity"], s["item_id"]))
    for service in listed:
        service["valid_until"] = _iso(service["valid_until"])
        service["region_codes"] = sorted(set(service["region_codes"]))
    return {
        "credit_code": credit_code,
        "name": st.name,
        "status": vendor_status(status for _, status in evaluated),
        "services": listed,
    }


@dataclass(frozen=True)
class LookupResult:
    body: bytes  # the JSON answer, encoded once
    receipt_id: UUID


@lru_cache(maxsize=8)
def _signer_id(signer: Signer) -> msgspec.Raw:
    return msgspec.Raw(
        msgspec.json.encode(
            {"origin": signer.name, "key_id": receipts.receipt_key_id(signer.name, signer.public_key_raw)},
            order="sorted",
        )
    )


@lru_cache(maxsize=4096)
def _caller_parts(actor: Actor) -> tuple[msgspec.Raw, msgspec.Raw]:
    """The receipt's `school` and `caller` members of an actor, encoded once."""
    school = {"id": str(actor.school_id), "region_code": actor.region_code} if actor.school_id else None
    caller = {"account_id": str(actor.account_id), "role": str(actor.role)}
    return (
        msgspec.Raw(msgspec.json.encode(school, order="sorted")),
        msgspec.Raw(msgspec.json.encode(caller, order="sorted")),
    )


def receipt_document(
    *,
    receipt_id: UUID,
    kind: str,
    query: dict[str, Any],
    answer: dict[str, Any] | msgspec.Raw,
    as_of: datetime,
    time: datetime,
    actor: Actor,
    region_code: str,
    checkpoint_size: int,
    signer: Signer,
) -> dict[str, Any]:
    school, caller = _caller_parts(actor)
    return {
        "v": RECEIPT_VERSION,
        "type": RECEIPT_TYPE,
        "receipt_id": str(receipt_id),
        "kind": kind,
        "query": query,
        "answer": answer,
        "as_of": _iso(as_of),
        "time": _iso(time),
        "school": school,
        "caller": caller,
        "region_code": region_code,
        "audit_checkpoint_size": checkpoint_size,
        "signer": _signer_id(signer),
    }


@dataclass(frozen=True)
class Stale:
    """The cached state or checkpoint size a receipt was made from is no longer
    current: nothing was stored; read afresh and sign again."""

    version: int
    checkpoint_size: int


async def store_receipt(
    db: Database,
    signer: Signer,
    *,
    kind: str,
    subject: str,
    query: dict[str, Any] | msgspec.Raw,
    answer: dict[str, Any] | msgspec.Raw,
    as_of: datetime,
    time: datetime,
    actor: Actor,
    region_code: str,
    checkpoint_size: int,
    count: int = 1,
    limit: int | None = None,
    query_compact: bytes | None = None,
    token_hash: str | None = None,
    expect_version: int | None = None,
    cached_checkpoint: bool = False,
) -> UUID | Stale:
    """Count `count` lookups against the caller's rate limit and store one signed
    receipt — durably (committed) when this returns, grouped with the other receipts
    of this worker ready at the same moment (`lookup.writer`). Raises 429
    `rate_limited` and stores nothing when the limit would be passed.

    - `token_hash`: re-validate this bearer token (the actor came from the token
      cache): revoked, or no longer this account/role/scope → 401, nothing stored.
    - `expect_version` / `cached_checkpoint`: the answer was made from cached state read
      at that lookup state version / with the cached checkpoint size; if either is no
      longer current nothing is stored and `Stale` is returned (the caller reads afresh
      and calls again). Without them the result is always the receipt id.

    `query` and `answer` may be given already encoded, as `msgspec.Raw` of their
    canonical JSON (sorted keys at every level, as `receipts.canonical` writes): they
    are embedded as is. For people, `query` and `subject` must hold the ID number only
    as its keyed hash. `query_compact`: for a receipt about several people (a batch),
    its entries in compact form (`receipts.compact_batch_query`, the same entries as
    `query`): stored in place of the entries, and the store derives from it the
    `subjects` that let `lookups_of` find the receipt for every one of them."""
    limit = limit or ratelimit.per_minute()
    start, retry_after = ratelimit.window()
    if count > limit:
        raise ratelimit.refusal(retry_after, limit)
    receipt_id = uuid4()
    document = receipt_document(
        receipt_id=receipt_id,
        kind=kind,
        query=query,
        answer=answer,
        as_of=as_of,
        time=time,
        actor=actor,
        region_code=region_code,
        checkpoint_size=checkpoint_size,
        signer=signer,
    )
    canonical = receipts.canonical(document)
    if query_compact is not None:  # a batch: no JSONB copies, the entries stored compact
        stored, query_json, answer_json = receipts.stored_batch_canonical(document), None, None
    else:
        stored, query_json, answer_json = canonical, _json_text(query), _json_text(answer)
    outcome = await writer(db, signer).store(
        PendingReceipt(
            receipt_id=receipt_id,
            kind=kind,
            subject=subject,
            query_compact=query_compact,
            account_id=actor.account_id,
            school_id=actor.school_id,
            region_code=region_code,
            query=query_json,
            answer=answer_json,
            as_of=as_of,
            created_at=time,
            checkpoint_size=checkpoint_size,
            stored=stored,
            count=count,
            limit=limit,
            window_start=start,
            token_hash=token_hash,
            role=str(actor.role),
            actor_region=actor.region_code,
            vendor_code=actor.vendor_credit_code,
            expect_version=expect_version,
            expect_checkpoint=cached_checkpoint,
            canonical=canonical,
        )
    )
    lookup_cache(db).observe(outcome.version, outcome.checkpoint_size)
    if outcome.outcome == "stored":
        return receipt_id
    if outcome.outcome == "stale":
        return Stale(outcome.version, outcome.checkpoint_size)
    if outcome.outcome == "limited":
        raise ratelimit.refusal(retry_after, limit)
    if token_hash is not None:
        forget_token(db, token_hash)
    raise Unauthenticated(headers={"WWW-Authenticate": "Bearer"})


def _json_text(value: dict[str, Any] | msgspec.Raw) -> str:
    return (bytes(value) if isinstance(value, msgspec.Raw) else msgspec.json.encode(value)).decode()


async def _read_vendor(db: Database, credit_code: str, at: datetime):
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        row = await conn.fetchrow(LOOKUP_VENDOR, credit_code, at)
    return row[0], row[1], row[2], parse_row(row[3:])


async def warm_vendor_cache(db: Database, *, page: int = 500) -> int | None:
    """Read every vendor's state into this worker's lookup cache (pages of `page`), as
    the lookups would one by one. Returns the vendors cached, or None when the version
    moved under it (what it cached stays valid only until then: start again)."""
    cache = lookup_cache(db)
    pool = await db.raw_pool()
    after, cached = UUID(int=0), 0
    while True:
        at = utcnow()
        async with pool.acquire() as conn:
            rows = await conn.fetch(WARM_PAGE, after, at, page)
        if not rows:
            cache.mark_complete(cache.version)
            return cached
        for row in rows:
            cache.observe(row[1], row[0])
            if row[1] != cache.version:
                return None
            cache.put_vendor(row[-1], row[1], parse_row(row[3:-1]), row[2])
        cached += len(rows)
        after = rows[-1][3]


MAX_ATTEMPTS = 5


async def lookup_vendor(
    db: Database,
    signer: Signer,
    actor: Actor,
    raw_code: str,
    *,
    as_of: datetime | None = None,
    region: str | None = None,
    limit: int | None = None,
    token_hash: str | None = None,
) -> LookupResult:
    credit_code = check_credit_code(raw_code)
    region_code = lookup_region(actor, region)
    now = utcnow()
    at = check_as_of(as_of, now)
    cache = lookup_cache(db)
    query = {"credit_code": credit_code, "as_of": _iso(as_of) if as_of is not None else None}
    use_cache = as_of is None
    chain = region_chain(region_code)
    for _ in range(MAX_ATTEMPTS):
        hit = cache.answer(credit_code, region_code, at) if use_cache and cache.checkpoint_size is not None else None
        if hit is not None:  # the answer for this region, computed from the cached state
            (expect_version, answer), checkpoint, cached_checkpoint = hit, cache.checkpoint_size, True
        else:
            cached = cache.vendor(credit_code, at) if use_cache else None
            if cached is not None and cache.checkpoint_size is not None:
                expect_version, st = cached
                version, checkpoint, cached_checkpoint = expect_version, cache.checkpoint_size, True
            else:
                checkpoint, version, horizon, st = await _read_vendor(db, credit_code, at)
                cache.observe(version, checkpoint)
                if use_cache:
                    cache.put_vendor(credit_code, version, st, horizon)
                expect_version, cached_checkpoint = None, False
            narrowed = for_region(st, chain)
            # Encoded once, canonically (sorted keys): embedded as is in the signed
            # receipt, the stored copy and the response.
            answer = msgspec.Raw(msgspec.json.encode(vendor_answer(credit_code, narrowed, at), order="sorted"))
            if use_cache:
                cache.put_answer(credit_code, region_code, version, answer, next_change(narrowed, at))
        receipt_id = await store_receipt(
            db,
            signer,
            kind="vendor",
            subject=credit_code,
            query=query,
            answer=answer,
            as_of=at,
            time=now,
            actor=actor,
            region_code=region_code,
            checkpoint_size=checkpoint,
            limit=limit,
            token_hash=token_hash,
            expect_version=expect_version,
            cached_checkpoint=cached_checkpoint,
        )
        if not isinstance(receipt_id, Stale):
            break
        use_cache = False  # the state changed under the cache: read it afresh
    else:  # pragma: no cover - a fresh read is never stale
        raise RuntimeError("the vendor lookup could not store its receipt")
    stamps = msgspec.json.encode({"as_of": _iso(at), "checked_at": _iso(now), "receipt_id": str(receipt_id)})
    return LookupResult(bytes(answer)[:-1] + b"," + stamps[1:], receipt_id)


# ------------------------------------------------------------------ receipts


def _receipt_visible(actor: Actor, school_id: UUID | None, region_code: str | None, account_id: UUID) -> bool:
    if actor.role is Role.ADMIN or actor.account_id == account_id:
        return True
    if actor.role is Role.SCHOOL:
        return school_id is not None and actor.school_id == school_id
    if actor.role in (Role.REVIEWER, Role.AUDITOR):
        return region_code is not None and actor.covers_region(region_code)
    return False


async def get_receipt(db: Database, signer: Signer, actor: Actor, receipt_id: UUID) -> dict[str, Any]:
    """The signed receipt: the school that made it, reviewers/auditors of its region, admins."""
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        row = await conn.fetchrow(GET_RECEIPT, receipt_id)
    if row is None or not _receipt_visible(actor, row[2], row[3], row[4]):
        raise NotFound("未找到该查询回执", code="receipt_not_found")
    canonical = receipts.restore_canonical(bytes(row[0]), None if row[8] is None else bytes(row[8]))
    signature = bytes(row[1])
    document = msgspec.json.decode(canonical)
    group = receipts.GroupSignature(signature, row[5], row[6], bytes(row[7])) if row[5] is not None else None
    return receipts.served(document, canonical, signature, signer.name, signer.public_key_raw, group)


@dataclass(frozen=True)
class LookupRecord:
    receipt_id: UUID
    kind: str
    account_id: UUID
    school_id: UUID | None
    region_code: str | None
    at: datetime
    query: dict[str, Any]
    answer: dict[str, Any]


LOOKUPS_OF = """
SELECT id, kind, account_id, school_id, region_code, created_at, query::text, answer::text, canonical, query_compact
  FROM lookup_receipts
 WHERE subject = $1 OR subjects @> ARRAY[$2::bigint]
 ORDER BY created_at DESC, id LIMIT $3
"""


def subject_key(index: str) -> int:
    """What `lookup_receipts.subjects` holds for a keyed hash (64 hex digits): its first
    64 bits as a signed integer (migration 0014)."""
    return int.from_bytes(bytes.fromhex(index[:16]), "big", signed=True)


async def lookups_of(db: Database, subject: str, *, limit: int = 200) -> list[LookupRecord]:
    """Who looked `subject` up and when, newest first (the looked-up side of the DBS
    model): receipts whose `subject` it is, and batch receipts naming it among their
    entries (found by `subjects`, then confirmed against the full keyed hash). For
    people `subject` is the keyed hash of the ID number; the caller checks that the
    reader may see it (the person's vendor, reviewers in scope)."""
    key = subject_key(subject) if len(subject) == 64 else None
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        rows = await conn.fetch(LOOKUPS_OF, subject, key, limit)
    out = []
    for row in rows:
        if row[9] is None:
            query, answer = msgspec.json.decode(row[6]), msgspec.json.decode(row[7])
        else:  # a batch stored compact: its query and answer are in the canonical bytes
            query = {"entries": receipts.batch_entries(bytes(row[9]))}
            answer = msgspec.json.decode(bytes(row[8]))["answer"]
        if row[1] == "person_batch" and all(e.get("id_number_hmac") != subject for e in query.get("entries", ())):
            continue  # found by `subjects`: another keyed hash with the same first 64 bits
        out.append(LookupRecord(*row[:6], query, answer))
    return out


def public_keys(signer: Signer) -> dict[str, str]:
    return {
        "origin": signer.name,
        "algorithm": receipts.ALGORITHM,
        "key_id": receipts.receipt_key_id(signer.name, signer.public_key_raw),
        "public_key": base64.b64encode(signer.public_key_raw).decode(),
        "public_key_pem": signer.public_key_pem,
        "vkey": signer.vkey,
    }


@dataclass(frozen=True)
class OwnLookup:
    """One of the caller's own past lookups, as a list shows it (no personal data: a
    person lookup's receipt holds the ID number and name only as keyed hashes)."""

    receipt_id: UUID
    kind: str  # vendor | person | person_batch
    at: datetime
    credit_code: str | None  # the vendor asked about
    vendor_name: str | None
    result: str | None  # vendor: its status; person: cleared | not_cleared; batch: None


OWN_LOOKUPS = """
SELECT id, kind, created_at, CASE WHEN kind = 'vendor' THEN subject END, answer->>'name',
       COALESCE(answer->>'status', answer->>'result')
  FROM lookup_receipts
 WHERE account_id = $1
 ORDER BY created_at DESC, id DESC LIMIT $2
"""


async def own_lookups(db: Database, actor: Actor, *, limit: int = 50) -> list[OwnLookup]:
    """The caller's own lookups, newest first (a school's 我的核验记录)."""
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        rows = await conn.fetch(OWN_LOOKUPS, actor.account_id, limit)
    return [OwnLookup(*row) for row in rows]
