"""The lookup housekeeping run by every worker: forget old rate-limit windows."""

from __future__ import annotations

import asyncio

from service.db.engine import Database
from service.logging import get_logger
from service.lookup.ratelimit import purge_windows

log = get_logger("schoolgate.lookup")
DEFAULT_INTERVAL = 60.0


async def run_forever(db: Database, interval: float = DEFAULT_INTERVAL) -> None:
    while True:
        try:
            await purge_windows(db)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database may be briefly away; keep going
            log.error("rate_window_purge_failed", error_type=type(error).__name__)
        await asyncio.sleep(interval)
