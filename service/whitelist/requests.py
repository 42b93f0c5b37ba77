"""Four-eyes requests on whitelist entries: opened by one reviewer (revoke, reinstate) or
by an upheld complaint (suspend), read by those in scope. A second reviewer decides
them (`decisions`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import record_event
from service.db import Database
from service.errors import Conflict, InvalidInput, NotFound
from service.four_eyes import requester_id
from service.security import Actor, Role
from service.timeutil import utcnow
from service.whitelist import state as vendor_state
from service.whitelist.actions import ELIGIBLE, CheckedAction
from service.whitelist.changes import ActionResult, EntryChange
from service.whitelist.models import WhitelistActionRequest, WhitelistEntry
from service.whitelist.targets import common_region, lock_entries, pending_request_on, statuses_now


async def open_request(
    session: AsyncSession,
    actor: Actor,
    data: CheckedAction,
    eligible: list[WhitelistEntry],
    statuses: dict[UUID, str],
    now: datetime,
) -> ActionResult:
    """A revoke or reinstate of the eligible entries, pending a second reviewer; 409 when
    one of them already has a pending request."""
    ids = [e.id for e in eligible]
    clash = await pending_request_on(session, ids)
    if clash is not None:
        raise Conflict(
            "这些条目已有待确认的撤销或恢复申请",
            code="request_pending",
            details=[
                {
                    "field": "entry_ids",
                    "code": "request_pending",
                    "message": "已有待确认的申请",
                    "request_id": str(clash),
                }
            ],
        )
    request = WhitelistActionRequest(
        action=data.action,
        status="pending",
        vendor_id=eligible[0].vendor_id,
        entry_ids=ids,
        region_code=common_region([e.region_code for e in eligible]),
        reason=data.reason,
        ban_until=data.ban_until,
        requested_by=requester_id(actor),
        requested_at=now,
    )
    session.add(request)
    await session.flush()
    await record_event(
        session,
        actor,
        f"whitelist:request:{data.action}",
        "whitelist_action_request",
        request.id,
        region_code=request.region_code,
        reason=data.reason,
        changes={
            "status": {"before": None, "after": "pending"},
            "entry_ids": {"before": None, "after": ids},
            **({"ban_until": {"before": None, "after": data.ban_until}} if data.ban_until else {}),
        },
    )
    return ActionResult(
        data.action, "pending", request, [EntryChange(e, statuses[e.id], statuses[e.id]) for e in eligible]
    )


async def request_suspension(
    session: AsyncSession,
    actor: Actor,
    *,
    vendor_id: UUID,
    region_code: str,
    reason: str,
    complaint_id: UUID,
    service_item_id: UUID | None = None,
    now: datetime | None = None,
) -> WhitelistActionRequest | None:
    """Open, in the caller's transaction, a pending request to suspend the entries that
    cover `region_code` (it or a region containing it) of one item, or of the whole
    vendor: an upheld serious complaint's (service/complaints). It takes effect only when
    a second reviewer in scope confirms it (`confirm_request`, four eyes). None when no
    entry can be suspended now or a request on them is already pending."""
    now = now or utcnow()
    query = select(WhitelistEntry.id).where(
        WhitelistEntry.vendor_id == vendor_id,
        col(WhitelistEntry.region_code).in_(vendor_state.region_chain(region_code)),
        WhitelistEntry.status != "superseded",
    )
    if service_item_id is not None:
        query = query.where(WhitelistEntry.service_item_id == service_item_id)
    entries = await lock_entries(session, (await session.exec(query)).all())
    if not entries:
        return None
    statuses = (await statuses_now(session, entries, now)).statuses
    ids = [e.id for e in entries if statuses[e.id] in ELIGIBLE["suspend"]]
    if not ids or await pending_request_on(session, ids) is not None:
        return None
    request = WhitelistActionRequest(
        action="suspend",
        status="pending",
        vendor_id=vendor_id,
        entry_ids=ids,
        region_code=common_region([e.region_code for e in entries if e.id in ids]),
        reason=reason,
        requested_by=requester_id(actor),
        requested_at=now,
        complaint_id=complaint_id,
    )
    session.add(request)
    await session.flush()
    await record_event(
        session,
        actor,
        "whitelist:request:suspend",
        "whitelist_action_request",
        request.id,
        region_code=request.region_code,
        reason=reason,
        changes={
            "status": {"before": None, "after": "pending"},
            "entry_ids": {"before": None, "after": ids},
            "complaint_id": {"before": None, "after": complaint_id},
        },
    )
    return request


def _request_visible(actor: Actor, request: WhitelistActionRequest) -> bool:
    return actor.role in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN) and actor.covers_region(request.region_code)


async def load_request(session: AsyncSession, actor: Actor, request_id: UUID, *, lock: bool) -> WhitelistActionRequest:
    """The request, if the actor may see it (404 as a missing one otherwise)."""
    query = select(WhitelistActionRequest).where(WhitelistActionRequest.id == request_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    request = (await session.exec(query)).first()
    if request is None or not _request_visible(actor, request):
        raise NotFound("未找到该申请", code="request_not_found")
    return request


async def list_requests(db: Database, actor: Actor, status: str | None = "pending") -> list[WhitelistActionRequest]:
    if status is not None and status not in ("pending", "confirmed", "declined"):
        raise InvalidInput.field("status", "invalid_status", "状态须为 pending、confirmed 或 declined")
    scope = actor.scope_regions()
    async with db.transaction() as session:
        query = select(WhitelistActionRequest).order_by(
            col(WhitelistActionRequest.requested_at), col(WhitelistActionRequest.id)
        )
        if status is not None:
            query = query.where(WhitelistActionRequest.status == status)
        if scope is not None:
            query = query.where(col(WhitelistActionRequest.region_code).in_(scope))
        return list((await session.exec(query.limit(500))).all())


async def get_request(db: Database, actor: Actor, request_id: UUID) -> WhitelistActionRequest:
    async with db.transaction() as session:
        return await load_request(session, actor, request_id, lock=False)
