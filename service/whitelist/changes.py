"""A status change applied to locked entries: each entry's current interval closed and a
new one opened, one audit event per entry, and the schools that ordered the items told
(webhooks) — all in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import record_event
from service.region_settings import effective_settings
from service.security import Actor
from service.webhooks import enqueue_standing_change
from service.whitelist.actions import TARGET_STATUS
from service.whitelist.admission import _open_interval
from service.whitelist.entries import derived_status
from service.whitelist.models import WhitelistActionRequest, WhitelistEntry, WhitelistEntryStatus
from service.whitelist.status import SUSPENDED
from service.whitelist.targets import Now


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


@dataclass(frozen=True)
class Timing:
    """What some actions carry: a suspension's end, a revocation's ban, a renewal's end."""

    until: datetime | None = None
    ban_until: date | None = None
    valid_until: datetime | None = None


async def apply_action(
    session: AsyncSession,
    actor: Actor,
    action: str,
    reason: str,
    entries: list[WhitelistEntry],
    current: Now,
    now: datetime,
    timing: Timing,
    request: WhitelistActionRequest | None = None,
) -> list[EntryChange]:
    """Apply `action` to every entry; `request` is the confirmed four-eyes request it
    comes from (its requester is then the interval's actor, this actor the confirmer)."""
    changes, before = [], current.statuses
    for entry in entries:
        previous = current.intervals.get(entry.id)
        values = await _interval_values(session, action, entry, previous, now, timing)
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
        await record_event(
            session,
            actor,
            f"whitelist:entry:{action}",
            "whitelist_entry",
            entry.id,
            region_code=entry.region_code,
            changes=_audit_changes(actor, before[entry.id], old_until, row, request),
            reason=reason,
        )
        changes.append(EntryChange(entry, before[entry.id], after))
    # The schools that ordered these items hear of it (webhooks), from this transaction.
    await enqueue_standing_change(
        session, item_ids=[e.service_item_id for e in entries], cause=f"whitelist:entry:{action}"
    )
    await session.flush()
    return changes


async def _interval_values(
    session: AsyncSession,
    action: str,
    entry: WhitelistEntry,
    previous: WhitelistEntryStatus | None,
    now: datetime,
    timing: Timing,
) -> dict[str, Any]:
    """The new interval's status and dates. A renewal keeps the status (and a running
    suspension's end) and moves the validity end, by default by the region's validity."""
    if action == "renew":
        new_until = timing.valid_until or now + timedelta(
            days=(await effective_settings(session, entry.region_code)).whitelist_validity_days
        )
        stored = previous.status if previous is not None else entry.status
        return {
            "status": stored,
            "entry_valid_until": new_until,
            "suspended_until": previous.suspended_until if previous is not None and stored == SUSPENDED else None,
        }
    return {
        "status": TARGET_STATUS[action],
        "entry_valid_until": entry.valid_until,
        "suspended_until": timing.until if action == "suspend" else None,
        "ban_until": timing.ban_until if action == "revoke" else None,
    }


def _audit_changes(
    actor: Actor,
    before: str,
    old_until: datetime,
    row: WhitelistEntryStatus,
    request: WhitelistActionRequest | None,
) -> dict[str, dict[str, Any]]:
    audit: dict[str, dict[str, Any]] = {"status": {"before": before, "after": row.status}}
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
    return audit
