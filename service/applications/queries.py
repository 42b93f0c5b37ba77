"""The read side: the reviewer queue and the public notice board.

Both conclude any notice that has run out before answering (the job does it too, every
30 seconds; the reads make sure nobody ever sees a notice past its end). An application
that fails to conclude is logged with its traceback and fails the job's round; a list
still shows the others (`_conclude_due`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import exists, func
from sqlmodel import col, select

from service.applications.deadlines import is_overdue
from service.applications.models import Application, ApplicationItem
from service.applications.notices import NoticeConclusionFailed, conclude_due_notices
from service.applications.rules import table_actions_for
from service.db import Database
from service.errors import InvalidInput
from service.pagination import Page, decode_cursor, encode_cursor
from service.regions import regions
from service.security import Actor, Role
from service.service_items import CATEGORIES, ServiceItem, items_by_ids
from service.timeutil import utcnow
from service.vendors import Vendor, vendor_by_credit_code, vendors_by_ids
from workflows.entry_review import EntryState


async def _conclude_due(db: Database, now: datetime) -> None:
    """Conclude what is due before listing. A failed conclusion was logged, and the job
    reports its round as failed; one broken application does not take a list down."""
    try:
        await conclude_due_notices(db, now)
    except NoticeConclusionFailed:
        pass


@dataclass(frozen=True)
class QueueRow:
    application: Application
    vendor: Vendor
    item_count: int
    time_in_stage_seconds: int

    @property
    def overdue(self) -> bool:
        return is_overdue(self.application.stage, self.time_in_stage_seconds)


@dataclass(frozen=True)
class Notice:
    application: Application
    vendor: Vendor
    items: list[ServiceItem]

    @property
    def started_at(self) -> datetime:
        """When the notice started: set on entering public notice, kept through objection review."""
        started_at = self.application.notice_started_at
        assert started_at is not None, "a notice row is in public notice or objection review"
        return started_at


def _stage(stage: str) -> str:
    if stage not in set(EntryState):
        raise InvalidInput.field("stage", "unknown_stage", "阶段须为 " + "、".join(EntryState))
    return stage


def _queue_filter(
    query,
    actor: Actor,
    vendor: Vendor | None,
    *,
    stages: Sequence[str] | None,
    region_code: str | None,
    category: int | None,
):
    """The queue's WHERE: the caller's scope, then the filters. `vendor` is the vendor
    account's own vendor (None for the bureau roles)."""
    if actor.role is Role.VENDOR:
        assert vendor is not None, "a vendor account's queue is asked for with its vendor"
        query = query.where(Application.vendor_id == vendor.id)
    else:
        query = query.where(col(Application.submitted_at).is_not(None))
        scope = actor.scope_regions()
        if scope is not None:
            query = query.where(col(Application.region_code).in_(scope))
    if region_code:
        regions().require(region_code, "region")
        query = query.where(col(Application.region_code).in_(regions().descendants(region_code)))
    if stages:
        query = query.where(col(Application.stage).in_(list(stages)))
    if category is not None:
        if category not in CATEGORIES:
            raise InvalidInput.field("category", "unknown_category", "活动类别须为 1–8")
        query = query.where(
            exists(
                select(ApplicationItem.application_id)
                .join(ServiceItem, col(ServiceItem.id) == col(ApplicationItem.service_item_id))
                .where(
                    col(ApplicationItem.application_id) == col(Application.id), ServiceItem.category_code == category
                )
            )
        )
    return query


async def list_applications(
    db: Database,
    actor: Actor,
    *,
    stage: str | None = None,
    stages: Sequence[str] | None = None,
    region_code: str | None = None,
    category: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
    now: datetime | None = None,
    with_total: bool = False,
) -> Page[QueueRow]:
    """Applications in the caller's scope, the longest-waiting in its stage first.

    Reviewers, auditors and admins see submitted applications addressed to their region
    or below; a vendor account sees its own, drafts included. `stages` (several) and
    `category` (an item of that activity category) narrow the list; `with_total` also
    counts every match (the page's 共 N 条)."""
    now = now or utcnow()
    stages = [_stage(s) for s in ([stage] if stage else []) + list(stages or [])]
    await _conclude_due(db, now)
    async with db.transaction() as session:
        vendor = None
        if actor.role is Role.VENDOR:
            vendor = await vendor_by_credit_code(session, actor.vendor_credit_code)
            if vendor is None:
                return Page(items=[], next_cursor=None)
        query = _queue_filter(
            select(Application), actor, vendor, stages=stages, region_code=region_code, category=category
        )
        total = None
        if with_total:
            total = (
                await session.exec(
                    _queue_filter(
                        select(func.count()).select_from(Application),
                        actor,
                        vendor,
                        stages=stages,
                        region_code=region_code,
                        category=category,
                    )
                )
            ).one()
        if cursor:
            entered_at, last_id = decode_cursor(cursor)
            query = query.where(
                (col(Application.stage_entered_at) > entered_at)
                | ((col(Application.stage_entered_at) == entered_at) & (col(Application.id) > last_id))
            )
        query = query.order_by(col(Application.stage_entered_at), col(Application.id)).limit(limit + 1)
        rows = list((await session.exec(query)).all())
        more, rows = len(rows) > limit, rows[:limit]
        vendors = await vendors_by_ids(session, [row.vendor_id for row in rows])
        counts = (
            dict(
                (
                    await session.exec(
                        select(ApplicationItem.application_id, func.count())
                        .where(col(ApplicationItem.application_id).in_([row.id for row in rows]))
                        .group_by(col(ApplicationItem.application_id))
                    )
                ).all()
            )
            if rows
            else {}
        )
    items = [
        QueueRow(
            row,
            vendors[row.vendor_id],
            counts.get(row.id, 0),
            max(0, int((now - row.stage_entered_at).total_seconds())),
        )
        for row in rows
    ]
    next_cursor = encode_cursor(rows[-1].stage_entered_at, rows[-1].id) if more else None
    return Page(items=items, next_cursor=next_cursor, total=total)


async def public_notices(
    db: Database,
    *,
    region_code: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    application_id: UUID | None = None,
    now: datetime | None = None,
) -> Page[Notice]:
    """Applications in public notice (公示), paused ones included, oldest notice first.
    Public: no authentication, and nothing personal is shown. `application_id`: that
    one application's card, or none when it is not (or no longer) in notice."""
    now = now or utcnow()
    await _conclude_due(db, now)
    query = select(Application).where(
        col(Application.stage).in_([EntryState.PUBLIC_NOTICE, EntryState.OBJECTION_REVIEW])
    )
    if application_id is not None:
        query = query.where(col(Application.id) == application_id)
    if region_code:
        regions().require(region_code, "region")
        query = query.where(col(Application.region_code).in_(regions().descendants(region_code)))
    if cursor:
        started_at, last_id = decode_cursor(cursor)
        query = query.where(
            (col(Application.notice_started_at) > started_at)
            | ((col(Application.notice_started_at) == started_at) & (col(Application.id) > last_id))
        )
    query = query.order_by(col(Application.notice_started_at), col(Application.id)).limit(limit + 1)
    async with db.transaction() as session:
        rows = list((await session.exec(query)).all())
        more, rows = len(rows) > limit, rows[:limit]
        vendors = await vendors_by_ids(session, [row.vendor_id for row in rows])
        links = (
            (
                await session.exec(
                    select(ApplicationItem)
                    .where(col(ApplicationItem.application_id).in_([row.id for row in rows]))
                    .order_by(col(ApplicationItem.position))
                )
            ).all()
            if rows
            else []
        )
        found = await items_by_ids(session, [link.service_item_id for link in links])
    by_application: dict[UUID, list[ServiceItem]] = {}
    for link in links:
        by_application.setdefault(link.application_id, []).append(found[link.service_item_id])
    notices = [Notice(row, vendors[row.vendor_id], by_application.get(row.id, [])) for row in rows]
    next_cursor = encode_cursor(notices[-1].started_at, rows[-1].id) if more else None
    return Page(items=notices, next_cursor=next_cursor)


async def public_notices_next_change(db: Database, *, region_code: str | None, now: datetime) -> datetime | None:
    """The first instant after `now` at which `public_notices` may list otherwise with
    nothing written: a notice period ending (the listing concludes it then). `now`
    itself when a notice is already due but not concluded (its conclusion failed), so a
    copy of the board is never kept past it. None: no notice period is running."""
    query = select(func.min(func.greatest(col(Application.notice_ends_at), now))).where(
        col(Application.stage) == EntryState.PUBLIC_NOTICE
    )
    if region_code:
        query = query.where(col(Application.region_code).in_(regions().descendants(region_code)))
    async with db.transaction() as session:
        return (await session.exec(query)).one()


async def count_waiting_for(db: Database, actor: Actor, *, stages: Sequence[str]) -> int:
    """How many applications in `stages`, in the caller's scope, the workflow table gives
    the caller an action on (`table_actions_for`): a to-do count of the files that wait
    for *this* account, not those waiting for another level. One grouped statement."""
    stages = [_stage(s) for s in stages]
    async with db.transaction() as session:
        vendor = None
        if actor.role is Role.VENDOR:
            vendor = await vendor_by_credit_code(session, actor.vendor_credit_code)
            if vendor is None:
                return 0
        keys = (col(Application.workflow), col(Application.stage), col(Application.region_code))
        query = _queue_filter(
            select(*keys, func.count()), actor, vendor, stages=stages, region_code=None, category=None
        )
        groups = (await session.exec(query.group_by(*keys))).all()
    # The vendor's code only tells a vendor account its own files, and a vendor's scope
    # is its own vendor; the bureau roles' tags depend on the region alone.
    code = vendor.credit_code if vendor is not None else ""
    return sum(n for workflow, stage, region, n in groups if table_actions_for(actor, workflow, stage, region, code))
