"""The notice job: run by every `schoolgate serve` worker from the app's lifespan.

Every `interval` seconds it concludes the public notices that have run out (and forgets
expired idempotency keys). Several workers may run it at once: each application is
taken with `FOR UPDATE SKIP LOCKED`, so no application is concluded twice and no worker
waits for another. Reads conclude what they show as well, so correctness never waits
for the job; the job makes sure admission happens even when nobody looks.
"""

from __future__ import annotations

from datetime import datetime

from service.applications.notices import NoticeConclusionFailed, conclude_due_notices
from service.db import Database
from service.idempotency import purge_expired
from service.logging import get_logger
from service.periodic import run_periodic

log = get_logger("schoolgate.jobs")
DEFAULT_INTERVAL = 30.0


async def run_once(db: Database, now: datetime | None = None) -> int:
    """One round; raises `NoticeConclusionFailed` when an application could not be
    concluded (the old idempotency keys are forgotten all the same)."""
    concluded = 0
    try:
        concluded = await conclude_due_notices(db, now)
    except NoticeConclusionFailed as failure:
        concluded = failure.concluded
        raise
    finally:
        await purge_expired(db, now)
        if concluded:
            log.info("notices_concluded", count=concluded)
    return concluded


async def run_forever(db: Database, interval: float = DEFAULT_INTERVAL) -> None:
    """Until cancelled; a failing round is logged and a later one tries again."""
    await run_periodic("notice_job", lambda: run_once(db), interval)
