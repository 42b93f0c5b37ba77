"""The sequencer loop run inside `schoolgate serve`: integrate queued events promptly
and sign a checkpoint when the tree has grown and the last one is old enough.

Every worker runs it; the advisory lock in `log` makes them take turns, so it is
correct with any number of processes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from service.audit.keys import Signer
from service.audit.log import make_checkpoint
from service.db.engine import Database
from service.logging import get_logger

log = get_logger("schoolgate.audit")


async def keep_log_sealed(db: Database, signer: Signer, *, checkpoint_interval: float, poll: float = 2.0) -> None:
    interval = timedelta(seconds=checkpoint_interval)
    while True:
        try:
            await make_checkpoint(db, signer, min_interval=interval)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # keep sealing after a transient database error
            log.error("audit_sequencer_failed", error_type=type(error).__name__)
        await asyncio.sleep(poll)
