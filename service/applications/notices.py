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


async def conclude_due_notices(db: Database, now: datetime | None = None, *, application_id: UUID | None = None) -> int:
    """Admit every application whose public notice is over with no objection open.

    One transaction per application. The periodic job takes rows with `FOR UPDATE SKIP
    LOCKED`, so several workers share the work without waiting on each other; reads call
    it for the one application they show (waiting for its lock, so what they show is
    final). The stage change takes effect at the notice's end, whenever it is recorded.
    Returns how many were concluded. An application that fails to conclude does not
    hold up the others of the round; the round then raises `NoticeConclusionFailed`
    (for a read, the error itself).
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
                        .with_for_update(skip_locked=True)
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
