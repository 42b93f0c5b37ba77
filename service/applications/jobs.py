"""The notice job: run by every `schoolgate serve` worker from the app's lifespan.

Every `interval` seconds it concludes the public notices that have run out (and forgets
expired idempotency keys). Several workers may run it at once: each application is
taken with `FOR UPDATE SKIP LOCKED`, so no application is concluded twice and no worker
waits for another. Reads conclude what they show as well, so correctness never waits
for the job; the job makes sure admission happens even when nobody looks.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from service.applications.services import conclude_due_notices
from service.db.engine import Database
from service.idempotency.services import purge_expired
from service.logging import get_logger

log = get_logger("schoolgate.jobs")
DEFAULT_INTERVAL = 30.0


async def run_once(db: Database, now: datetime | None = None) -> int:
    concluded = await conclude_due_notices(db, now)
    if concluded:
        log.info("notices_concluded", count=concluded)
    await purge_expired(db, now)
    return concluded


async def run_forever(db: Database, interval: float = DEFAULT_INTERVAL) -> None:
    """Until cancelled; a failing round is logged and the next one tries again."""
    while True:
        try:
            await run_once(db)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database may be briefly away; keep going
            log.error("notice_job_failed", error_type=type(error).__name__, exc_info=error)
        await asyncio.sleep(interval)
