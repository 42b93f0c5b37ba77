"""Published lists issued once per content and rendered once, kept in PostgreSQL.

The whitelist and the notice board are public: rendering one costs seconds of CPU (the
province's 2,000 entries ~15 s), so rendering per request would be a denial of service
anyone can run. Instead each list, for each query (`scope`), has one publication in
force, stored in `published_lists` (not in process memory: several stateless workers
share it):

- Its key is the list's **content**: the document without its instant, plus the signing
  key, hashed. A read of the list (the domain's own query, the truth) is compared by
  hash with the stored one; while they match, the stored publication is served — the
  same signed JSON, number, date and PDF bytes. Any change to what the list says (an
  admission, suspension, revocation, an expiry passing, a fee change, a new key) gives
  another hash, and so a new publication, issued and signed at that request's instant.
- The list is not read at all while the stored row is known to be still its truth
  (`fresh`): the row keeps the **source version** it was read at
  (`published_source_version(kind)`: counters bumped at commit by every transaction
  that writes the list's tables, migrations 0010 and 0023, read *before* the list), the
  next instant the list can change with no write (`fresh_until`: an entry's validity or
  suspension ending, a document expiring, a notice period ending — the domain's
  `*_next_change`) and the signing key. While the version is current, the request's
  instant is before `fresh_until` and the key is the same, nothing the list is made of
  can have changed: one statement serves the stored PDF or JSON. Otherwise the list is
  read and compared as above (a write that did not change the list re-stamps the row).
- The date it carries (`as_of`, printed as the publication date) is therefore the
  instant this content was first published, not the instant of the request: the list
  is true at that instant and stays the one in force for as long as the service serves
  it (same number, same SHA-256 at the JSON endpoint).
- One row per scope: a new publication replaces the scope's previous one, so storage
  is bounded by the number of queries there are (regions × categories), whatever the
  traffic.
- Only one worker renders a publication: it claims the row (`render_token`, a lease of
  the render time limit and a margin, so a crashed worker's claim runs out), renders in
  the render pool and stores the bytes. Others asking meanwhile poll the row for up to
  the configured wait, then get 503 `render_in_progress` with `Retry-After`. A render
  that fails releases its claim.
- The PDF remembers the layout (templates) it was made with: after a deploy that
  changes them, the same publication is rendered again, keeping its number and date.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import text

from service.audit import Signer, canonical_json
from service.db import Database
from service.errors import DomainError
from service.logging import get_logger
from service.lookup import receipt_key_id
from service.printing import signed
from service.printing.engine import Job, layout_version
from service.printing.pool import POOL
from service.printing.rendering import publication_wait, render

log = get_logger("schoolgate.printing")

POLL_SECONDS = 0.5
LEASE_MARGIN_SECONDS = 10.0
RETRY_AFTER_MAX_SECONDS = 10


class RenderInProgress(DomainError):
    status_code = 503
    code = "render_in_progress"
    message = "名单文件正在生成，请稍后重试"


@dataclass(frozen=True)
class Publication:
    kind: str
    scope: str
    content_hash: str
    published_at: datetime
    served: dict[str, Any]  # the signed JSON, as GET /api/v1/public/<kind>.json serves it


def content_hash(content: dict[str, Any], key_id: str) -> str:
    """What a publication is made from: the list's content (no instant) and the key."""
    return hashlib.sha256(canonical_json({"content": content, "key_id": key_id})).hexdigest()


def issue(signer: Signer, kind: str, scope: str, content: dict[str, Any], at: datetime) -> Publication:
    """A new publication of `content`, dated and signed `at` (pure)."""
    served, _ = signed.sign(signer, content | {"as_of": at.isoformat()})
    return Publication(kind, scope, content_hash(content, served["key_id"]), at, served)


SELECT = text("SELECT content_hash, published_at, served FROM published_lists WHERE kind = :kind AND scope = :scope")
# A read made at an older source version than the stored one never replaces it.
REPLACE = text(
    """
INSERT INTO published_lists (kind, scope, content_hash, published_at, served, source_version, fresh_until, key_id)
VALUES (:kind, :scope, :content_hash, :published_at, :served, :version, :fresh_until, :key_id)
ON CONFLICT (kind, scope) DO UPDATE
   SET content_hash = excluded.content_hash, published_at = excluded.published_at, served = excluded.served,
       source_version = excluded.source_version, fresh_until = excluded.fresh_until, key_id = excluded.key_id,
       pdf = NULL, layout = NULL, rendered_at = NULL, render_token = NULL, render_until = NULL
 WHERE published_lists.content_hash <> excluded.content_hash
   AND (published_lists.source_version IS NULL OR published_lists.source_version <= excluded.source_version)
RETURNING content_hash
"""
)
STAMP = text(
    """
UPDATE published_lists SET source_version = :version, fresh_until = :fresh_until, key_id = :key_id
 WHERE kind = :kind AND scope = :scope AND content_hash = :content_hash
   AND (source_version IS NULL OR source_version <= :version)
"""
)


def _stored(kind: str, scope: str, row) -> Publication:
    return Publication(kind, scope, row[0], row[1], json.loads(row[2]))


@dataclass(frozen=True)
class Freshness:
    """What a read of the list was made at: the source version read before it, and the
    next instant the list can change with no write (None: none)."""

    version: int
    until: datetime | None


SOURCE_VERSION = "SELECT published_source_version($1)"
FRESH = """
  FROM published_lists
 WHERE kind = $1 AND scope = $2 AND key_id = $3
   AND source_version = published_source_version($1) AND (fresh_until IS NULL OR fresh_until > $4)
"""
# One publication, whatever its content: a list that changes back to what it was is a
# new publication (new date, number, signature) with the old content hash, so files are
# named by the hash *and* the publication instant (`tag`, computed alike here and in SQL).
TAG = "content_hash || '.' || (extract(epoch FROM published_at) * 1000000)::bigint"
# The bytes are sent from the database only when this process does not hold them
# already (`HELD`): a kept publication costs one small row, not its megabyte.
FRESH_PDF = (
    f"SELECT {TAG}, pdf IS NOT NULL AND layout = $5,"
    f" CASE WHEN pdf IS NOT NULL AND layout = $5 AND {TAG} <> ALL($6::text[]) THEN pdf END,"
    " CASE WHEN pdf IS NULL OR layout IS DISTINCT FROM $5 THEN content_hash END,"
    " CASE WHEN pdf IS NULL OR layout IS DISTINCT FROM $5 THEN published_at END,"
    " CASE WHEN pdf IS NULL OR layout IS DISTINCT FROM $5 THEN served END" + FRESH
)
FRESH_SERVED = f"SELECT {TAG}, CASE WHEN {TAG} <> ALL($5::text[]) THEN served END" + FRESH
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def tag(publication: Publication) -> str:
    """Names one publication (as `TAG` does in SQL)."""
    return f"{publication.content_hash}.{(publication.published_at - EPOCH) // timedelta(microseconds=1)}"


class Held:
    """The bytes of the last few files this process served, by what they are (`what`:
    pdf or json, the publication's tag, the layout): immutable for that key, so holding
    them can never serve anything stale — whether a publication is still in force is
    always asked of PostgreSQL (`fresh_*`); only the transfer of its bytes is saved."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._files: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()

    def tags(self, what: str, layout: str) -> list[str]:
        return [key[1] for key in self._files if key[0] == what and key[2] == layout]

    def get(self, what: str, tag: str, layout: str) -> bytes | None:
        found = self._files.get((what, tag, layout))
        if found is not None:
            self._files.move_to_end((what, tag, layout))
        return found

    def put(self, what: str, tag: str, layout: str, data: bytes) -> bytes:
        self._files[(what, tag, layout)] = data
        self._files.move_to_end((what, tag, layout))
        while len(self._files) > self.size:
            self._files.popitem(last=False)
        return data


HELD = Held()


async def source_version(db: Database, kind: str) -> int:
    """The version of what list `kind` is read from; read it *before* reading the list,
    so that a write committed meanwhile leaves the stored copy stale, never wrong."""
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        return await conn.fetchval(SOURCE_VERSION, kind)


@dataclass(frozen=True)
class FreshPdf:
    tag: str
    pdf: bytes | None  # None: the publication stands but is not rendered in this layout
    publication: Publication | None  # given when `pdf` is None


async def fresh_pdf(db: Database, kind: str, scope: str, key_id: str, now: datetime) -> FreshPdf | None:
    """The stored PDF of the scope's publication when it is still the list's truth at
    `now` (one statement, the list unread), or None: read the list."""
    layout = layout_version()
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        row = await conn.fetchrow(FRESH_PDF, kind, scope, key_id, now, layout, HELD.tags("pdf", layout))
        if row is not None and row[1] and row[2] is None and HELD.get("pdf", row[0], layout) is None:
            row = await conn.fetchrow(FRESH_PDF, kind, scope, key_id, now, layout, [])  # left HELD meanwhile
    if row is None:
        return None
    if not row[1]:
        return FreshPdf(row[0], None, Publication(kind, scope, row[3], row[4], json.loads(row[5])))
    data = row[2] if row[2] is not None else HELD.get("pdf", row[0], layout)
    if data is None:  # not reached (asked again above); reading the list is always right
        return None
    return FreshPdf(row[0], HELD.put("pdf", row[0], layout, data), None)


async def fresh_served(db: Database, kind: str, scope: str, key_id: str, now: datetime) -> tuple[str, bytes] | None:
    """The tag and signed JSON (the stored text, as bytes) of the scope's publication
    when it is still the list's truth at `now`, or None."""
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        row = await conn.fetchrow(FRESH_SERVED, kind, scope, key_id, now, HELD.tags("json", ""))
        if row is not None and row[1] is None and HELD.get("json", row[0], "") is None:
            row = await conn.fetchrow(FRESH_SERVED, kind, scope, key_id, now, [])  # left HELD meanwhile
    if row is None:
        return None
    data = row[1].encode() if row[1] is not None else HELD.get("json", row[0], "")
    return (row[0], HELD.put("json", row[0], "", data)) if data is not None else None


def etag(publication_tag: str) -> str:
    """The entity tag of a publication's signed JSON: the same publication, the same bytes."""
    return f'"{publication_tag}"'


def pdf_etag(publication_tag: str) -> str:
    """The entity tag of a publication's PDF in this process's layout (reproducible:
    the same publication and layout, the same bytes)."""
    return f'"{publication_tag}-{layout_version()}"'


async def current(
    db: Database,
    signer: Signer,
    kind: str,
    scope: str,
    content: dict[str, Any],
    now: datetime,
    freshness: Freshness,
) -> Publication:
    """The publication in force for `content` (read at `freshness`): the stored one when
    the content is the same, else a new one issued `now`, replacing the scope's previous
    one. Either way the row remembers `freshness`, so the next requests need not read."""
    key_id = signer_key_id(signer)
    wanted = content_hash(content, key_id)
    key = {"kind": kind, "scope": scope}
    stamp = {"version": freshness.version, "fresh_until": freshness.until, "key_id": key_id}
    async with db.transaction() as session:
        row = (await (await session.connection()).execute(SELECT.bindparams(**key))).first()
        if row is not None and row[0] == wanted:
            await (await session.connection()).execute(STAMP.bindparams(**key, **stamp, content_hash=wanted))
            return _stored(kind, scope, row)
        fresh = issue(signer, kind, scope, content, now)
        replaced = (
            await (await session.connection()).execute(
                REPLACE.bindparams(
                    **key,
                    **stamp,
                    content_hash=fresh.content_hash,
                    published_at=fresh.published_at,
                    served=json.dumps(fresh.served, ensure_ascii=False),
                )
            )
        ).first()
        if replaced is not None:
            log.info("publication_issued", kind=kind, scope=scope, content_hash=fresh.content_hash[:12])
            return fresh
    # Another worker issued the same content between our read and our write: theirs stands.
    async with db.transaction() as session:
        row = (await (await session.connection()).execute(SELECT.bindparams(**key))).first()
    return _stored(kind, scope, row) if row is not None and row[0] == wanted else fresh


def signer_key_id(signer: Signer) -> str:
    return receipt_key_id(signer.name, signer.public_key_raw)


# ------------------------------------------------------------------ the PDF, rendered once

STATE = text(
    """
SELECT content_hash = :content_hash, pdf IS NOT NULL AND layout = :layout,
       GREATEST(0, EXTRACT(EPOCH FROM render_until - now()))
  FROM published_lists WHERE kind = :kind AND scope = :scope
"""
)
PDF = text(
    "SELECT pdf FROM published_lists"
    " WHERE kind = :kind AND scope = :scope AND content_hash = :content_hash AND layout = :layout"
)
CLAIM = text(
    """
UPDATE published_lists SET render_token = :token, render_until = now() + make_interval(secs => :lease)
 WHERE kind = :kind AND scope = :scope AND content_hash = :content_hash
   AND (pdf IS NULL OR layout IS DISTINCT FROM :layout)
   AND (render_until IS NULL OR render_until < now())
RETURNING 1
"""
)
STORE = text(
    """
UPDATE published_lists SET pdf = :pdf, layout = :layout, rendered_at = now(), render_token = NULL, render_until = NULL
 WHERE kind = :kind AND scope = :scope AND content_hash = :content_hash AND render_token = :token
"""
)
RELEASE = text(
    "UPDATE published_lists SET render_token = NULL, render_until = NULL"
    " WHERE kind = :kind AND scope = :scope AND render_token = :token"
)


async def _one(db: Database, statement, **params):
    async with db.transaction() as session:
        return (await (await session.connection()).execute(statement.bindparams(**params))).first()


async def _pause(seconds: float) -> None:
    """Between two looks at a render another worker holds (a seam for the tests)."""
    await asyncio.sleep(seconds)


async def pdf(db: Database, publication: Publication, job_of: Callable[[Publication], Job]) -> bytes:
    """The PDF of `publication`: the stored bytes, or rendered here by the one worker
    that claims it, or (after waiting for another worker's render) 503."""
    key = {"kind": publication.kind, "scope": publication.scope, "content_hash": publication.content_hash}
    layout = layout_version()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + publication_wait()
    while True:
        found = await _one(db, PDF, **key, layout=layout)
        if found is not None:
            return found[0]
        token = uuid4()
        lease = POOL.timeout + LEASE_MARGIN_SECONDS
        if await _one(db, CLAIM, **key, layout=layout, token=token, lease=lease) is not None:
            return await _render(db, publication, job_of, key, layout, token)
        state = await _one(db, STATE, **key, layout=layout)
        if state is None or not state[0]:  # replaced by a newer publication meanwhile
            raise RenderInProgress(headers={"Retry-After": "1"})
        if state[1]:
            continue  # stored between our two looks
        remaining = deadline - loop.time()
        if remaining <= 0:
            retry = min(RETRY_AFTER_MAX_SECONDS, max(1, math.ceil(float(state[2] or 1))))
            raise RenderInProgress(headers={"Retry-After": str(retry)})
        await _pause(min(POLL_SECONDS, remaining))


async def _render(
    db: Database, publication: Publication, job_of: Callable[[Publication], Job], key: dict, layout: str, token
) -> bytes:
    try:
        data = await render(job_of(publication))
    except BaseException:  # a 503, a broken pool, a cancelled request: let the next one try
        await asyncio.shield(_one_write(db, RELEASE, kind=key["kind"], scope=key["scope"], token=token))
        raise
    await _one_write(db, STORE, **key, layout=layout, token=token, pdf=data)
    log.info("publication_rendered", kind=publication.kind, scope=publication.scope, pdf_bytes=len(data))
    return data


async def _one_write(db: Database, statement, **params) -> None:
    async with db.transaction() as session:
        await (await session.connection()).execute(statement.bindparams(**params))
