"""Run a create or transition at most once per (account, Idempotency-Key).

`run_once(db, idempotency, work)` opens the transaction, claims the key in it, runs
`work(session)`, encodes the answer and stores it with the key — all in one commit:

- a replay (same key, same request fingerprint) gets the stored status and body back,
  and nothing runs;
- the same key with a different request → 422 ``idempotency_key_reused``;
- two requests with the same key at once: the second waits on the first's key row
  (unique index) and then replays its answer;
- a request that fails (any 4xx/5xx) rolls back, key included: it changed nothing, and
  the key may be used again.

Nothing is kept in process memory; keys live in PostgreSQL for `RETENTION` and are
purged by the periodic job.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar
from uuid import UUID

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import Database
from service.errors import InvalidInput
from service.idempotency.models import IdempotencyRecord
from service.timeutil import utcnow

T = TypeVar("T")
RETENTION = timedelta(days=7)
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces, at most 200


@dataclass(frozen=True)
class IdempotencyKey:
    account_id: UUID
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Idempotency:
    """How to answer once: the key (None when the client sent none), how to encode the
    result into the response body, and the success status."""

    key: IdempotencyKey | None
    encode: Callable[[Any], bytes]
    status_code: int = 200


@dataclass(frozen=True)
class Reply(Generic[T]):
    """`value` is the work's result (None on a replay); `body` the encoded answer
    (None when no Idempotency was given, e.g. from the command line or tests)."""

    value: T | None
    status_code: int | None = None
    body: bytes | None = None
    replayed: bool = False


def check_key(key: str) -> str:
    if not KEY_PATTERN.match(key):
        raise InvalidInput.field(
            "Idempotency-Key", "invalid_idempotency_key", "Idempotency-Key 须为 1 至 200 个可见 ASCII 字符"
        )
    return key


def fingerprint(method: str, path: str, payload: Any, preconditions: dict[str, str | None] | None = None) -> str:
    """A stable hash of what was asked: same request → same fingerprint, whatever the
    JSON key order or spacing."""
    document = {"method": method.upper(), "path": path, "payload": payload, "preconditions": preconditions or {}}
    raw = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


async def _claim(session: AsyncSession, key: IdempotencyKey) -> Reply[Any] | None:
    """Insert the key row; if it already exists (committed), return its stored answer."""
    inserted = await session.exec(
        insert(IdempotencyRecord)
        .values(account_id=key.account_id, key=key.key, fingerprint=key.fingerprint, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["account_id", "key"])
        .returning(col(IdempotencyRecord.key))
    )
    if inserted.first() is not None:
        return None
    stored = (
        await session.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.account_id == key.account_id, IdempotencyRecord.key == key.key
            )
        )
    ).one()
    if stored.fingerprint != key.fingerprint:
        raise InvalidInput(
            "该 Idempotency-Key 已用于另一个不同的请求，请为新请求使用新的键",
            code="idempotency_key_reused",
            details=[
                {
                    "field": "Idempotency-Key",
                    "code": "idempotency_key_reused",
                    "message": "同一个键只能用于完全相同的请求",
                }
            ],
        )
    return Reply(value=None, status_code=stored.status_code, body=stored.response_body, replayed=True)


async def run_once(
    db: Database,
    idempotency: Idempotency | None,
    work: Callable[[AsyncSession], Awaitable[T]],
) -> Reply[T]:
    """Run `work` in one transaction, at most once per idempotency key."""
    async with db.transaction() as session:
        key = idempotency.key if idempotency else None
        if key is not None:
            replay = await _claim(session, key)
            if replay is not None:
                return replay
        value = await work(session)
        if idempotency is None:
            return Reply(value=value)
        body = idempotency.encode(value)
        if key is not None:
            record = await session.get(IdempotencyRecord, (key.account_id, key.key))
            assert record is not None  # claimed in this same transaction by `_claim`
            record.status_code, record.response_body = idempotency.status_code, body
            session.add(record)
        return Reply(value=value, status_code=idempotency.status_code, body=body)


async def purge_expired(db: Database, now: datetime | None = None) -> int:
    """Forget keys older than RETENTION (a replay after that runs the request again)."""
    cutoff = (now or utcnow()) - RETENTION
    async with db.transaction() as session:
        result = await session.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff))
        return result.rowcount or 0
