"""The whitelist's dynamic adjustment by reviewers and the requests other domains open.
Beside it: `admission` (called by applications inside their transaction), `entries`
(the reads and the status history), `bans` (revocation bans by region).

Every status change closes the entry's current interval and opens a new one
(`whitelist_entry_status`), updates the entry's copy of the current status, and writes
one audit event per entry — all in one transaction, with the entries locked.

- `suspend` and `renew` take effect at once.
- `revoke` and `reinstate` are requested by one reviewer and take effect only when a
  *different* reviewer in scope confirms (four eyes): `request_action` → pending
  request; `confirm_request` applies it; `decline_request` drops it.

Facts for other domains (see docs/whitelist.md):
- `ban_until(session, vendor_id, region_code, now)`: the date before which the vendor
  may not apply again in the region (a revocation's ban in the region, a region
  containing it or one inside it), or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import record_event
from service.db import Database
from service.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    problem,
    raise_problems,
)
from service.four_eyes import request_facts, request_tags
from service.idempotency import Idempotency, Reply, run_once
from service.reason import clean_reason
from service.region_settings import effective_settings
from service.regions import regions
from service.security import Actor, Role
from service.timeutil import today_in_china, utcnow
from service.webhooks import enqueue_standing_change
from service.whitelist import state as vendor_state
from service.whitelist.admission import _current, _open_interval
from service.whitelist.entries import derived_status, entry_documents_ok
from service.whitelist.models import (
    WhitelistActionRequest,
    WhitelistEntry,
    WhitelistEntryStatus,
)
from service.whitelist.status import (
    ACTIVE,
    REVOKED,
    SUSPENDED,
)
from workflows.engine import decide
from workflows.four_eyes import WHITELIST_REQUEST
from workflows.guards import different_reviewer

ACTIONS = ("suspend", "reinstate", "revoke", "renew")
CONFIRMED = ("revoke", "reinstate")
REASON_LIMIT = 2000
#: Derived status (now) an entry must have for each action.
ELIGIBLE = {
    "suspend": frozenset({ACTIVE, "expired"}),
    "renew": frozenset({ACTIVE, SUSPENDED, "expired"}),
    "revoke": frozenset({ACTIVE, SUSPENDED, "expired"}),
    "reinstate": frozenset({SUSPENDED, REVOKED}),
}
TARGET_STATUS = {"suspend": SUSPENDED, "renew": None, "revoke": REVOKED, "reinstate": ACTIVE}


# ----------------------------------------------------------------- actions


@dataclass(frozen=True)
class ActionInput:
    action: str
    reason: str | None
    entry_ids: list[UUID] | None = None
    vendor_id: UUID | None = None
    region_code: str | None = None
    until: datetime | None = None  # suspend: ends by itself at this instant
    ban_until: date | None = None  # revoke: no new application in the region before this China date
    valid_until: datetime | None = None  # renew: new validity end (default: the region's validity from now)


@dataclass(frozen=True)
class EntryChange:
    entry: WhitelistEntry
    before: str  # derived status before
    after: str  # derived status after (or still pending)


@dataclass
class ActionResult:
    action: str
    status: str  # applied | pending | declined
    request: WhitelistActionRequest | None
    changes: list[EntryChange] = field(default_factory=list)


def _validate(data: ActionInput, now: datetime) -> ActionInput:
    problems: list[dict] = []
    if data.action not in ACTIONS:
        problems.append(problem("action", "unknown_action", "操作须为 suspend、reinstate、revoke 或 renew"))
    reason = clean_reason(data.reason, required=True, limit=REASON_LIMIT, problems=problems)
    if data.entry_ids is not None and data.vendor_id is not None:
        problems.append(problem("entry_ids", "ambiguous_target", "entry_ids 与 vendor_id 只能提供其一"))
    elif data.entry_ids is None and data.vendor_id is None:
        problems.append(problem("entry_ids", "target_required", "请提供 entry_ids（指定条目）或 vendor_id（整个机构）"))
    elif data.entry_ids is not None:
        if not data.entry_ids:
            problems.append(problem("entry_ids", "target_required", "至少指定一个白名单条目"))
        elif len(set(data.entry_ids)) != len(data.entry_ids):
            problems.append(problem("entry_ids", "duplicate_entry", "白名单条目重复"))
        if data.region_code is not None:
            problems.append(problem("region_code", "field_not_allowed", "region_code 只能与 vendor_id 一起使用"))
    if data.region_code is not None and data.region_code not in regions():
        problems.append(problem("region_code", "unknown_region", "行政区划代码不存在或不在本系统服务范围内"))
    if data.until is not None:
        if data.action != "suspend":
            problems.append(problem("until", "field_not_allowed", "只有暂停可以指定结束时间"))
        elif data.until.tzinfo is None or data.until <= now:
            problems.append(problem("until", "invalid_until", "暂停结束时间须为带时区的将来时刻"))
    if data.ban_until is not None and data.action != "revoke":
        problems.append(problem("ban_until", "field_not_allowed", "只有撤销可以指定禁止再次申请的日期"))
    if data.action == "revoke":
        if data.ban_until is None:
            problems.append(problem("ban_until", "ban_until_required", "撤销须指定禁止再次申请的截止日期"))
        elif data.ban_until <= today_in_china(now):
            problems.append(problem("ban_until", "invalid_ban_until", "禁止再次申请的截止日期须晚于今天"))
    if data.valid_until is not None:
        if data.action != "renew":
            problems.append(problem("valid_until", "field_not_allowed", "只有续期可以指定新的有效期"))
        elif data.valid_until.tzinfo is None or data.valid_until <= now:
            problems.append(problem("valid_until", "invalid_valid_until", "新的有效期截止时间须为带时区的将来时刻"))
    raise_problems(problems)
    return ActionInput(
        data.action,
        reason,
        data.entry_ids,
        data.vendor_id,
        data.region_code,
        data.until,
        data.ban_until,
        data.valid_until,
    )


async def _lock_entries(session: AsyncSession, ids: Sequence[UUID]) -> list[WhitelistEntry]:
    rows = (
        await session.exec(
            select(WhitelistEntry)
            .where(col(WhitelistEntry.id).in_(list(ids)))
            .order_by(col(WhitelistEntry.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    return list(rows)


async def _select_entries(session: AsyncSession, actor: Actor, data: ActionInput) -> tuple[list[WhitelistEntry], bool]:
    """The entries the action names, locked; `explicit` when named one by one."""
    if data.entry_ids is not None:
        found = {e.id: e for e in await _lock_entries(session, data.entry_ids)}
        problems = [
            problem(f"entry_ids[{i}]", "entry_not_found", "白名单条目不存在或不在权限范围内")
            for i, entry_id in enumerate(data.entry_ids)
            if entry_id not in found or not actor.covers_region(found[entry_id].region_code)
        ]
        if problems:
            raise NotFound(problems[0]["message"], code="entry_not_found", details=problems)
        return [found[i] for i in data.entry_ids], True
    scope = data.region_code or actor.region_code
    if data.region_code is not None and not actor.covers_region(data.region_code):
        raise NotFound("白名单条目不存在或不在权限范围内", code="entry_not_found")
    ids = (
        await session.exec(
            select(WhitelistEntry.id).where(
                WhitelistEntry.vendor_id == data.vendor_id,
                col(WhitelistEntry.region_code).in_(regions().descendants(scope) if scope else []),
                WhitelistEntry.status != "superseded",
            )
        )
    ).all()
    entries = await _lock_entries(session, ids)
    if not entries:
        raise NotFound("该机构在权限范围内没有白名单条目", code="entry_not_found")
    return entries, False


@dataclass(frozen=True)
class Now:
    intervals: dict[UUID, WhitelistEntryStatus]  # the current (locked) interval of each entry
    documents: dict[UUID, bool]
    statuses: dict[UUID, str]  # derived


async def _statuses_now(session: AsyncSession, entries: Sequence[WhitelistEntry], now: datetime) -> Now:
    intervals = await _current(session, [e.id for e in entries])
    docs = await entry_documents_ok(session, entries, now)
    return Now(intervals, docs, {e.id: derived_status(intervals.get(e.id), now, docs[e.id]) for e in entries})


def _eligible(
    data: ActionInput, entries: list[WhitelistEntry], statuses: dict[UUID, str], explicit: bool
) -> list[WhitelistEntry]:
    eligible = [e for e in entries if statuses[e.id] in ELIGIBLE[data.action]]
    if explicit and len(eligible) != len(entries):
        raise_problems(
            [
                {
                    **problem(
                        f"entry_ids[{i}]",
                        "invalid_entry_status",
                        f"该条目当前状态为 {statuses[e.id]}，不能执行 {data.action}",
                    ),
                    "status": statuses[e.id],
                }
                for i, e in enumerate(entries)
                if statuses[e.id] not in ELIGIBLE[data.action]
            ],
            Conflict,
        )
    if not eligible:
        raise Conflict(
            "该机构在权限范围内没有可执行此操作的白名单条目",
            code="no_eligible_entries",
            details=[
                {
                    "field": "vendor_id",
                    "code": "no_eligible_entries",
                    "message": "没有可执行此操作的条目",
                    "statuses": {str(e.id): statuses[e.id] for e in entries},
                }
            ],
        )
    return eligible


def common_region(codes: Sequence[str]) -> str:
    """The narrowest region containing every code."""
    chains = [regions().ancestors(c) for c in codes]
    shared = set.intersection(*(set(c) for c in chains))
    return next(c for c in chains[0] if c in shared)


async def _apply(
    session: AsyncSession,
    actor: Actor,
    action: str,
    reason: str,
    entries: list[WhitelistEntry],
    current: Now,
    now: datetime,
    *,
    until: datetime | None = None,
    ban_until: date | None = None,
    valid_until: datetime | None = None,
    request: WhitelistActionRequest | None = None,
) -> list[EntryChange]:
    changes, before = [], current.statuses
    for entry in entries:
        previous = current.intervals.get(entry.id)
        if action == "renew":
            new_until = valid_until or now + timedelta(
                days=(await effective_settings(session, entry.region_code)).whitelist_validity_days
            )
            stored = previous.status if previous is not None else entry.status
            values = {
                "status": stored,
                "entry_valid_until": new_until,
                "suspended_until": previous.suspended_until if previous is not None and stored == SUSPENDED else None,
            }
        else:
            values = {
                "status": TARGET_STATUS[action],
                "entry_valid_until": entry.valid_until,
                "suspended_until": until if action == "suspend" else None,
                "ban_until": ban_until if action == "revoke" else None,
            }
        old_until = entry.valid_until
        row = _open_interval(
            session,
            entry,
            previous,
            now,
            action=action,
            reason=reason,
            actor_account_id=request.requested_by if request else actor.account_id,
            confirmed_by=actor.account_id if request else None,
            request_id=request.id if request else None,
            **values,
        )
        after = derived_status(row, now, current.documents[entry.id])
        audit = {"status": {"before": before[entry.id], "after": row.status}}
        if row.entry_valid_until != old_until:
            audit["valid_until"] = {"before": old_until, "after": row.entry_valid_until}
        if row.suspended_until is not None:
            audit["suspended_until"] = {"before": None, "after": row.suspended_until}
        if row.ban_until is not None:
            audit["ban_until"] = {"before": None, "after": row.ban_until}
        if request is not None:
            audit["request"] = {
                "id": request.id,
                "requested_by": request.requested_by,
                "confirmed_by": actor.account_id,
            }
        await record_event(
            session,
            actor,
            f"whitelist:entry:{action}",
            "whitelist_entry",
            entry.id,
            region_code=entry.region_code,
            changes=audit,
            reason=reason,
        )
        changes.append(EntryChange(entry, before[entry.id], after))
    # The schools that ordered these items hear of it (webhooks), from this transaction.
    await enqueue_standing_change(
        session, item_ids=[e.service_item_id for e in entries], cause=f"whitelist:entry:{action}"
    )
    await session.flush()
    return changes


async def _take_action(session: AsyncSession, actor: Actor, data: ActionInput, now: datetime) -> ActionResult:
    entries, explicit = await _select_entries(session, actor, data)
    current = await _statuses_now(session, entries, now)
    statuses = current.statuses
    eligible = _eligible(data, entries, statuses, explicit)
    if data.action not in CONFIRMED:
        changes = await _apply(
            session,
            actor,
            data.action,
            data.reason,
            eligible,
            current,
            now,
            until=data.until,
            valid_until=data.valid_until,
        )
        return ActionResult(data.action, "applied", None, changes)
    ids = [e.id for e in eligible]
    clash = (
        await session.exec(
            select(WhitelistActionRequest.id).where(
                WhitelistActionRequest.status == "pending", col(WhitelistActionRequest.entry_ids).op("&&")(ids)
            )
        )
    ).first()
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
        requested_by=actor.account_id,
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


async def take_action(
    db: Database,
    actor: Actor,
    data: ActionInput,
    *,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[ActionResult]:
    """Suspend or renew at once; request a revoke or reinstate (a second reviewer confirms)."""
    now = now or utcnow()
    data = _validate(data, now)
    return await run_once(db, idempotency, lambda session: _take_action(session, actor, data, now))


def _request_visible(actor: Actor, request: WhitelistActionRequest) -> bool:
    return actor.role in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN) and actor.covers_region(request.region_code)


async def _load_request(session: AsyncSession, actor: Actor, request_id: UUID, *, lock: bool) -> WhitelistActionRequest:
    query = select(WhitelistActionRequest).where(WhitelistActionRequest.id == request_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    request = (await session.exec(query)).first()
    if request is None or not _request_visible(actor, request):
        raise NotFound("未找到该申请", code="request_not_found")
    return request


async def _decide(
    session: AsyncSession, actor: Actor, request_id: UUID, confirm: bool, reason: str | None, now: datetime
) -> ActionResult:
    request = await _load_request(session, actor, request_id, lock=True)
    decision = decide(
        WHITELIST_REQUEST,
        request.status,
        "confirm" if confirm else "decline",
        request_tags(actor, request.requested_by),
        request_facts(actor, request.requested_by, reason),
    )
    if not decision.allowed:
        if request.status != "pending":
            raise Conflict("该申请已处理", code="request_not_pending")
        if decision.failed_guard == different_reviewer.name:
            raise Forbidden("撤销和恢复须由另一名审核人员确认", code="four_eyes_violation")
        raise Forbidden(decision.message, code=decision.code or "forbidden")
    entries = await _lock_entries(session, request.entry_ids)
    if not confirm:
        request.status, request.decided_by, request.decided_at, request.decision_reason = (
            "declined",
            actor.account_id,
            now,
            reason,
        )
        session.add(request)
        await record_event(
            session,
            actor,
            "whitelist:request:decline",
            "whitelist_action_request",
            request.id,
            region_code=request.region_code,
            reason=reason,
            changes={"status": {"before": "pending", "after": "declined"}},
        )
        return ActionResult(request.action, "declined", request, [])
    if any(not actor.covers_region(e.region_code) for e in entries):
        raise NotFound("未找到该申请", code="request_not_found")
    current = await _statuses_now(session, entries, now)
    statuses = current.statuses
    changed = [e for e in entries if statuses[e.id] not in ELIGIBLE[request.action]]
    if changed:
        raise Conflict(
            "条目状态已变化，请重新发起申请",
            code="entry_status_changed",
            details=[
                {
                    "field": "entry_ids",
                    "code": "entry_status_changed",
                    "message": "条目状态已变化",
                    "entry_id": str(e.id),
                    "status": statuses[e.id],
                }
                for e in changed
            ],
        )
    changes = await _apply(
        session,
        actor,
        request.action,
        request.reason,
        entries,
        current,
        now,
        ban_until=request.ban_until,
        request=request,
    )
    request.status, request.decided_by, request.decided_at, request.decision_reason = (
        "confirmed",
        actor.account_id,
        now,
        reason,
    )
    session.add(request)
    await record_event(
        session,
        actor,
        "whitelist:request:confirm",
        "whitelist_action_request",
        request.id,
        region_code=request.region_code,
        reason=reason,
        changes={
            "status": {"before": "pending", "after": "confirmed"},
            "requested_by": {"before": None, "after": request.requested_by},
        },
    )
    await session.flush()
    return ActionResult(request.action, "applied", request, changes)


async def confirm_request(
    db: Database,
    actor: Actor,
    request_id: UUID,
    reason: str | None = None,
    *,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[ActionResult]:
    """A second reviewer in scope confirms a revoke or reinstate; it takes effect now."""
    now = now or utcnow()
    cleaned = clean_reason(reason, limit=REASON_LIMIT)
    return await run_once(db, idempotency, lambda session: _decide(session, actor, request_id, True, cleaned, now))


async def decline_request(
    db: Database,
    actor: Actor,
    request_id: UUID,
    reason: str | None,
    *,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[ActionResult]:
    """Drop a pending request (the requester withdrawing it, or another reviewer refusing)."""
    now = now or utcnow()
    cleaned = clean_reason(reason, required=True, limit=REASON_LIMIT)
    return await run_once(db, idempotency, lambda session: _decide(session, actor, request_id, False, cleaned, now))


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
        return await _load_request(session, actor, request_id, lock=False)


# ------------------------------------------------------------ facts for others


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
    entries = await _lock_entries(session, (await session.exec(query)).all())
    if not entries:
        return None
    statuses = (await _statuses_now(session, entries, now)).statuses
    ids = [e.id for e in entries if statuses[e.id] in ELIGIBLE["suspend"]]
    if (
        not ids
        or (
            await session.exec(
                select(WhitelistActionRequest.id).where(
                    WhitelistActionRequest.status == "pending", col(WhitelistActionRequest.entry_ids).op("&&")(ids)
                )
            )
        ).first()
    ):
        return None
    request = WhitelistActionRequest(
        action="suspend",
        status="pending",
        vendor_id=vendor_id,
        entry_ids=ids,
        region_code=common_region([e.region_code for e in entries if e.id in ids]),
        reason=reason,
        requested_by=actor.account_id,
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
