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

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from service.applications import notice_running_sql, settle_due_notices
from service.audit import Signer
from service.db import Database
from service.lookup.cache import lookup_cache
from service.lookup.rules import check_as_of, check_credit_code, lookup_region
from service.lookup.store import LookupResult, Stale, iso, store_receipt
from service.security import Actor
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
#: date, at midnight China time starting that date (`state.document_starts`) — or the
#: end of a public notice the vendor is in (admitted then: its entries count from the
#: notice's end); NULL: none. A horizon at $2 itself says that notice is already over
#: and not yet concluded (`notice_due`). Read-only: no commit cost, no locks.
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
            WHERE d.vendor_id = v.id AND {document_starts("d")} > $2
           UNION ALL
           SELECT greatest(a.notice_ends_at, $2) FROM applications a
            WHERE a.vendor_id = v.id AND {notice_running_sql("a")}) later) AS horizon,
       v.id, v.name, {", ".join(vendor_state_exprs(regions=None, at="$2"))}"""
#: $1 credit code, $2 instant.
LOOKUP_VENDOR = f"SELECT {_VENDOR_STATE}\n  FROM (SELECT 1) AS one LEFT JOIN vendors v ON v.credit_code = $1"
#: $1 after this vendor id, $2 instant, $3 page size: the cache warmer's pages.
WARM_PAGE = f"SELECT {_VENDOR_STATE}, v.credit_code\n  FROM vendors v WHERE v.id > $1 ORDER BY v.id LIMIT $3"


def vendor_answer(credit_code: str, st: VendorState, at: datetime) -> dict[str, Any]:
    """The answer (JSON-native values only: it is signed as canonical JSON)."""
    evaluated = evaluate(st, at)
    services: dict[UUID | str, dict[str, Any]] = {}
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
        service["valid_until"] = iso(service["valid_until"])
        service["region_codes"] = sorted(set(service["region_codes"]))
    return {
        "credit_code": credit_code,
        "name": st.name,
        "status": vendor_status(status for _, status in evaluated),
        "services": listed,
    }


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
            if cache.version is not None:
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


def notice_due(horizon: datetime | None, at: datetime) -> bool:
    """The state's horizon is the instant read itself: a notice of the vendor is over."""
    return horizon is not None and horizon <= at


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
    query = {"credit_code": credit_code, "as_of": iso(as_of) if as_of is not None else None}
    use_cache = as_of is None
    chain = region_chain(region_code)
    settled = False
    for _ in range(MAX_ATTEMPTS):
        # Cached state is used only with a cached checkpoint size to sign with.
        cached_size = cache.checkpoint_size if use_cache else None
        hit = cache.answer(credit_code, region_code, at) if cached_size is not None else None
        expect_version: int | None
        if hit is not None and cached_size is not None:  # the answer for this region, from the cached state
            (expect_version, answer), checkpoint, cached_checkpoint = hit, cached_size, True
        else:
            cached = cache.vendor(credit_code, at) if cached_size is not None else None
            if cached is not None and cached_size is not None:
                expect_version, st = cached
                version, checkpoint, cached_checkpoint = expect_version, cached_size, True
            else:
                checkpoint, version, horizon, st = await _read_vendor(db, credit_code, at)
                cache.observe(version, checkpoint)
                if notice_due(horizon, at) and not settled:
                    # The vendor's notice is over: admitted at its end, whether or not the
                    # job has recorded it yet. Conclude it, then read again.
                    await settle_due_notices(db, at)
                    settled, use_cache = True, False
                    continue
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
    stamps = msgspec.json.encode({"as_of": iso(at), "checked_at": iso(now), "receipt_id": str(receipt_id)})
    return LookupResult(bytes(answer)[:-1] + b"," + stamps[1:], receipt_id)
