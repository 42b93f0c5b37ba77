"""Logging a database outage once, not per request.

Which exceptions are an outage: `service/db/unavailable.py`.

`OutageWatch` keeps one process's view of the database: the first failure logs
`database_unavailable`, a probe (its own connection, not the pools) then checks every
`probe_every` seconds, logs `database_still_unavailable` every `log_every` seconds, and
`database_available` as soon as the database answers again. Requests never wait for it:
each one tries the database itself, so the first request after recovery already succeeds.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable

from service.logging import get_logger
from service.periodic import run_periodic

log = get_logger("schoolgate.db")

DEFAULT_PROBE_SECONDS = 1.0
DEFAULT_LOG_EVERY_SECONDS = 30.0


class OutageWatch:
    """One line per change of the database's state, whatever the number of requests."""

    def __init__(
        self,
        probe: Callable[[], Awaitable[None]],
        *,
        probe_every: float = DEFAULT_PROBE_SECONDS,
        log_every: float = DEFAULT_LOG_EVERY_SECONDS,
    ) -> None:
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
        # A context of its own: the watch outlives the request that started it, and its
        # lines must not carry that request's id.
        self._task = asyncio.get_running_loop().create_task(self._watch(), context=contextvars.Context())

    async def _watch(self) -> None:
        """Probe every `probe_every` seconds (the first after one interval) until the
        database answers; the probe's failure is the expected case, not a job failure."""
        since = self.down_since
        if since is None:  # only `failed` starts the watch, once it has set the start
            return
        last_line = since

        async def probe() -> bool:
            nonlocal last_line
            try:
                await self._probe()
            except Exception as error:  # noqa: BLE001  still down; the probe's failure is the expected case
                now = time.monotonic()
                if now - last_line >= self._log_every:
                    last_line = now
                    log.warning(
                        "database_still_unavailable",
                        error_type=type(error).__name__,
                        down_seconds=round(now - since, 1),
                    )
                return False
            log.info("database_available", down_seconds=round(time.monotonic() - since, 1))
            self.down_since = None
            self._task = None
            return True

        await run_periodic(
            "database_probe", probe, self._probe_every, logger="schoolgate.db", wait_first=True, until_done=True
        )

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
