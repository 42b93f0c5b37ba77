"""Concluding public notices that have run out: the job's round, also run lazily by every
read that shows a notice (a failure to conclude one application is logged and fails
the round, never the others)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlmodel import col, select

from service.applications.context import _context
from service.applications.effects import _conclude_if_due
from service.applications.models import (
    Application,
)
from service.applications.rules import notice_due_sql
from service.db import Database
from service.logging import get_logger
from service.timeutil import utcnow
from workflows.entry_review import EntryState

log = get_logger("schoolgate.applications")


class NoticeConclusionFailed(Exception):
    """A round of the notice job could not conclude some applications (it concluded
    the others): the round fails, and the job's runner logs it and tries again."""

    def __init__(self, concluded: int, failed: Sequence[UUID]) -> None:
        super().__init__(f"{len(failed)} notice conclusion(s) failed: {', '.join(map(str, failed))}")
        self.concluded = concluded
        self.failed = list(failed)


async def conclude_due_notices(
    db: Database, now: datetime | None = None, *, application_id: UUID | None = None, wait: bool = False
) -> int:
    """Admit every application whose public notice is over with no objection open.

    One transaction per application. The periodic job takes rows with `FOR UPDATE SKIP
    LOCKED`, so several workers share the work without waiting on each other; reads call
    it for the one application they show (waiting for its lock, so what they show is
    final). The stage change takes effect at the notice's end, whenever it is recorded.
    Returns how many were concluded. An application that fails to conclude does not
    hold up the others of the round; the round then raises `NoticeConclusionFailed`
    (for a read, the error itself). `wait`: take every due row, waiting for one another
    transaction is concluding (rechecked once it commits) instead of skipping it — a
    read that answers from the whitelist must see that conclusion.
    """
    now = now or utcnow()
    concluded = 0
    failed: dict[UUID, Exception] = {}
    while True:
        current = None
        try:
            async with db.transaction() as session:
                query = select(Application).where(
                    Application.stage == EntryState.PUBLIC_NOTICE, col(Application.notice_ends_at) <= now
                )
                if application_id is not None:
                    query = query.where(Application.id == application_id).with_for_update()
                else:
                    if failed:
                        query = query.where(col(Application.id).not_in(list(failed)))
                    query = (
                        query.order_by(col(Application.notice_ends_at), col(Application.id))
                        .limit(1)
                        .with_for_update(skip_locked=not wait)
                    )
                application = (await session.exec(query.execution_options(populate_existing=True))).first()
                if application is None:
                    break
                current = application.id
                await _conclude_if_due(session, await _context(session, application), now)
            concluded += 1
        except Exception as error:
            if current is None or application_id is not None:
                raise
            log.error(
                "notice_conclusion_failed", application_id=str(current), error_type=type(error).__name__, exc_info=error
            )
            failed[current] = error
        if application_id is not None:
            break
    if failed:
        raise NoticeConclusionFailed(concluded, list(failed)) from next(iter(failed.values()))
    return concluded


#: Whether any notice is due at $1 (an index probe of ix_applications_stage_notice_ends_at).
ANY_DUE = f"SELECT EXISTS (SELECT 1 FROM applications a WHERE {notice_due_sql('a', '$1')})"


async def settle_due_notices(db: Database, now: datetime | None = None) -> None:
    """Before a read that answers from the whitelist (a lookup, the public whitelist):
    conclude every notice over by `now`, so that the answer never lags the notice's end
    (the job runs only every 30 s). One cheap probe when nothing is due. A failed
    conclusion is logged and left to the job (its round fails and it tries again);
    the read answers from what is stored."""
    now = now or utcnow()
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        if not await conn.fetchval(ANY_DUE, now):
            return
    try:
        await conclude_due_notices(db, now, wait=True)
    except NoticeConclusionFailed:
        pass
