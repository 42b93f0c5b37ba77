"""The vendor lookup, receipts and keys — the schools' hot path.

`lookup_vendor` makes two round trips to PostgreSQL on the raw asyncpg pool, no ORM:

1. one read-only statement: the vendor's whitelist state at the instant asked
   (`whitelist.state`) and the latest audit checkpoint size;
2. one statement that counts the call against the account's rate limit (a
   data-modifying CTE, see `ratelimit`) and inserts the signed receipt — one durable
   commit, done before the answer is returned: if it fails, the school gets an error,
   never an unrecorded answer; over the limit, nothing is stored and the answer is 429.

Between them, in Python: the statuses (`whitelist.status`), the answer, the canonical
receipt and its Ed25519 signature (~70 µs).

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

from service.audit.keys import Signer
from service.db.engine import Database
from service.errors import InvalidInput, NotFound
from service.identifiers.credit_code import validate_credit_code
from service.identifiers.errors import InvalidIdentifier
from service.lookup import ratelimit, receipts
from service.lookup.receipts import RECEIPT_TYPE, RECEIPT_VERSION
from service.regions.directory import regions
from service.security.actor import Actor, Role
from service.timeutil import utcnow
from service.whitelist import state as vendor_state
from service.whitelist.status import ACTIVE, vendor_status

#: $1 credit code, $2 region chain, $3 instant. Read-only: no commit cost, no locks.
LOOKUP_VENDOR = f"""
SELECT (SELECT coalesce(max(size), 0) FROM audit_checkpoints) AS checkpoint_size,
       {vendor_state.vendor_columns(regions="$2", at="$3")}
  FROM (SELECT 1) AS one LEFT JOIN vendors v ON v.credit_code = $1
"""
#: Count the lookup(s) against the account's limit and store the signed receipt, in one
#: statement and one (durable) commit: when the limit is reached nothing is stored and
#: no row comes back. $1-$4 as in `ratelimit.CONSUME`, then the receipt's columns.
STORE_RECEIPT = f"""
WITH rate AS ({ratelimit.CONSUME.strip()})
INSERT INTO lookup_receipts (id, kind, subject, account_id, school_id, region_code, query, answer, as_of,
                             created_at, checkpoint_size, canonical, signature, subjects)
SELECT $5, $6, $7, $1, $8, $9, $10::jsonb, $11::jsonb, $12, $13, $14, $15, $16, $17::varchar[] FROM rate
RETURNING (SELECT n FROM rate)
"""
GET_RECEIPT = ("SELECT canonical, signature, school_id, region_code, account_id FROM lookup_receipts "
               "WHERE id = $1")


def _iso(value: datetime) -> str:
    return value.isoformat()


def check_credit_code(raw: str) -> str:
    try:
        return validate_credit_code(raw).code
    except InvalidIdentifier as error:
        raise InvalidInput.field("credit_code", error.code, error.message) from None


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


def vendor_answer(credit_code: str, st: vendor_state.VendorState, at: datetime) -> dict[str, Any]:
    """The answer (JSON-native values only: it is signed as canonical JSON)."""
    evaluated = vendor_state.evaluate(st, at)
    services: dict[UUID, dict[str, Any]] = {}
    for entry, status in evaluated:
        if status != ACTIVE:
            continue
        service = services.get(entry.service_item_id)
        if service is None:
            services[entry.service_item_id] = service = {
                "item_id": str(entry.service_item_id), "category_code": entry.category_code,
                "activity": entry.activity, "grade_bands": list(entry.grade_bands), "fee": entry.fee,
                "fee_unit": entry.fee_unit, "fee_published_on": entry.fee_published_on.isoformat(),
                "valid_until": entry.interval.entry_valid_until, "region_codes": []}
        service["region_codes"].append(entry.region_code)
        service["valid_until"] = max(service["valid_until"], entry.interval.entry_valid_until)
    listed = sorted(services.values(), key=lambda s: (s["category_code"], s["activity"], s["item_id"]))
    for service in listed:
        service["valid_until"] = _iso(service["valid_until"])
        service["region_codes"] = sorted(set(service["region_codes"]))
    return {"credit_code": credit_code, "name": st.name,
            "status": vendor_status(status for _, status in evaluated), "services": listed}


@dataclass(frozen=True)
class LookupResult:
    body: bytes  # the JSON answer, encoded once
    receipt_id: UUID


@lru_cache(maxsize=8)
def _signer_id(signer: Signer) -> dict[str, str]:
    return {"origin": signer.name, "key_id": receipts.receipt_key_id(signer.name, signer.public_key_raw)}


def receipt_document(*, receipt_id: UUID, kind: str, query: dict[str, Any], answer: dict[str, Any],
                     as_of: datetime, time: datetime, actor: Actor, region_code: str, checkpoint_size: int,
                     signer: Signer) -> dict[str, Any]:
    return {
        "v": RECEIPT_VERSION, "type": RECEIPT_TYPE, "receipt_id": str(receipt_id), "kind": kind,
        "query": query, "answer": answer, "as_of": _iso(as_of), "time": _iso(time),
        "school": {"id": str(actor.school_id), "region_code": actor.region_code} if actor.school_id else None,
        "caller": {"account_id": str(actor.account_id), "role": str(actor.role)},
        "region_code": region_code, "audit_checkpoint_size": checkpoint_size,
        "signer": dict(_signer_id(signer)),
    }


async def store_receipt(conn, signer: Signer, *, kind: str, subject: str, query: dict[str, Any],
                        answer: dict[str, Any], as_of: datetime, time: datetime, actor: Actor, region_code: str,
                        checkpoint_size: int, count: int = 1, limit: int | None = None,
                        subjects: list[str] | None = None) -> UUID:
    """Count `count` lookups against the caller's rate limit and store one signed
    receipt, on `conn` (autocommit: committed when this returns; or inside the
    caller's transaction). Raises 429 `rate_limited` and stores nothing when the limit
    would be passed. For people, `query` and `subject` must hold the ID number only as
    its keyed hash. `subjects`: for a receipt about several people (a batch), the keyed
    hash of each, so that `lookups_of` finds the receipt for every one of them."""
    limit = limit or ratelimit.per_minute()
    start, retry_after = ratelimit.window()
    if count > limit:
        raise ratelimit.refusal(retry_after, limit)
    receipt_id = uuid4()
    document = receipt_document(receipt_id=receipt_id, kind=kind, query=query, answer=answer, as_of=as_of,
                                time=time, actor=actor, region_code=region_code, checkpoint_size=checkpoint_size,
                                signer=signer)
    canonical = receipts.canonical(document)
    signature = receipts.sign(signer.private_key, canonical)
    counted = await conn.fetchval(
        STORE_RECEIPT, actor.account_id, start, count, limit, receipt_id, kind, subject, actor.school_id,
        region_code, msgspec.json.encode(query).decode(), msgspec.json.encode(answer).decode(), as_of, time,
        checkpoint_size, canonical, signature, subjects)
    if counted is None:
        raise ratelimit.refusal(retry_after, limit)
    return receipt_id


async def lookup_vendor(db: Database, signer: Signer, actor: Actor, raw_code: str, *, as_of: datetime | None = None,
                        region: str | None = None, limit: int | None = None) -> LookupResult:
    credit_code = check_credit_code(raw_code)
    region_code = lookup_region(actor, region)
    now = utcnow()
    at = check_as_of(as_of, now)
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        row = await conn.fetchrow(LOOKUP_VENDOR, credit_code, vendor_state.region_chain(region_code), at)
        st = vendor_state.parse_row(row[1:])
        answer = vendor_answer(credit_code, st, at)
        query = {"credit_code": credit_code, "as_of": _iso(as_of) if as_of is not None else None}
        receipt_id = await store_receipt(conn, signer, kind="vendor", subject=credit_code, query=query,
                                         answer=answer, as_of=at, time=now, actor=actor, region_code=region_code,
                                         checkpoint_size=row[0], limit=limit)
    body = answer | {"as_of": _iso(at), "checked_at": _iso(now), "receipt_id": str(receipt_id)}
    return LookupResult(msgspec.json.encode(body), receipt_id)


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
    canonical, signature = bytes(row[0]), bytes(row[1])
    document = msgspec.json.decode(canonical)
    return receipts.served(document, canonical, signature, signer.name, signer.public_key_raw)


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
SELECT id, kind, account_id, school_id, region_code, created_at, query::text, answer::text FROM lookup_receipts
 WHERE subject = $1 OR subjects @> ARRAY[$1]::varchar[]
 ORDER BY created_at DESC, id LIMIT $2
"""


async def lookups_of(db: Database, subject: str, *, limit: int = 200) -> list[LookupRecord]:
    """Who looked `subject` up and when, newest first (the looked-up side of the DBS
    model): receipts whose `subject` it is, and batch receipts naming it among their
    `subjects`. For people `subject` is the keyed hash of the ID number; the caller
    checks that the reader may see it (the person's vendor, reviewers in scope)."""
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        rows = await conn.fetch(LOOKUPS_OF, subject, limit)
    return [LookupRecord(*row[:6], msgspec.json.decode(row[6]), msgspec.json.decode(row[7])) for row in rows]


def public_keys(signer: Signer) -> dict[str, str]:
    return {"origin": signer.name, "algorithm": receipts.ALGORITHM,
            "key_id": receipts.receipt_key_id(signer.name, signer.public_key_raw),
            "public_key": base64.b64encode(signer.public_key_raw).decode(),
            "public_key_pem": signer.public_key_pem, "vkey": signer.vkey}
