"""The public whitelist (no authentication): what is usable now, per item and region.

A row is one whitelist entry whose status is `active` now — not suspended, revoked,
superseded or expired (validity end passed, or a mandatory document type of the vendor
has no document valid today: expired, or not valid yet). Candidates come from one keyset-paginated SQL query on the current
intervals; the document check is applied per batch in Python, so a page is filled
from as many batches as needed. Nothing about people is here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from service.db import Database
from service.errors import InvalidInput, raise_problems
from service.regions import regions
from service.service_items import CATEGORIES
from service.timeutil import utcnow
from service.whitelist.state import CHINA_ZONE, document_counts, document_starts, mandatory_types
from service.whitelist.status import ACTIVE, Interval, documents_ok, entry_status

CANDIDATES = """
SELECT e.id, v.credit_code, v.name, e.service_item_id, i.category_code, i.activity, i.grade_bands, e.fee,
       e.fee_unit, e.fee_published_on, e.region_code, s.entry_valid_until, s.status, s.suspended_until, e.vendor_id
  FROM whitelist_entries e
  JOIN whitelist_entry_status s ON s.entry_id = e.id AND s.valid_to IS NULL
  JOIN vendors v ON v.id = e.vendor_id
  JOIN service_items i ON i.id = e.service_item_id
 WHERE s.status IN ('active', 'suspended') AND s.entry_valid_until > $1
   AND ($2::text[] IS NULL OR e.region_code = ANY($2::text[]))
   AND ($3::int IS NULL OR i.category_code = $3)
   AND ($4::text IS NULL OR v.name ILIKE $4 ESCAPE '\\' OR i.activity ILIKE $4 ESCAPE '\\' OR v.credit_code = $5)
   AND ($6::text IS NULL OR (v.credit_code, e.id) > ($6, $7::uuid))
 ORDER BY v.credit_code, e.id
 LIMIT $8
"""
DOCUMENTS = f"""
SELECT vendor_id, doc_type, max(valid_until) FROM documents
 WHERE vendor_id = ANY($1::uuid[]) AND {document_counts("$2")} GROUP BY vendor_id, doc_type
"""
# Every instant after $1 at which a candidate of the list (as CANDIDATES, without the text
# search) can change status with no write: its validity end or suspension end, a document
# of its vendor expiring (midnight China time after its last day), starting to count
# (its `valid_from`) or being uploaded. Conservative: every document counts, not only the
# mandatory types' latest.
NEXT_CHANGE = f"""
WITH listed AS (
  SELECT e.vendor_id, s.entry_valid_until, s.suspended_until
    FROM whitelist_entries e
    JOIN whitelist_entry_status s ON s.entry_id = e.id AND s.valid_to IS NULL
    JOIN service_items i ON i.id = e.service_item_id
   WHERE s.status IN ('active', 'suspended') AND s.entry_valid_until > $1
     AND ($2::text[] IS NULL OR e.region_code = ANY($2::text[]))
     AND ($3::int IS NULL OR i.category_code = $3)
), docs AS (
  SELECT d.valid_until, d.valid_from, d.uploaded_at FROM documents d
   WHERE d.vendor_id IN (SELECT vendor_id FROM listed)
)
SELECT min(t) FROM (
  SELECT entry_valid_until AS t FROM listed
  UNION ALL SELECT suspended_until FROM listed
  UNION ALL SELECT ((d.valid_until + 1)::timestamp AT TIME ZONE '{CHINA_ZONE}') FROM docs d
  UNION ALL SELECT {document_starts("d")} FROM docs d
  UNION ALL SELECT uploaded_at FROM docs
) changes WHERE t > $1
"""
SETTINGS = (
    "SELECT region_code, mandatory_document_types FROM region_settings WHERE mandatory_document_types IS NOT NULL"
)


@dataclass(frozen=True)
class PublicRow:
    credit_code: str
    vendor_name: str
    item_id: UUID
    category_code: int
    category_name: str
    activity: str
    grade_bands: list[str]
    fee: int
    fee_unit: str
    fee_published_on: date
    region_code: str
    region_name: str
    valid_until: datetime


@dataclass(frozen=True)
class Filters:
    regions: list[str] | None
    category: int | None
    pattern: str | None
    text: str | None


def filters(region: str | None, category: int | None, q: str | None) -> Filters:
    """Validate the query: an unknown region or category is a 422, not an empty list.
    `region` keeps entries usable in that region (its own and its parents') and those
    inside it (a city's counties)."""
    problems = []
    codes = None
    if region is not None:
        if region not in regions():
            problems.append(
                {"field": "region", "code": "unknown_region", "message": "行政区划代码不存在或不在本系统服务范围内"}
            )
        else:
            codes = sorted(set(regions().ancestors(region)) | set(regions().descendants(region)))
    if category is not None and category not in CATEGORIES:
        problems.append({"field": "category", "code": "unknown_category", "message": "活动类别须为 1 至 8"})
    text = (q or "").strip() or None
    if text is not None and len(text) > 100:
        problems.append({"field": "q", "code": "too_long", "message": "搜索词不能超过 100 个字符"})
    raise_problems(problems)
    pattern = None
    if text is not None:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return Filters(codes, category, pattern, text.upper() if text else None)


def _encode_cursor(credit_code: str, entry_id: UUID) -> str:
    return base64.urlsafe_b64encode(json.dumps([credit_code, str(entry_id)]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, UUID]:
    try:
        code, entry_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return str(code), UUID(entry_id)
    except (ValueError, TypeError):
        raise InvalidInput.field("cursor", "invalid_cursor", "分页游标无效") from None


async def _batches(
    db: Database, f: Filters, after: tuple[str, UUID] | None, now: datetime, batch: int
) -> AsyncGenerator[list[tuple[tuple[str, UUID], PublicRow | None]]]:
    """Candidate rows in order, each with its key and the public row (None = not usable)."""
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        settings = {r[0]: tuple(r[1]) for r in await conn.fetch(SETTINGS)}
        while True:
            rows = await conn.fetch(
                CANDIDATES,
                now,
                f.regions,
                f.category,
                f.pattern,
                f.text,
                after[0] if after else None,
                after[1] if after else None,
                batch,
            )
            if not rows:
                return
            latest: dict[UUID, dict[str, date]] = {}
            for vendor_id, doc_type, last_day in await conn.fetch(DOCUMENTS, list({r[14] for r in rows}), now):
                latest.setdefault(vendor_id, {})[doc_type] = last_day
            out = []
            for r in rows:
                ok = documents_ok(mandatory_types(r[10], settings), latest.get(r[14], {}), now)
                usable = entry_status(Interval(r[12], r[11], r[13]), now, ok) == ACTIVE
                region = regions().get(r[10])
                out.append(
                    (
                        (r[1], r[0]),
                        PublicRow(
                            credit_code=r[1],
                            vendor_name=r[2],
                            item_id=r[3],
                            category_code=r[4],
                            category_name=CATEGORIES.get(r[4], ""),
                            activity=r[5],
                            grade_bands=list(r[6]),
                            fee=r[7],
                            fee_unit=r[8],
                            fee_published_on=r[9],
                            region_code=r[10],
                            region_name=region.name if region else r[10],
                            valid_until=r[11],
                        )
                        if usable
                        else None,
                    )
                )
            yield out
            if len(rows) < batch:
                return
            after = out[-1][0]


async def public_whitelist(
    db: Database, f: Filters, *, cursor: str | None, limit: int, now: datetime | None = None
) -> tuple[list[PublicRow], str | None]:
    now = now or utcnow()
    after = _decode_cursor(cursor) if cursor else None
    found: list[tuple[tuple[str, UUID], PublicRow]] = []
    async with aclosing(_batches(db, f, after, now, max(2 * limit, 100))) as batches:
        async for batch in batches:
            found.extend((key, row) for key, row in batch if row is not None)
            if len(found) > limit:
                break
    page = found[:limit]
    next_cursor = _encode_cursor(*page[-1][0]) if len(found) > limit else None
    return [row for _, row in page], next_cursor


async def public_whitelist_all(db: Database, f: Filters, now: datetime | None = None) -> AsyncIterator[PublicRow]:
    """Every usable row, in the same order as the pages (for the CSV export)."""
    now = now or utcnow()
    async with aclosing(_batches(db, f, None, now, 2000)) as batches:
        async for batch in batches:
            for _, row in batch:
                if row is not None:
                    yield row


async def public_whitelist_next_change(db: Database, f: Filters, now: datetime) -> datetime | None:
    """The first instant after `now` at which `public_whitelist_all(f, ·)` may give
    another answer with nothing written (None: no such instant): an entry's validity or
    suspension ending, a document expiring or starting to count. Conservative (it may
    name an instant at which nothing changes, never miss one), so a copy of the list
    read at `now` stays true until then unless the tables change (`lookup_state_version`)."""
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        return await conn.fetchval(NEXT_CHANGE, now, f.regions, f.category)
