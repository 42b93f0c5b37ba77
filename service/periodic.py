"""The one periodic-job runner: every background duty of a worker (the audit
sequencer, the notice job, the lookup housekeeping) is a step run here, forever.

A failing step is logged with its traceback (rendered by the one logging setup, which
withholds whatever a statement's parameters could be in) and the runner backs off — twice the interval after each consecutive
failure, at most `max_backoff` — then tries again; the first success returns to the
interval. Cancelling the task stops it (the app's lifespan does so at shutdown); so does a
step that reports it is done, when the caller asks for that (the outage probe of
service/db/outage.py ends when the database answers again)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from service.logging import get_logger

MAX_BACKOFF = 60.0


def delay(interval: float, failures: int, max_backoff: float = MAX_BACKOFF) -> float:
    """Seconds to wait before the next round, after `failures` consecutive failures."""
    if failures == 0:
        return interval
    return min(interval * 2**failures, max(interval, max_backoff))


async def run_periodic(
    name: str,
    step: Callable[[], Awaitable[Any]],
    interval: float,
    *,
    logger: str = "schoolgate.jobs",
    max_backoff: float = MAX_BACKOFF,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    wait_first: bool = False,
    until_done: bool = False,
) -> None:
    """Run `step` every `interval` seconds until cancelled; a failure is logged as
    `<name>_failed` (an event name; ids only, never personal data). `wait_first`: the
    first round comes after one interval, not at once. `until_done`: a step that returns
    True ends the loop."""
    log = get_logger(logger)
    failures = 0
    if wait_first:
        await sleep(interval)
    while True:
        try:
            if await step() is True and until_done:
                return
            failures = 0
        except Exception as error:  # the database may be briefly away; keep going, slower
            failures += 1
            # A structlog event name, not a format string (hence the noqa).
            log.error(
                f"{name}_failed",  # noqa: G004
                error_type=type(error).__name__,
                failures=failures,
                retry_in=delay(interval, failures, max_backoff),
                exc_info=error,
            )
        await sleep(delay(interval, failures, max_backoff))
