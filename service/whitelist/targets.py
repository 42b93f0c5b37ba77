"""The entries a reviewer's action (or a complaint's request) is about: found in scope,
locked, their status now, and those the action may change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.errors import Conflict, NotFound, problem, raise_problems
from service.regions import regions
from service.security import Actor
from service.whitelist.actions import ELIGIBLE, ActionInput
from service.whitelist.admission import _current
from service.whitelist.entries import derived_status, entry_documents_ok
from service.whitelist.models import WhitelistActionRequest, WhitelistEntry, WhitelistEntryStatus


async def lock_entries(session: AsyncSession, ids: Sequence[UUID]) -> list[WhitelistEntry]:
    """The entries, locked in id order (two actions on shared entries never deadlock)."""
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


async def select_entries(session: AsyncSession, actor: Actor, data: ActionInput) -> tuple[list[WhitelistEntry], bool]:
    """The entries the action names, locked; `explicit` when named one by one."""
    if data.entry_ids is not None:
        found = {e.id: e for e in await lock_entries(session, data.entry_ids)}
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
    entries = await lock_entries(session, ids)
    if not entries:
        raise NotFound("该机构在权限范围内没有白名单条目", code="entry_not_found")
    return entries, False


@dataclass(frozen=True)
class Now:
    intervals: dict[UUID, WhitelistEntryStatus]  # the current (locked) interval of each entry
    documents: dict[UUID, bool]
    statuses: dict[UUID, str]  # derived


async def statuses_now(session: AsyncSession, entries: Sequence[WhitelistEntry], now: datetime) -> Now:
    intervals = await _current(session, [e.id for e in entries])
    docs = await entry_documents_ok(session, entries, now)
    return Now(intervals, docs, {e.id: derived_status(intervals.get(e.id), now, docs[e.id]) for e in entries})


def eligible_entries(
    data: ActionInput, entries: list[WhitelistEntry], statuses: dict[UUID, str], explicit: bool
) -> list[WhitelistEntry]:
    """The entries whose status the action applies to. Entries named one by one must all
    be (409 naming each that is not); of a whole vendor's, at least one must be."""
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


async def pending_request_on(session: AsyncSession, ids: Sequence[UUID]) -> UUID | None:
    """A pending request on any of these entries (one request at a time per entry)."""
    return (
        await session.exec(
            select(WhitelistActionRequest.id).where(
                WhitelistActionRequest.status == "pending", col(WhitelistActionRequest.entry_ids).op("&&")(list(ids))
            )
        )
    ).first()


def common_region(codes: Sequence[str]) -> str:
    """The narrowest region containing every code."""
    chains = [regions().ancestors(c) for c in codes]
    shared = set.intersection(*(set(c) for c in chains))
    return next(c for c in chains[0] if c in shared)
