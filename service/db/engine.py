"""The engine, the session factory and the one way to open a transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from service.config import Settings
from service.db.outage import DEFAULT_LOG_EVERY_SECONDS, OutageWatch


def asyncpg_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (as pgserver and operators write them)."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("SchoolGate needs a PostgreSQL URL (postgresql://...)")


#: Time the client waits past the server's own statement timeout before giving up on a
#: statement: the server normally cancels first; a frozen server cannot.
CLIENT_GRACE_SECONDS = 1.0
PROBE_TIMEOUT_SECONDS = 2.0


def connect_arguments(connect_timeout: float | None, statement_timeout: float | None) -> dict[str, Any]:
    """asyncpg's connect arguments that bound an outage (None: no bound).

    The server enforces `statement_timeout`; the client bounds each call too
    (`command_timeout`), because a frozen or partitioned server enforces nothing.
    """
    arguments: dict[str, Any] = {}
    if connect_timeout is not None:
        arguments["timeout"] = connect_timeout
    if statement_timeout is not None:
        arguments["server_settings"] = {"statement_timeout": str(max(1, round(statement_timeout * 1000)))}
        arguments["command_timeout"] = statement_timeout + CLIENT_GRACE_SECONDS
    return arguments


async def _no_reset(connection: asyncpg.Connection) -> None:
    return None


class BoundedPool(asyncpg.Pool):
    """asyncpg's pool, with a bound on handing a connection back.

    A statement the client gave up on (a frozen server) leaves asyncpg sending a cancel
    request, and a release waits for it: as long again as the statement itself. With a
    bound, the release gives up, drops that connection and the caller hears at once.
    """

    def __init__(self, *args, release_timeout: float | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._release_timeout = release_timeout

    async def release(self, connection, *, timeout=None):
        return await super().release(connection, timeout=self._release_timeout if timeout is None else timeout)


def _drop_timed_out_connections(context) -> None:
    """A statement past the client's bound means the server is frozen or cut off: drop
    that connection (SQLAlchemy then neither rolls it back nor pools it again), rather
    than wait once more for a rollback that cannot come."""
    if isinstance(context.original_exception, TimeoutError):
        context.is_disconnect = True
        if context.connection is not None:
            # SQLAlchemy's own invalidation first tries a graceful close for 2 s; a frozen
            # server would use all of it. Dropped here, the close finds nothing to wait for.
            context.connection.connection.driver_connection.terminate()


class Database:
    """Owns the engine. Services open transactions through `transaction()` only.

    Hot paths (the lookups) use `raw_pool()`: plain asyncpg connections in autocommit,
    without the ORM. Its connections are never left with session state, open
    transactions, LISTENs or locks, so the pool skips asyncpg's reset query on release
    (STACK_NOTES: 10–16 % on a hot read path).
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        raw_pool_size: int = 10,
        connect_timeout: float | None = None,
        statement_timeout: float | None = None,
        outage_log_interval: float = DEFAULT_LOG_EVERY_SECONDS,
    ) -> None:
        self.url = asyncpg_url(url)
        self._connect_args = connect_arguments(connect_timeout, statement_timeout)
        # hide_parameters: SQLAlchemy would otherwise write every bound value (names, ID
        # numbers, phones) into the text of any database error, and so into the log.
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            hide_parameters=True,
            connect_args=self._connect_args,
            pool_timeout=connect_timeout or 30.0,
        )
        event.listen(self.engine.sync_engine, "handle_error", _drop_timed_out_connections)
        self._release_timeout = connect_timeout
        self._probe_timeout = connect_timeout or PROBE_TIMEOUT_SECONDS
        self.outage = OutageWatch(self.probe, log_every=outage_log_interval)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._raw_pool: asyncpg.Pool | None = None
        self._raw_pool_size = raw_pool_size
        self._raw_lock = asyncio.Lock()
        # Per-process helpers of the hot paths that belong to this database (token and
        # lookup caches, the receipt group writer): kept here so that two databases in
        # one process (tests) never share them. Each is exact through PostgreSQL.
        self.local: dict[str, Any] = {}

    @classmethod
    def configured(cls, url: str, settings: Settings) -> Database:
        """The service's database on `url`, with the configured outage bounds."""
        return cls(
            url,
            connect_timeout=settings.db_connect_timeout,
            statement_timeout=settings.db_statement_timeout,
            outage_log_interval=settings.db_outage_log_interval,
        )

    @property
    def dsn(self) -> str:
        """The same database as a plain libpq URL (for asyncpg)."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def raw_pool(self) -> asyncpg.Pool:
        """The asyncpg pool of the hot paths, created on first use."""
        if self._raw_pool is None:
            async with self._raw_lock:
                if self._raw_pool is None:
                    self._raw_pool = await BoundedPool(
                        self.dsn,
                        min_size=1,
                        max_size=self._raw_pool_size,
                        max_queries=50_000,
                        max_inactive_connection_lifetime=300.0,
                        reset=_no_reset,
                        loop=None,
                        connection_class=asyncpg.Connection,
                        record_class=asyncpg.Record,
                        release_timeout=self._release_timeout,
                        **self._connect_args,
                    )
        return self._raw_pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commit when the block ends normally, roll back when it raises."""
        async with self._sessions() as session, session.begin():
            yield session

    async def probe(self) -> None:
        """One round trip on a connection of its own (not the pools'), within a bound:
        raises when the database cannot answer."""
        connection = await asyncpg.connect(self.dsn, timeout=self._probe_timeout)
        try:
            await connection.fetchval("SELECT 1", timeout=self._probe_timeout)
        finally:
            connection.terminate()

    async def dispose(self) -> None:
        await self.outage.close()
        if self._raw_pool is not None:
            await self._raw_pool.close()
            self._raw_pool = None
        await self.engine.dispose()
