"""Telling a database outage from a bug, and logging an outage once, not per request.

`is_unavailable(error)` says whether an exception means "PostgreSQL cannot be reached or
cannot answer now" (refused, restarting, shut down, too many connections, a statement or
connection past its time bound, the pool out of connections) — the edge answers those with
503 and `Retry-After` instead of 500 and a traceback.

`OutageWatch` keeps one process's view of the database: the first failure logs
`database_unavailable`, a probe (its own connection, not the pools) then checks every
`probe_every` seconds, logs `database_still_unavailable` every `log_every` seconds, and
`database_available` as soon as the database answers again. Requests never wait for it:
each one tries the database itself, so the first request after recovery already succeeds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import exc as sa_exc

from service.logging import get_logger

log = get_logger("schoolgate.db")

#: SQLSTATEs that mean "not now" rather than "wrong": class 08 (connection exception),
#: shutdown and start-up (57P01–57P03), a statement timeout or cancel (57014), and the
#: server's connection limit (53300).
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57014", "53300"})
DRIVER_MODULES = ("asyncpg", "sqlalchemy")

DEFAULT_PROBE_SECONDS = 1.0
DEFAULT_LOG_EVERY_SECONDS = 30.0


def _chain(error: BaseException):
    """The error, what caused it, and SQLAlchemy's wrapped driver error, each once."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([current.__cause__, current.__context__, getattr(current, "orig", None)])


def _raised_in_driver(error: BaseException) -> bool:
    """An OSError or timeout counts only when the driver raised it, not (say) file storage."""
    frame = error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_globals.get("__name__", "").startswith(DRIVER_MODULES):
            return True
        frame = frame.tb_next
    return False


def _means_unavailable(error: BaseException) -> bool:
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES
    if isinstance(error, sa_exc.TimeoutError):  # the pool had no connection to give in time
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (OSError, TimeoutError)) and _raised_in_driver(error)


def is_unavailable(error: BaseException) -> bool:
    """True when `error` (or anything in its chain) says the database cannot answer now."""
    return any(_means_unavailable(link) for link in _chain(error))


class OutageWatch:
    """One line per change of the database's state, whatever the number of requests."""

    def __init__(self, probe: Callable[[], Awaitable[None]], *, probe_every: float = DEFAULT_PROBE_SECONDS,
                 log_every: float = DEFAULT_LOG_EVERY_SECONDS) -> None:
        self._probe = probe
        self._probe_every = probe_every
        self._log_every = log_every
        self._task: asyncio.Task | None = None
        self.down_since: float | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, error: BaseException) -> None:
        """A caller met an outage. The first one starts the watch; the others add nothing."""
        if self.down:
            return
        self.down_since = time.monotonic()
        log.warning("database_unavailable", error_type=type(error).__name__)
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        last_line = self.down_since
        while True:
            await asyncio.sleep(self._probe_every)
            try:
                await self._probe()
            except Exception as error:  # still down; the probe's failure is the expected case
                now = time.monotonic()
                if now - last_line >= self._log_every:
                    last_line = now
                    log.warning("database_still_unavailable", error_type=type(error).__name__,
                                down_seconds=round(now - self.down_since, 1))
                continue
            log.info("database_available", down_seconds=round(time.monotonic() - self.down_since, 1))
            self.down_since = None
            self._task = None
            return

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
