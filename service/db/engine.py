"""The engine, the session factory and the one way to open a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def asyncpg_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (as pgserver and operators write them)."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    raise ValueError("SchoolGate needs a PostgreSQL URL (postgresql://...)")


class Database:
    """Owns the engine. Services open transactions through `transaction()` only."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = asyncpg_url(url)
        self.engine: AsyncEngine = create_async_engine(self.url, pool_size=pool_size, max_overflow=pool_size)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commit when the block ends normally, roll back when it raises."""
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
