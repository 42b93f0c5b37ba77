"""The standing-change outbox: the one call other domains make.

A domain that changes the standing of service items or people calls
`enqueue_standing_change` inside its own transaction, beside its audit event. If that
transaction rolls back, no webhook is ever sent; if it commits, the dispatcher will
deliver (at least once). The call only appends one row: working out which schools are
affected happens later, in the dispatcher, so a revocation stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

CAUSE_LIMIT = 64

_INSERT = text(
    "INSERT INTO standing_changes (item_ids, person_ids, cause, created_at) "
    "VALUES (CAST(:items AS uuid[]), CAST(:people AS uuid[]), :cause, now())"
)


async def enqueue_standing_change_on(
    connection, *, item_ids: Iterable[UUID] = (), person_ids: Iterable[UUID | str] = (), cause: str = "unspecified"
) -> None:
    """The same, on a raw asyncpg connection inside its transaction (bulk paths, which
    may hold ids as text)."""
    items = sorted({str(i) for i in item_ids})
    people = sorted({str(p) for p in person_ids})
    if items or people:
        await connection.execute(
            "INSERT INTO standing_changes (item_ids, person_ids, cause, created_at) "
            "VALUES ($1::uuid[], $2::uuid[], $3, now())",
            items,
            people,
            cause[:CAUSE_LIMIT],
        )


async def enqueue_standing_change(
    session: AsyncSession, *, item_ids: Iterable[UUID] = (), person_ids: Iterable[UUID] = (), cause: str = "unspecified"
) -> None:
    """Record, in the caller's transaction, that these service items or people changed
    standing (`cause`: the event name, e.g. `whitelist:entry:revoke`)."""
    items = sorted({str(i) for i in item_ids})
    people = sorted({str(p) for p in person_ids})
    if not items and not people:
        return
    await (await session.connection()).execute(
        _INSERT, {"items": items, "people": people, "cause": cause[:CAUSE_LIMIT]}
    )
