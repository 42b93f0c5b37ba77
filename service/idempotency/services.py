"""Run a create or transition at most once per (account, Idempotency-Key), or per
(public scope, Idempotency-Key) for a POST that needs no account.

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
from typing import Any, Generic, TypeVar, cast
from uuid import UUID

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import Database
from service.errors import InvalidInput
from service.idempotency.models import IdempotencyRecord, PublicIdempotencyRecord
from service.timeutil import utcnow

T = TypeVar("T")
Record = IdempotencyRecord | PublicIdempotencyRecord
RETENTION = timedelta(days=7)
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces, at most 200
# Anonymous callers share a scope, so their keys must be hard to guess or collide on (a UUID is 36).
PUBLIC_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{16,200}$")


@dataclass(frozen=True)
class IdempotencyKey:
    """Whose key: an account's, or (`account_id` None) a public scope's."""

    account_id: UUID | None
    key: str
    fingerprint: str
    scope: str | None = None

    @classmethod
    def public(cls, scope: str, key: str, fingerprint: str) -> IdempotencyKey:
        return cls(account_id=None, key=key, fingerprint=fingerprint, scope=scope)

    def record(self) -> tuple[type[IdempotencyRecord] | type[PublicIdempotencyRecord], dict[str, Any]]:
        """The table that remembers this key, and the key's primary-key columns there."""
        if self.account_id is not None:
            return IdempotencyRecord, {"account_id": self.account_id, "key": self.key}
        assert self.scope, "a key without an account needs a public scope"
        return PublicIdempotencyRecord, {"scope": self.scope, "key": self.key}


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


def check_key(key: str, *, public: bool = False) -> str:
    """A well-formed key; `public` (no account) asks for at least 16 characters."""
    if public and not PUBLIC_KEY_PATTERN.match(key):
        raise InvalidInput.field(
            "Idempotency-Key",
            "invalid_idempotency_key",
            "无需登录的接口的 Idempotency-Key 须为 16 至 200 个可见 ASCII 字符（建议使用随机 UUID）",
        )
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
    model, identity = key.record()
    inserted = await session.exec(
        insert(model)
        .values(**identity, fingerprint=key.fingerprint, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=list(identity))
        .returning(col(model.key))
    )
    if inserted.first() is not None:
        return None
    # One of the two tables, by the key's kind (mypy sees only their common base here).
    stored = cast(Record, (await session.exec(select(model).filter_by(**identity))).one())
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
            model, identity = key.record()
            record: Record | None = await session.get(model, tuple(identity.values()))
            assert record is not None  # claimed in this same transaction by `_claim`
            record.status_code, record.response_body = idempotency.status_code, body
            session.add(record)
        return Reply(value=value, status_code=idempotency.status_code, body=body)


async def purge_expired(db: Database, now: datetime | None = None) -> int:
    """Forget keys older than RETENTION (a replay after that runs the request again)."""
    cutoff = (now or utcnow()) - RETENTION
    purged = 0
    async with db.transaction() as session:
        for model in (IdempotencyRecord, PublicIdempotencyRecord):
            result = await session.exec(delete(model).where(col(model.created_at) < cutoff))
            purged += result.rowcount or 0
    return purged
