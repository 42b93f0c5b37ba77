"""The audit recorder: the one piece every domain calls, inside its own transaction.

An event is written as canonical JSON (sorted keys, no spaces, UTF-8) and those exact
bytes are stored, so the event can be hashed into the tamper-evident log without ever
being re-serialised. Callers pass values already masked where they are personal.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit.models import AuditEvent
from service.context import current_request_id
from service.security.actor import Actor
from service.timeutil import utcnow

EVENT_FORMAT_VERSION = 1


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (date, UUID)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "value") and isinstance(getattr(value, "value"), (str, int)):
        return value.value  # enums
    return value


def canonical_json(document: dict[str, Any]) -> bytes:
    return json.dumps(_plain(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Field-level changes: {field: {"before": x, "after": y}} for fields that differ."""
    before, after = before or {}, after or {}
    changed = {}
    for key in sorted(set(before) | set(after)):
        old, new = _plain(before.get(key)), _plain(after.get(key))
        if old != new:
            changed[key] = {"before": old, "after": new}
    return changed


async def record_event(
    session: AsyncSession,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    *,
    region_code: str | None = None,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
    evidence: list[str] | None = None,
) -> AuditEvent:
    """Append one event to the session's transaction; it commits or vanishes with it."""
    occurred_at = utcnow()
    event_id = uuid4()
    request_id = current_request_id()
    document = {
        "v": EVENT_FORMAT_VERSION,
        "event_id": event_id,
        "time": occurred_at,
        "actor": {"account_id": actor.account_id, "role": actor.role},
        "action": action,
        "object": {"type": object_type, "id": object_id},
        "region": region_code,
        "changes": changes or {},
        "reason": reason,
        "evidence": evidence or [],
        "request_id": request_id,
    }
    event = AuditEvent(
        event_id=event_id,
        occurred_at=occurred_at,
        actor_account_id=actor.account_id,
        actor_role=str(actor.role),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        region_code=region_code,
        request_id=request_id,
        canonical=canonical_json(document),
    )
    session.add(event)
    return event
