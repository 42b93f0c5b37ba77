"""The auditor's read side: events, proofs, checkpoints, object histories, exports.

Reads first integrate whatever is queued (cheap when nothing is), so an event is
readable by seq as soon as its transaction has committed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from service.audit import log, merkle
from service.audit.bundle import BundleEvent, BundleWriter
from service.audit.keys import Signer
from service.db import Database
from service.errors import InvalidInput, NotFound
from service.security import Actor


@dataclass(frozen=True)
class LoggedEvent:
    seq: int
    canonical: bytes
    region_code: str | None

    @property
    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self.canonical)

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.canonical)


@dataclass(frozen=True)
class EventFilter:
    object_type: str | None = None
    object_id: str | None = None
    actor_account_id: str | None = None
    action_prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    actor_role: str | None = None


def _scope_clause(actor: Actor) -> tuple[str, dict]:
    """Auditors see events of their region and below, and events that carry no region."""
    regions = actor.scope_regions()
    if regions is None:
        return "TRUE", {}
    return "(e.region_code IS NULL OR e.region_code = ANY(CAST(:scope AS text[])))", {"scope": regions}


def _filter_clause(f: EventFilter) -> tuple[str, dict]:
    parts: list[str] = []
    params: dict[str, object] = {}
    if f.object_type:
        parts.append("e.object_type = :object_type")
        params["object_type"] = f.object_type
    if f.object_id:
        parts.append("e.object_id = :object_id")
        params["object_id"] = f.object_id
    if f.actor_account_id:
        parts.append("CAST(e.actor_account_id AS text) = :actor_id")
        params["actor_id"] = f.actor_account_id
    if f.action_prefix:
        parts.append("starts_with(e.action, :prefix)")
        params["prefix"] = f.action_prefix
    if f.actor_role:
        parts.append("e.actor_role = :actor_role")
        params["actor_role"] = f.actor_role
    if f.since:
        parts.append("e.occurred_at >= :since")
        params["since"] = f.since
    if f.until:
        parts.append("e.occurred_at < :until")
        params["until"] = f.until
    return " AND ".join(parts) or "TRUE", params


async def list_events(
    db: Database, actor: Actor, f: EventFilter, *, after_seq: int | None, limit: int
) -> tuple[list[LoggedEvent], int | None]:
    await log.integrate_pending(db)
    scope, scope_params = _scope_clause(actor)
    where, params = _filter_clause(f)
    async with db.transaction() as session:
        conn = await session.connection()
        rows = (
            await conn.execute(
                text(
                    f"SELECT l.seq, e.canonical, e.region_code FROM audit_leaves l JOIN audit_events e ON e.id = l.event_id "
                    f"WHERE l.seq > :after AND {scope} AND {where} ORDER BY l.seq LIMIT :limit"
                ),
                {"after": -1 if after_seq is None else after_seq, "limit": limit + 1, **scope_params, **params},
            )
        ).all()
    events = [LoggedEvent(seq, bytes(c), region) for seq, c, region in rows[:limit]]
    return events, (events[-1].seq if len(rows) > limit else None)


async def _visible_event(conn, actor: Actor, seq: int) -> LoggedEvent:
    scope, params = _scope_clause(actor)
    row = (
        await conn.execute(
            text(
                f"SELECT l.seq, e.canonical, e.region_code FROM audit_leaves l JOIN audit_events e ON e.id = l.event_id "
                f"WHERE l.seq = :seq AND {scope}"
            ),
            {"seq": seq, **params},
        )
    ).first()
    if row is None:
        raise NotFound("未找到该审计事件", code="audit_event_not_found")
    return LoggedEvent(row[0], bytes(row[1]), row[2])


async def event_with_proof(db: Database, signer: Signer, actor: Actor, seq: int):
    """The event, the latest checkpoint (made now if none covers the event yet), and
    the event's inclusion proof in it."""
    await log.integrate_pending(db)
    async with db.transaction() as session:
        conn = await session.connection()
        event = await _visible_event(conn, actor, seq)
        checkpoint = await log.latest_checkpoint(conn)
    if checkpoint is None or checkpoint.size <= seq:
        checkpoint = await log.make_checkpoint(db, signer)
        assert checkpoint is not None  # the tree holds the event at `seq`, so it has a head to sign
    async with db.transaction() as session:
        proof = await log.inclusion_proof(await session.connection(), seq, checkpoint.size)
    return event, checkpoint, proof


async def first_seq_of(db: Database, object_type: str, object_id: str) -> int | None:
    """The log position of the first event about an object (sealed into the tree
    first), or None when it has none."""
    await log.integrate_pending(db)
    async with db.transaction() as session:
        return (
            await (await session.connection()).execute(
                text(
                    "SELECT min(l.seq) FROM audit_events e JOIN audit_leaves l ON l.event_id = e.id "
                    "WHERE e.object_type = :type AND e.object_id = :id"
                ),
                {"type": object_type, "id": object_id},
            )
        ).scalar()


async def latest_checkpoint(db: Database, signer: Signer) -> log.StoredCheckpoint:
    """The newest checkpoint, signing one on demand when events are newer than it."""
    checkpoint = await log.make_checkpoint(db, signer)
    if checkpoint is None:
        raise NotFound("审计日志尚无检查点", code="checkpoint_not_found")
    return checkpoint


async def checkpoint_at(db: Database, size: int) -> log.StoredCheckpoint:
    async with db.transaction() as session:
        checkpoint = await log.checkpoint_at(await session.connection(), size)
    if checkpoint is None:
        raise NotFound("未找到该规模的检查点", code="checkpoint_not_found")
    return checkpoint


async def consistency(db: Database, first: int, second: int):
    if not 0 < first <= second:
        raise InvalidInput.field("first", "invalid_range", "须满足 0 < first ≤ second")
    async with db.transaction() as session:
        conn = await session.connection()
        older, newer = await log.checkpoint_at(conn, first), await log.checkpoint_at(conn, second)
        if older is None or newer is None:
            raise NotFound("未找到该规模的检查点", code="checkpoint_not_found")
        return older, newer, await log.consistency_proof(conn, first, second)


async def object_history(db: Database, actor: Actor, object_type: str, object_id: str) -> list[dict]:
    """Each state of one object, rebuilt by applying its events' changes in log order."""
    events, _ = await list_events(
        db, actor, EventFilter(object_type=object_type, object_id=object_id), after_seq=None, limit=10_000
    )
    if not events:
        raise NotFound("未找到该对象的审计记录", code="audit_history_not_found")
    state: dict[str, Any] = {}
    history = []
    for event in events:
        doc = event.document
        for field, change in doc["changes"].items():
            # Most changes are {"before", "after"}; some events record a plain value
            # (a submission's "workflow" and "snapshot"): that value is the new state.
            state[field] = change.get("after") if isinstance(change, dict) and "after" in change else change
        history.append(
            {
                "seq": event.seq,
                "time": doc["time"],
                "action": doc["action"],
                "actor": doc["actor"],
                "reason": doc.get("reason"),
                "changes": doc["changes"],
                "state": dict(state),
            }
        )
    return history


async def prepare_export(
    db: Database, signer: Signer, actor: Actor, start: int, end: int | None, chunk: int = 5_000
) -> AsyncIterator[bytes]:
    """Check the range and return the NDJSON lines of a bundle of events [start, end)
    with what verifies them offline (service/audit/bundle/).

    Events come with their *stored* node hashes, so an event row edited in the database
    is located by the verifier. Events outside an auditor's scope are carried as hashes
    only: the bundle still verifies without revealing them.
    """
    head = await latest_checkpoint(db, signer)
    end = head.size if end is None else end
    if not 0 <= start <= end <= head.size:
        raise InvalidInput.field("to", "invalid_range", f"范围须满足 0 ≤ from ≤ to ≤ {head.size}")
    async with db.transaction() as session:
        conn = await session.connection()
        prefix_nodes = merkle.root_nodes(start)
        stored = await log.fetch_nodes(conn, prefix_nodes)
        proofs = [(end, head.size, await log.consistency_proof(conn, end, head.size))] if end < head.size else []
    writer = BundleWriter(
        origin=signer.name,
        public_key=signer.vkey,
        start=start,
        end=end,
        checkpoints=[head.note],
        prefix=[stored[n] for n in prefix_nodes],
        consistency=proofs,
    )
    return _export_lines(db, writer, actor.scope_regions(), start, end, chunk)


async def _export_lines(
    db: Database, writer: BundleWriter, regions: list[str] | None, start: int, end: int, chunk: int
) -> AsyncIterator[bytes]:
    for line in writer.preamble():
        yield line
    for low in range(start, end, chunk):
        high = min(end, low + chunk)
        async with db.transaction() as session:
            conn = await session.connection()
            rows = (
                await conn.execute(
                    text(
                        "SELECT l.seq, e.canonical, e.region_code FROM audit_leaves l "
                        "JOIN audit_events e ON e.id = l.event_id WHERE l.seq >= :low AND l.seq < :high ORDER BY l.seq"
                    ),
                    {"low": low, "high": high},
                )
            ).all()
            nodes = await _nodes_completed_in(conn, low, high)
        for seq, canonical, region in rows:
            hidden = regions is not None and region is not None and region not in regions
            completed = [nodes[ref] for ref in merkle.perfect_nodes_completed_by(seq)]
            yield writer.event(BundleEvent(seq, None if hidden else bytes(canonical), nodes=completed))
    writer.finish()


async def _nodes_completed_in(conn, low: int, high: int) -> dict[merkle.NodeRef, bytes]:
    """Every stored node completed by a leaf in [low, high): node (k, i) is completed by
    leaf (i + 1) * 2^k - 1. One index range scan per level."""
    rows = await conn.execute(
        text(
            "SELECT n.level, n.idx, n.hash FROM generate_series(0, 62) AS lv(level) "
            "JOIN audit_nodes n ON n.level = lv.level "
            "AND n.idx BETWEEN ((CAST(:low AS bigint) + (CAST(1 AS bigint) << lv.level)) >> lv.level) - 1 "
            "AND (CAST(:high AS bigint) >> lv.level) - 1"
        ),
        {"low": low, "high": high},
    )
    return {(level, idx): bytes(h) for level, idx, h in rows}


@dataclass(frozen=True)
class StoredEvent:
    """One committed event as stored (its exact canonical bytes), by row id."""

    id: int
    action: str
    object_type: str
    object_id: str
    occurred_at: datetime
    canonical: bytes

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.canonical)


async def events_of_objects(session, object_type: str, object_ids: list[str], actions: list[str]) -> list[StoredEvent]:
    """The events with these actions on these objects, in log order — unscoped, for
    domains that scope by their own rules (a decision letter is made from its event)."""
    if not object_ids:
        return []
    rows = (
        await session.exec(
            text(
                "SELECT id, action, object_type, object_id, occurred_at, canonical FROM audit_events "
                "WHERE object_type = :type AND object_id = ANY(:ids) AND action = ANY(:actions) ORDER BY id"
            ).bindparams(type=object_type, ids=list(object_ids), actions=list(actions))
        )
    ).all()
    return [StoredEvent(r[0], r[1], r[2], r[3], r[4], bytes(r[5])) for r in rows]


async def event_by_id(session, event_id: int) -> StoredEvent | None:
    row = (
        await session.exec(
            text(
                "SELECT id, action, object_type, object_id, occurred_at, canonical FROM audit_events WHERE id = :id"
            ).bindparams(id=event_id)
        )
    ).first()
    return StoredEvent(row[0], row[1], row[2], row[3], row[4], bytes(row[5])) if row else None
