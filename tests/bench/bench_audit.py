"""Benchmark the audit log on a real PostgreSQL (the embedded one, started here).

    python tests/bench/bench_audit.py [--events 1000000] [--seconds 10] [--writers 32]

Prints one figure per line:

    plain_insert_per_second      32 writers, single-row INSERT (own transaction each) into an
                                 unindexed table: the server's reference rate, this run
    audit_append_per_second      32 writers appending audit events the way the service does
                                 (one event per transaction, queued by the trigger) while the
                                 sequencer integrates them into the Merkle tree concurrently
    append_ratio                 audit / plain (goal >= 0.5)
    integrate_per_second         sequencer throughput while loading the large log
    inclusion_proof_p50_ms_<n>   proof latency (node fetch + assembly) at log size n
    inclusion_proof_p99_ms_<n>   ... for n = 1,000 / 10,000 / 100,000 / events
    export_events_per_second     the real export code writing the whole log to a bundle
    verify_events_per_second     offline verification of that bundle (goal >= 200,000)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from service.audit import log as audit_log  # noqa: E402
from service.audit.bundle import verify_bundle  # noqa: E402
from service.audit.keys import load_signer  # noqa: E402
from service.audit.queries import prepare_export  # noqa: E402
from service.audit.recorder import build_event  # noqa: E402
from service.db.embedded import embedded_postgres  # noqa: E402
from service.db.engine import Database  # noqa: E402
from service.db.migrate import upgrade  # noqa: E402
from service.db.roles import as_role  # noqa: E402
from service.security.actor import Actor, Role  # noqa: E402

COLUMNS = ("event_id", "occurred_at", "actor_account_id", "actor_role", "action", "object_type", "object_id",
           "region_code", "request_id", "canonical")
INSERT = f"INSERT INTO audit_events ({', '.join(COLUMNS)}) VALUES ({', '.join(f'${i + 1}' for i in range(10))})"


def event_row(i: int) -> tuple:
    actor = Actor(account_id=uuid.uuid4(), role=Role.REVIEWER, region_code="360100")
    event = build_event(actor, "applications:application:approve", "application", uuid.uuid4(),
                        region_code="360104", reason="材料齐全，同意准入",
                        changes={"stage": {"before": "final_review", "after": "public_notice"}},
                        evidence=[os.urandom(32).hex()])
    return tuple(getattr(event, c) for c in COLUMNS)


async def rate(dsn: str, writers: int, seconds: float, statement: str, make_args) -> float:
    count = 0
    deadline = time.perf_counter() + seconds

    async def writer() -> None:
        nonlocal count
        conn = await asyncpg.connect(dsn)
        try:
            while time.perf_counter() < deadline:
                await conn.execute(statement, *make_args())
                count += 1
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return count / (time.perf_counter() - started)


async def sequencer(db: Database, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await audit_log.integrate_pending(db)
        await asyncio.sleep(0.05)


async def appends(owner_dsn: str, app_dsn: str, db: Database, writers: int, seconds: float) -> None:
    admin = await asyncpg.connect(owner_dsn)
    await admin.execute("CREATE TABLE IF NOT EXISTS bench_plain (id bigserial, payload bytea)")
    await admin.close()
    payload = event_row(0)[-1]
    plain = await rate(owner_dsn, writers, seconds, "INSERT INTO bench_plain (payload) VALUES ($1)",
                       lambda: (payload,))
    rows = [event_row(i) for i in range(2000)]
    stop = asyncio.Event()
    seq_task = asyncio.create_task(sequencer(db, stop))
    audit = await rate(app_dsn, writers, seconds, INSERT, lambda: (uuid.uuid4(), *random.choice(rows)[1:]))
    stop.set()
    await seq_task
    await audit_log.integrate_pending(db)
    print(f"plain_insert_per_second {plain:.0f}")
    print(f"audit_append_per_second {audit:.0f}")
    print(f"append_ratio {audit / plain:.2f}")


async def load(app_dsn: str, db: Database, total: int) -> None:
    """Bulk-load events with COPY (as the service's own bulk paths do), then time the
    sequencer integrating them."""
    conn = await asyncpg.connect(app_dsn)
    have = await conn.fetchval("SELECT count(*) FROM audit_events")
    template = [event_row(i) for i in range(1000)]
    while have < total:
        batch = [(uuid.uuid4(), *template[i % 1000][1:]) for i in range(min(100_000, total - have))]
        await conn.copy_records_to_table("audit_events", records=batch, columns=COLUMNS)
        have += len(batch)
    await conn.close()
    started = time.perf_counter()
    done = await audit_log.integrate_pending(db)
    print(f"integrate_per_second {done / (time.perf_counter() - started):.0f}")


async def proofs(db: Database, total: int, samples: int = 1000) -> None:
    sizes = [n for n in (1_000, 10_000, 100_000) if n < total] + [total]
    async with db.transaction() as session:
        conn = await session.connection()
        for size in sizes:
            timings = []
            for _ in range(samples):
                seq = random.randrange(size)
                started = time.perf_counter()
                await audit_log.inclusion_proof(conn, seq, size)
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            print(f"inclusion_proof_p50_ms_{size} {statistics.median(timings):.3f}")
            print(f"inclusion_proof_p99_ms_{size} {timings[int(len(timings) * 0.99) - 1]:.3f}")


async def export_and_verify(db: Database, signer, workdir: Path) -> None:
    head = await audit_log.make_checkpoint(db, signer)
    path = workdir / "bundle.ndjson"
    started = time.perf_counter()
    lines = await prepare_export(db, signer, Actor.system(), 0, None)
    with path.open("wb") as out:
        async for line in lines:
            out.write(line)
    print(f"export_events_per_second {head.size / (time.perf_counter() - started):.0f}")
    started = time.perf_counter()
    with path.open("rb") as handle:
        report = verify_bundle(handle, public_key_vkey=signer.vkey, trusted_checkpoint_note=None)
    elapsed = time.perf_counter() - started
    assert report.ok, report.problems[:5]
    print(f"verify_events_per_second {head.size / elapsed:.0f}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--writers", type=int, default=32)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="schoolgate-bench-"))
    with embedded_postgres(workdir / "pg") as url:
        await asyncio.to_thread(upgrade, url)
        owner_dsn, app_dsn = url, as_role(url, "schoolgate_app")
        db = Database(app_dsn, pool_size=4)
        signer = load_signer(workdir / "key.pem", "bench.schoolgate/audit")
        try:
            await appends(owner_dsn, app_dsn, db, args.writers, args.seconds)
            await load(app_dsn, db, args.events)
            await proofs(db, args.events)
            await export_and_verify(db, signer, workdir)
        finally:
            await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
