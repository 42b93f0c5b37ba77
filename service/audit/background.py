"""The sequencer loop run inside `schoolgate serve`: integrate queued events promptly
and sign a checkpoint when the tree has grown and the last one is old enough.

Every worker runs it; the advisory lock in `log` makes them take turns, so it is
correct with any number of processes."""

from __future__ import annotations

from datetime import timedelta

from service.audit.keys import Signer
from service.audit.log import make_checkpoint
from service.db import Database
from service.periodic import run_periodic


async def keep_log_sealed(db: Database, signer: Signer, *, checkpoint_interval: float, poll: float = 2.0) -> None:
    interval = timedelta(seconds=checkpoint_interval)
    await run_periodic(
        "audit_sequencer", lambda: make_checkpoint(db, signer, min_interval=interval), poll, logger="schoolgate.audit"
    )
