"""Benchmark batch person lookups (500 people a request) and what their receipts cost to store.

    python tests/bench/bench_batch.py [--people 20000] [--duration 10] [--batch-clients 4] [--profile DIR]

Reuses bench_people.py's loader and batch client (and through it bench_lookup.py's
embedded PostgreSQL and readiness wait). Loads `--people` people (five clear checks
each, one whitelisted engagement), starts `schoolgate serve --workers 1` pinned to core 0
(the code of the tree this script sits in: PYTHONPATH is set to it, so the same script
copied into an older checkout measures that checkout — how the before/after figures in
docs/lookup.md were made), checks one person is cleared, waits for the worker's start-up
duties to end (the reminder scan reads every person: seconds of CPU that would otherwise
be counted against the batches; tests/bench/reference.py `settle`), then runs `--batch-clients`
clients on core 1 posting batches of 500 for `--duration` seconds, and prints:

    batch_people_per_s, batch_batches, batch_goal_people_per_s 50000 met|NOT met,
    receipt_bytes_per_batch (lookup_receipts' growth, table + TOAST + indexes, ÷ batches),
    server_peak_rss_mb (VmHWM of the server's processes), and the CPU the server and
    PostgreSQL spent per batch (ms, warm-up included in both the time and the count).

`--profile DIR`: after the measured run, one more run of `--duration` s under py-spy
(the worker's raw stacks in DIR/batch.txt; the share of our functions printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_import import postgres_cpu_seconds  # noqa: E402
from bench_lookup import SCHOOLGATE, bench_database, free_port, plain, wait_ready  # noqa: E402
from bench_people import batches, load_people, sanity, service_env, setup, write_pool  # noqa: E402
from reference import settle  # noqa: E402

from service.security.keyring import Keyring, new_key_document  # noqa: E402


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if stat[1] == str(pid):
                found.append(int(entry.name))
    return found


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _receipts(owner_url: str) -> tuple[int, int, int]:
    """(lookup_receipts' total size, batch receipts stored, the postmaster's pid)."""
    conn = await asyncpg.connect(plain(owner_url))
    try:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        return (
            await conn.fetchval("SELECT pg_total_relation_size('lookup_receipts')"),
            await conn.fetchval("SELECT count(*) FROM lookup_receipts WHERE kind = 'person_batch'"),
            postmaster,
        )
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--vendors", type=int, default=500)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--batch-clients", type=int, default=4)
    parser.add_argument("--profile", type=Path, help="directory for py-spy's raw stacks of one more batch run")
    args = parser.parse_args()
    keys_json = json.dumps(new_key_document())
    keyring = Keyring.from_json(keys_json)
    with bench_database("schoolgate-bench-batch-") as (work, owner_url, app_url):
        by_county, tokens, consent_id = asyncio.run(setup(owner_url, app_url, args.vendors))
        asyncio.run(load_people(owner_url, keyring, 0, args.people, by_county, consent_id))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGATE_")}
        env.update(service_env(work, app_url, owner_url, keys_json), PYTHONPATH=str(ROOT))
        server = subprocess.Popen(
            ["taskset", "-c", "0", SCHOOLGATE, "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(port, server, timeout=180)
            pool = write_pool(work / "pool.txt", args.people, by_county, tokens, seed=2)
            asyncio.run(sanity(base, pool))
            waited = settle(server.pid)
            print(f"# the server's start-up duties took {waited:.0f} s (waited for before measuring)", file=sys.stderr)
            workers = [server.pid, *_children(server.pid)]
            size_before, stored_before, postmaster = asyncio.run(_receipts(owner_url))
            os.sched_setaffinity(0, {1})  # the batch clients run on the client core
            cpu_before = sum(_cpu(p) for p in workers), postgres_cpu_seconds(postmaster)
            per_second, n_batches, n_entries, n_cleared = asyncio.run(
                batches(base, pool, args.duration, args.batch_clients)
            )
            cpu_after = sum(_cpu(p) for p in workers), postgres_cpu_seconds(postmaster)
            size_after, stored_after, _ = asyncio.run(_receipts(owner_url))
            peak = max(_peak_rss_mb(p) for p in workers)
            if args.profile:
                from bench_stack import profile, worker_pid

                args.profile.mkdir(parents=True, exist_ok=True)
                frames = profile(
                    worker_pid(server),
                    args.duration,
                    lambda: asyncio.run(batches(base, pool, args.duration, args.batch_clients)),
                    args.profile / "batch.txt",
                )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    # batches() counts only the measured run; the costs cover its 2 s warm-up too, so they
    # are divided by every batch receipt stored meanwhile.
    server_cpu, postgres_cpu = cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]
    stored = max(stored_after - stored_before, 1)
    print(f"# {args.people} people, {args.batch_clients} clients, {args.duration} s, code of {ROOT}", file=sys.stderr)
    print(f"batch_people_per_s {per_second:.0f}")
    print(f"batch_batches {n_batches} entries {n_entries} cleared {n_cleared}")
    print(f"batch_goal_people_per_s 50000 {'met' if per_second >= 50_000 else 'NOT met'}")
    print(f"receipt_bytes_per_batch {(size_after - size_before) / stored:.0f}")
    print(f"server_peak_rss_mb {peak:.0f}")
    print(f"server_cpu_ms_per_batch {1000 * server_cpu / stored:.1f}")
    print(f"postgres_cpu_ms_per_batch {1000 * postgres_cpu / stored:.1f}")
    if args.profile:
        from bench_stack import print_profile

        print_profile("batch", frames, ours=("service/",), top=25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
