"""The audit recorder: the one piece every domain calls, inside its own transaction.

An event is written as canonical JSON (sorted keys, no spaces, UTF-8) and those exact
bytes are stored, so the event can be hashed into the tamper-evident log without ever
being re-serialised. Callers pass values already masked where they are personal.

`build_event` is the only place an event (and so the canonical format) is made: the
single path (`record_event`, one ORM row) and bulk paths (rows copied straight into
`audit_events`, e.g. a results import) both go through it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import msgspec
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit.models import AuditEvent
from service.context import current_request_id
from service.security import Actor
from service.timeutil import utcnow

EVENT_FORMAT_VERSION = 1

# Sorted keys, no spaces, UTF-8 without \u escapes: byte for byte what
# json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) writes for the
# plain values `_plain` produces (tests/audit pins this), about 20 times faster.
_ENCODER = msgspec.json.Encoder(order="sorted")
_UNSET: Any = object()


def _plain(value: Any) -> Any:
    """JSON-ready values: datetimes as isoformat(), dates and UUIDs as str, enums as
    their value, sets sorted, floats pre-rendered the way json.dumps renders them."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:  # the common case, with leaves inlined: no call per string
        out = {}
        for k, v in value.items():
            leaf = type(v)
            out[k if type(k) is str else str(k)] = (
                v if leaf is str or v is None or leaf is int or leaf is bool else _plain(v)
            )
        return out
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    if kind is UUID:
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum) and isinstance(value.value, (str, int)):
        return value.value
    if isinstance(value, str):  # str subclasses that are not enums
        return str(value)
    if isinstance(value, float):
        return msgspec.Raw(json.dumps(value).encode())
    if isinstance(value, dict):
        return _plain(dict(value))
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=str)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, int):
        return int(value)
    return value


def canonical_json(document: dict[str, Any]) -> bytes:
    return _ENCODER.encode(_plain(document))


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Field-level changes: {field: {"before": x, "after": y}} for fields that differ."""
    before, after = before or {}, after or {}
    changed = {}
    for key in sorted(set(before) | set(after)):
        old, new = _plain(before.get(key)), _plain(after.get(key))
        if old != new:
            changed[key] = {"before": old, "after": new}
    return changed


class EventRow(NamedTuple):
    """One `audit_events` row, fields in column order (bulk paths copy these as they are)."""

    event_id: UUID | str  # as the caller gave it: bulk paths pass the id as text
    occurred_at: datetime
    actor_account_id: UUID | None
    actor_role: str
    action: str
    object_type: str
    object_id: str
    region_code: str | None
    request_id: str | None
    canonical: bytes


AUDIT_TABLE = AuditEvent.__tablename__
AUDIT_COLUMNS: tuple[str, ...] = EventRow._fields


def _document(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    *,
    region_code: str | None,
    changes: Any,
    reason: str | None,
    evidence: list | None,
    occurred_at: datetime,
    request_id: str | None,
    event_id: Any,
) -> dict[str, Any]:
    """The event as a document: the one definition of what an event holds. The fixed
    fields are built plain; callers' `changes` and ids arrive already plain."""
    account_id = actor.account_id
    role = actor.role
    return {
        "v": EVENT_FORMAT_VERSION,
        "event_id": event_id,
        "time": occurred_at.isoformat(),
        "actor": {
            "account_id": None if account_id is None else str(account_id),
            "role": role.value if isinstance(role, Enum) else role,
        },
        "action": action,
        "object": {"type": object_type, "id": object_id},
        "region": region_code,
        "changes": changes,
        "reason": reason,
        "evidence": [e if type(e) is str else _plain(e) for e in evidence] if evidence else [],
        "request_id": request_id,
    }


def build_event(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    *,
    region_code: str | None = None,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
    evidence: list[str] | None = None,
    occurred_at: datetime | None = None,
    request_id: str | None = _UNSET,
    plain_changes: bool = False,
    event_id: UUID | str | None = None,
) -> EventRow:
    """Make one event: its canonical bytes and the columns copied out of them.

    `plain_changes=True` is for callers whose `changes` already hold only str, int,
    bool, None, lists and str-keyed dicts (no dates, UUIDs, datetimes or floats): the
    walk that converts them is then skipped. Everything else is built here either way.
    Callers may pass `event_id` (a fresh UUID, or its canonical string form).
    """
    occurred_at = occurred_at or utcnow()
    event_id = event_id or uuid4()
    if request_id is _UNSET:
        request_id = current_request_id()
    document = _document(
        actor,
        action,
        object_type,
        object_id if type(object_id) is str else _plain(object_id),
        region_code=region_code,
        changes=(changes or {}) if plain_changes else _plain(changes or {}),
        reason=reason,
        evidence=evidence,
        occurred_at=occurred_at,
        request_id=request_id,
        event_id=event_id if type(event_id) is str else str(event_id),
    )
    return EventRow(
        event_id,
        occurred_at,
        actor.account_id,
        str(actor.role),
        action,
        object_type,
        str(object_id),
        region_code,
        request_id,
        _ENCODER.encode(document),
    )


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
    row = build_event(
        actor,
        action,
        object_type,
        object_id,
        region_code=region_code,
        changes=changes,
        reason=reason,
        evidence=evidence,
    )
    event = AuditEvent(**row._asdict())
    session.add(event)
    return event


async def record_events(session: AsyncSession, rows: list[EventRow]) -> None:
    """Append many built events to the session's transaction at once."""
    session.add_all([AuditEvent(**row._asdict()) for row in rows])
