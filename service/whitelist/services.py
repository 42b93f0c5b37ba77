"""The whitelist's dynamic adjustment by reviewers: the one use case that takes an action
(`take_action`). The pieces beside it, each one job:

- `actions`: the actions, the statuses each applies to, the input and its checks;
- `targets`: the entries named, found in scope and locked, their status now;
- `changes`: a status change applied to locked entries;
- `requests` / `decisions`: the four-eyes requests, opened and then decided;
- `admission` (called by applications inside their transaction), `entries` (the reads
  and the status history), `bans` (revocation bans by region).

Every status change closes the entry's current interval and opens a new one
(`whitelist_entry_status`), updates the entry's copy of the current status, and writes
one audit event per entry — all in one transaction, with the entries locked.

- `suspend` and `renew` take effect at once.
- `revoke` and `reinstate` are requested by one reviewer and take effect only when a
  *different* reviewer in scope confirms (four eyes): `take_action` → pending
  request; `confirm_request` applies it; `decline_request` drops it.

Facts for other domains (see docs/whitelist.md):
- `ban_until(session, vendor_id, region_code, now)`: the date before which the vendor
  may not apply again in the region (a revocation's ban in the region, a region
  containing it or one inside it), or None.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import Database
from service.idempotency import Idempotency, Reply, run_once
from service.security import Actor
from service.timeutil import utcnow
from service.whitelist.actions import CONFIRMED, ActionInput, CheckedAction, validate_action
from service.whitelist.changes import ActionResult, Timing, apply_action
from service.whitelist.requests import open_request
from service.whitelist.targets import eligible_entries, select_entries, statuses_now


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
    checked = validate_action(data, now)
    return await run_once(db, idempotency, lambda session: _take_action(session, actor, checked, now))


async def _take_action(session: AsyncSession, actor: Actor, data: CheckedAction, now: datetime) -> ActionResult:
    entries, explicit = await select_entries(session, actor, data)
    current = await statuses_now(session, entries, now)
    eligible = eligible_entries(data, entries, current.statuses, explicit)
    if data.action in CONFIRMED:
        return await open_request(session, actor, data, eligible, current.statuses, now)
    timing = Timing(until=data.until, valid_until=data.valid_until)
    changes = await apply_action(session, actor, data.action, data.reason, eligible, current, now, timing)
    return ActionResult(data.action, "applied", None, changes)
