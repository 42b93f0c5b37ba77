"""Running a hand-written SQL statement in an ORM session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Result, TextClause
from sqlmodel.ext.asyncio.session import AsyncSession


async def run_sql(session: AsyncSession, statement: TextClause) -> Result[*tuple[Any, ...]]:
    """Run a `text()` statement in the session's transaction. SQLModel types `exec()` for
    select, update and delete only, and its `execute()` warns that it is deprecated; a
    text statement runs through `exec()` all the same, so the one ignore lives here."""
    return await session.exec(statement)  # type: ignore[call-overload]


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, inside its transaction: for the bulk
    reads that pass one array parameter and read plain rows (no ORM objects). Pending
    ORM writes are flushed first, so a read after a write in the same transaction sees it."""
    await session.flush()
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection
