"""The read side of receipts: one signed receipt, who looked a subject up, a caller's
own lookups, and the public key that checks them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from service.audit import Signer
from service.db import Database
from service.errors import NotFound
from service.lookup import receipts
from service.security import Actor, Role

GET_RECEIPT = (
    "SELECT canonical, signature, school_id, region_code, account_id, group_size, group_index, group_path, "
    "query_compact FROM lookup_receipts WHERE id = $1"
)


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
SELECT id, kind, account_id, school_id, region_code, created_at, canonical, query_compact
  FROM lookup_receipts
 WHERE subject = $1 OR subjects @> ARRAY[$2::bigint]
 ORDER BY created_at DESC, id LIMIT $3
"""


class _Parts(msgspec.Struct):
    """The query and answer of a receipt document (the other members are skipped)."""

    query: dict[str, Any] | None = None
    answer: dict[str, Any] | None = None


_PARTS = msgspec.json.Decoder(_Parts)


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
        # The signed bytes hold the query and the answer (a batch's entries are in
        # `query_compact`): the one stored form since migration 0026.
        parts = _PARTS.decode(row[6])
        query = (parts.query or {}) if row[7] is None else {"entries": receipts.batch_entries(bytes(row[7]))}
        answer = parts.answer or {}
        if row[1] == "person_batch" and all(e.get("id_number_hmac") != subject for e in query.get("entries", ())):
            continue  # found by `subjects`: another keyed hash with the same first 64 bits
        out.append(LookupRecord(row[0], row[1], row[2], row[3], row[4], row[5], query, answer))
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
SELECT id, kind, created_at, CASE WHEN kind = 'vendor' THEN subject END,
       CASE WHEN kind <> 'person_batch' THEN canonical END
  FROM lookup_receipts
 WHERE account_id = $1
 ORDER BY created_at DESC, id DESC LIMIT $2
"""


class _ShownAnswer(msgspec.Struct):
    name: str | None = None  # a vendor's
    status: str | None = None  # a vendor's
    result: str | None = None  # a person's


class _Shown(msgspec.Struct):
    answer: _ShownAnswer = msgspec.field(default_factory=_ShownAnswer)


_SHOWN = msgspec.json.Decoder(_Shown)


async def own_lookups(db: Database, actor: Actor, *, limit: int = 50) -> list[OwnLookup]:
    """The caller's own lookups, newest first (a school's 我的核验记录). The vendor's
    name and the result come from the signed bytes (a batch's answer is not shown, so
    its large document is not read)."""
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        rows = await conn.fetch(OWN_LOOKUPS, actor.account_id, limit)
    out = []
    for receipt_id, kind, at, credit_code, canonical in rows:
        answer = _SHOWN.decode(canonical).answer if canonical is not None else _ShownAnswer()
        out.append(OwnLookup(receipt_id, kind, at, credit_code, answer.name, answer.status or answer.result))
    return out
