"""Benchmark the receipt store alone: groups of vendor-lookup receipts through the
worker's group writer (service/lookup/writer.py), without HTTP.

    python tests/bench/bench_receipt_store.py [--accounts 100] [--group 64] [--groups 300]

Starts an embedded PostgreSQL (or SCHOOLGATE_BENCH_DATABASE_URL), migrates it, makes
`--accounts` school accounts with a token each, then `--groups` times stores `--group`
receipts at once (concurrent `store_receipt` calls of one process, so each round is one
group commit: token re-validation, rate limit, insert, durable commit) and prints

    store_group_ms_p50 / _p99  (wall time of one group, from the first call to the last answer)
    store_python_us_per_receipt (this process's CPU per receipt: encoding, signing, the call)
    store_postgres_us_per_receipt (the database server's CPU per receipt)
    store_receipts_stored (must equal groups × group)

It separates what PostgreSQL spends per receipt from what the worker spends, which the
HTTP benchmarks (bench_lookup.py) can only show together.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import msgspec

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from bench_import import postgres_cpu_seconds  # noqa: E402
from bench_lookup import bench_database, plain, school_tokens  # noqa: E402

from service.accounts.services import _authenticate_hash, hash_token  # noqa: E402
from service.audit.keys import Signer  # noqa: E402
from service.db.engine import Database  # noqa: E402
from service.lookup.store import store_receipt  # noqa: E402


def _answer(i: int) -> msgspec.Raw:
    """A vendor answer of the usual size (~700 bytes), canonical."""
    body = {
        "credit_code": f"91360100MA{i:08d}",
        "name": f"基准测试机构{i}",
        "status": "listed",
        "region_code": "360104",
        "items": [{"id": f"item-{i}-{k}", "name": f"服务项目{k}", "category": 2, "fee_cents": 1200} for k in range(4)],
        "documents_valid": True,
        "next_change": None,
    }
    return msgspec.Raw(msgspec.json.encode(body, order="sorted"))


async def run(args, owner_url: str, app_url: str) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    tokens = await school_tokens(app_url, args.accounts)
    db = Database(app_url)
    signer = Signer("bench", Ed25519PrivateKey.generate())
    hashes = [hash_token(t) for t in tokens]
    actors = [await _authenticate_hash(db, h) for h in hashes]
    conn = await asyncpg.connect(plain(owner_url))
    backend = await conn.fetchval("SELECT pg_backend_pid()")
    postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    answers = [_answer(i) for i in range(args.group)]

    async def one(k: int) -> None:
        i = k % len(actors)
        now = datetime.now(UTC)
        await store_receipt(
            db,
            signer,
            kind="vendor",
            subject=f"91360100MA{k:08d}",
            query={"as_of": None, "credit_code": f"91360100MA{k:08d}"},
            answer=answers[k % len(answers)],
            as_of=now,
            time=now,
            actor=actors[i],
            region_code="360104",
            checkpoint_size=0,
            limit=10**9,
            token_hash=hashes[i],
        )

    for _ in range(5):  # warm-up: the pool, the statement's plan
        await asyncio.gather(*(one(k) for k in range(args.group)))
    before = await conn.fetchval("SELECT count(*) FROM lookup_receipts")
    walls = []
    cpu0, pg0 = time.process_time(), postgres_cpu_seconds(postmaster)
    for g in range(args.groups):
        start = time.perf_counter()
        await asyncio.gather(*(one(g * args.group + k) for k in range(args.group)))
        walls.append(time.perf_counter() - start)
    cpu1, pg1 = time.process_time(), postgres_cpu_seconds(postmaster)
    stored = await conn.fetchval("SELECT count(*) FROM lookup_receipts") - before
    n = args.groups * args.group
    walls.sort()
    print(f"store_group_size {args.group}")
    print(f"store_group_ms_p50 {statistics.median(walls) * 1000:.2f}")
    print(f"store_group_ms_p99 {walls[int(len(walls) * 0.99) - 1] * 1000:.2f}")
    print(f"store_receipts_per_s {n / sum(walls):.0f} (one group at a time)")
    print(f"store_python_us_per_receipt {(cpu1 - cpu0) / n * 1e6:.1f}")
    if pg0 is not None and pg1 is not None:
        print(f"store_postgres_us_per_receipt {(pg1 - pg0) / n * 1e6:.1f}")
    print(f"store_receipts_stored {stored} of {n}")
    await conn.close()
    await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--group", type=int, default=64)
    parser.add_argument("--groups", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with bench_database("sg-bench-store-") as (_work, owner_url, app_url):
        asyncio.run(run(args, owner_url, app_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
