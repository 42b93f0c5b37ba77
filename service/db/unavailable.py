"""Telling a database outage from a bug, by the exception alone.

`is_unavailable(error)` says whether an exception means "PostgreSQL cannot be reached or
cannot answer now" (refused, restarting, shut down, too many connections, a statement or
connection past its time bound, the pool out of connections). The edge answers those with
503 and `Retry-After` instead of 500, and the log keeps their type without a traceback.
Depends on nothing of ours, so that the logging setup can use it.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import exc as sa_exc

#: SQLSTATEs that mean "not now" rather than "wrong": class 08 (connection exception),
#: shutdown and start-up (57P01–57P03), a statement timeout or cancel (57014), and the
#: server's connection limit (53300).
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57014", "53300"})
DRIVER_MODULES = ("asyncpg", "sqlalchemy")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what caused it, and SQLAlchemy's wrapped driver error, each once."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
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
