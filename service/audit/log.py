"""The tamper-evident log: sequencing events into the Merkle tree, signing checkpoints.

Writers never wait on the tree. `record_event` inserts the event; a trigger queues it in
`audit_pending`. The sequencer (`integrate_pending`) takes a transaction-scoped advisory
lock, so only one runs at a time across every process, gives the queued events the next
dense seqs in id order, and inserts the leaf rows and every perfect-subtree node they
complete — reading only the O(log n) frontier nodes. A rolled-back writer's event never
reaches the queue, so it can leave no gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from service.audit import merkle
from service.audit.checkpoint import Checkpoint, sign
from service.audit.keys import Signer
from service.db import Database
from service.timeutil import utcnow

SEQUENCER_LOCK = 0x5C4_0A0D17  # arbitrary, fixed: pg_advisory_xact_lock key of the sequencer
BATCH = 20_000


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root_hash: bytes
    note: str
    created_at: datetime


async def _lock_sequencer(conn: AsyncConnection) -> None:
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK})


async def tree_size(conn: AsyncConnection) -> int:
    return (await conn.execute(text("SELECT coalesce(max(seq) + 1, 0) FROM audit_leaves"))).scalar_one()


async def fetch_nodes(conn: AsyncConnection, refs) -> dict[merkle.NodeRef, bytes]:
    """The stored hashes of the given perfect subtrees, in one round trip."""
    refs = list(set(refs))
    if not refs:
        return {}
    rows = await conn.execute(
        text(
            "SELECT n.level, n.idx, n.hash FROM audit_nodes n "
            "JOIN unnest(CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) AS want(level, idx) "
            "ON n.level = want.level AND n.idx = want.idx"
        ),
        {"levels": [r[0] for r in refs], "idxs": [r[1] for r in refs]},
    )
    found = {(level, idx): bytes(h) for level, idx, h in rows}
    missing = set(refs) - set(found)
    if missing:
        raise RuntimeError(f"audit tree is missing nodes {sorted(missing)[:5]}")
    return found


async def integrate_pending(db: Database, batch: int = BATCH) -> int:
    """Move queued events into the tree; returns how many were integrated."""
    total = 0
    while True:
        async with db.transaction() as session:
            conn = await session.connection()
            await _lock_sequencer(conn)
            # Leaf hashes are computed by PostgreSQL (RFC 6962: SHA-256 of 0x00 || bytes), so
            # only 32 bytes per event travel and Python only combines nodes.
            rows = (
                await conn.execute(
                    text(
                        "SELECT e.id, sha256('\\x00'::bytea || e.canonical) FROM audit_pending p "
                        "JOIN audit_events e ON e.id = p.event_id ORDER BY e.id LIMIT :n"
                    ),
                    {"n": batch},
                )
            ).all()
            if not rows:
                return total
            size = await tree_size(conn)
            frontier = await fetch_nodes(conn, merkle.root_nodes(size))
            appended = merkle.append_leaves(size, frontier, (bytes(h) for _, h in rows))
            ids = [event_id for event_id, _ in rows]
            await conn.execute(
                text(
                    "INSERT INTO audit_leaves (seq, event_id) "
                    "SELECT * FROM unnest(CAST(:seqs AS bigint[]), CAST(:ids AS bigint[]))"
                ),
                {"seqs": list(range(size, size + len(ids))), "ids": ids},
            )
            await conn.execute(
                text(
                    "INSERT INTO audit_nodes (level, idx, hash) SELECT * FROM "
                    "unnest(CAST(:levels AS smallint[]), CAST(:idxs AS bigint[]), CAST(:hashes AS bytea[]))"
                ),
                {
                    "levels": [r[0] for r in appended.rows],
                    "idxs": [r[1] for r in appended.rows],
                    "hashes": [r[2] for r in appended.rows],
                },
            )
            await conn.execute(
                text("DELETE FROM audit_pending WHERE event_id = ANY(CAST(:ids AS bigint[]))"), {"ids": ids}
            )
            total += len(ids)


async def latest_checkpoint(conn: AsyncConnection) -> StoredCheckpoint | None:
    row = (
        await conn.execute(
            text("SELECT size, root_hash, note, created_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1")
        )
    ).first()
    return StoredCheckpoint(row[0], bytes(row[1]), row[2], row[3]) if row else None


async def checkpoint_at(conn: AsyncConnection, size: int) -> StoredCheckpoint | None:
    row = (
        await conn.execute(
            text("SELECT size, root_hash, note, created_at FROM audit_checkpoints WHERE size = :size"), {"size": size}
        )
    ).first()
    return StoredCheckpoint(row[0], bytes(row[1]), row[2], row[3]) if row else None


async def make_checkpoint(
    db: Database, signer: Signer, *, min_interval: timedelta | None = None, now: datetime | None = None
) -> StoredCheckpoint | None:
    """Sign the current tree head, after integrating what is queued.

    Returns the latest checkpoint: a new one when the tree grew (and, with
    `min_interval`, the previous one is at least that old), else the existing one.
    """
    await integrate_pending(db)
    async with db.transaction() as session:
        conn = await session.connection()
        await _lock_sequencer(conn)
        size = await tree_size(conn)
        latest = await latest_checkpoint(conn)
        now = now or utcnow()
        if latest is not None and (
            latest.size >= size or (min_interval is not None and now - latest.created_at < min_interval)
        ):
            return latest
        if size == 0:
            return latest
        root = merkle.assemble_root(merkle.root_nodes(size), await fetch_nodes(conn, merkle.root_nodes(size)))
        note = sign(Checkpoint(signer.name, size, root, now), signer.private_key, signer.name)
        await conn.execute(
            text("INSERT INTO audit_checkpoints (size, root_hash, note, created_at) VALUES (:size, :root, :note, :at)"),
            {"size": size, "root": root, "note": note, "at": now},
        )
        return StoredCheckpoint(size, root, note, now)


async def inclusion_proof(conn: AsyncConnection, seq: int, size: int) -> list[bytes]:
    plan = merkle.inclusion_proof_nodes(seq, size)
    return merkle.assemble_proof(plan, await fetch_nodes(conn, merkle.nodes_needed(plan)))


async def consistency_proof(conn: AsyncConnection, first: int, second: int) -> list[bytes]:
    plan = merkle.consistency_proof_nodes(first, second)
    return merkle.assemble_proof(plan, await fetch_nodes(conn, merkle.nodes_needed(plan)))
