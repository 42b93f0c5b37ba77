"""The engine, the session factory and the one way to open a transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def asyncpg_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (as pgserver and operators write them)."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    raise ValueError("SchoolGate needs a PostgreSQL URL (postgresql://...)")


async def _no_reset(connection: asyncpg.Connection) -> None:
    return None


class Database:
    """Owns the engine. Services open transactions through `transaction()` only.

    Hot paths (the lookups) use `raw_pool()`: plain asyncpg connections in autocommit,
    without the ORM. Its connections are never left with session state, open
    transactions, LISTENs or locks, so the pool skips asyncpg's reset query on release
    (STACK_NOTES: 10–16 % on a hot read path).
    """

    def __init__(self, url: str, *, pool_size: int = 10, raw_pool_size: int = 10) -> None:
        self.url = asyncpg_url(url)
        self.engine: AsyncEngine = create_async_engine(self.url, pool_size=pool_size, max_overflow=pool_size)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._raw_pool: asyncpg.Pool | None = None
        self._raw_pool_size = raw_pool_size
        self._raw_lock = asyncio.Lock()
        # Per-process helpers of the hot paths that belong to this database (token and
        # lookup caches, the receipt group writer): kept here so that two databases in
        # one process (tests) never share them. Each is exact through PostgreSQL.
        self.local: dict[str, Any] = {}

    @property
    def dsn(self) -> str:
        """The same database as a plain libpq URL (for asyncpg)."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def raw_pool(self) -> asyncpg.Pool:
        """The asyncpg pool of the hot paths, created on first use."""
        if self._raw_pool is None:
            async with self._raw_lock:
                if self._raw_pool is None:
                    self._raw_pool = await asyncpg.create_pool(
                        self.dsn, min_size=1, max_size=self._raw_pool_size, reset=_no_reset)
        return self._raw_pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commit when the block ends normally, roll back when it raises."""
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        if self._raw_pool is not None:
            await self._raw_pool.close()
            self._raw_pool = None
        await self.engine.dispose()
