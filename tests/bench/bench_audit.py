"""Benchmark the audit log on a real PostgreSQL (the embedded one, started here).

    python tests/bench/bench_audit.py [--events 1000000] [--seconds 10] [--writers 32]

Prints one figure per line:

    plain_insert_per_second      32 writers, single-row INSERT (own transaction each) of the same
                                 rows into a table of the same columns with no index, trigger or
                                 sequencer: the server's reference rate, this run
    audit_append_per_second      32 writers appending audit events the way the service does
                                 (one event per transaction, queued by the trigger) while the
                                 service's sealing loop integrates them and signs checkpoints
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
from service.audit.background import keep_log_sealed  # noqa: E402
from service.audit.bundle import verify_bundle  # noqa: E402
from service.audit.keys import load_signer  # noqa: E402
from service.audit.queries import prepare_export  # noqa: E402
from service.audit.recorder import build_event  # noqa: E402
from service.db.embedded import embedded_postgres  # noqa: E402
from service.db.engine import Database  # noqa: E402
from service.db.migrate import upgrade  # noqa: E402
from service.db.roles import as_role  # noqa: E402
from service.security.actor import Actor, Role  # noqa: E402

COLUMNS = (
    "event_id",
    "occurred_at",
    "actor_account_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "region_code",
    "request_id",
    "canonical",
)
INSERT = f"INSERT INTO audit_events ({', '.join(COLUMNS)}) VALUES ({', '.join(f'${i + 1}' for i in range(10))})"


def event_row(i: int) -> tuple:
    actor = Actor(account_id=uuid.uuid4(), role=Role.REVIEWER, region_code="360100")
    event = build_event(
        actor,
        "applications:application:approve",
        "application",
        uuid.uuid4(),
        region_code="360104",
        reason="材料齐全，同意准入",
        changes={"stage": {"before": "final_review", "after": "public_notice"}},
        evidence=[os.urandom(32).hex()],
    )
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


async def appends(
    owner_dsn: str, app_dsn: str, db: Database, signer_key: Path, writers: int, seconds: float, rounds: int = 5
) -> None:
    """Plain and audit rounds alternate, and medians are compared, so that load from
    elsewhere on a shared machine hits both sides alike."""
    admin = await asyncpg.connect(owner_dsn)
    await admin.execute("CREATE TABLE IF NOT EXISTS bench_plain (LIKE audit_events INCLUDING IDENTITY)")
    await admin.close()
    rows = [event_row(i) for i in range(2000)]
    make = lambda: (uuid.uuid4(), *random.choice(rows)[1:])  # noqa: E731
    plain, audit = [], []
    for _ in range(rounds):
        plain.append(
            await rate(owner_dsn, writers, seconds / rounds, INSERT.replace("audit_events", "bench_plain"), make)
        )
        # The service's own sealing loop runs meanwhile, at its production cadence, in
        # its own process as it would in a worker (not in this load generator's loop).
        sealer = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--seal", app_dsn, str(signer_key), stdout=asyncio.subprocess.PIPE
        )
        await sealer.stdout.readline()  # started and connected: its start-up is not measured
        audit.append(await rate(app_dsn, writers, seconds / rounds, INSERT, make))
        sealer.terminate()
        await sealer.wait()
    await audit_log.integrate_pending(db)
    plain_rate, audit_rate = statistics.median(plain), statistics.median(audit)
    print(f"plain_insert_per_second {plain_rate:.0f}")
    print(f"audit_append_per_second {audit_rate:.0f}")
    print(f"append_ratio {audit_rate / plain_rate:.2f}")


async def load(app_dsn: str, db: Database, count: int) -> int:
    """Bulk-load `count` more events with COPY (as the service's own bulk paths do), time
    the sequencer integrating them, and return the log's size."""
    conn = await asyncpg.connect(app_dsn)
    template = [event_row(i) for i in range(1000)]
    for start in range(0, count, 100_000):
        batch = [(uuid.uuid4(), *template[i % 1000][1:]) for i in range(min(100_000, count - start))]
        await conn.copy_records_to_table("audit_events", records=batch, columns=COLUMNS)
    await conn.close()
    started = time.perf_counter()
    done = await audit_log.integrate_pending(db)
    print(f"integrate_per_second {done / (time.perf_counter() - started):.0f}")
    async with db.transaction() as session:
        return await audit_log.tree_size(await session.connection())


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


async def seal(dsn: str, key: str) -> None:
    db = Database(dsn, pool_size=1)
    signer = load_signer(Path(key), "bench.schoolgate/audit")
    await audit_log.integrate_pending(db)
    print("ready", flush=True)
    await keep_log_sealed(db, signer, checkpoint_interval=60)


async def main() -> None:
    if sys.argv[1:2] == ["--seal"]:
        await seal(sys.argv[2], sys.argv[3])
        return
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
            await appends(owner_dsn, app_dsn, db, workdir / "key.pem", args.writers, args.seconds)
            size = await load(app_dsn, db, args.events)
            await proofs(db, size)
            await export_and_verify(db, signer, workdir)
        finally:
            await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
