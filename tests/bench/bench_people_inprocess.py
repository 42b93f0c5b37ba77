"""The person lookup's own Python work, measured in process (no server, no HTTP parser).

    python tests/bench/bench_people_inprocess.py [--people 20000] [--requests 4000] [--concurrency 64]
                                                 [--batches 40] [--rounds 3] [--profile DIR]

A served benchmark (bench_people.py, bench_batch.py) counts the server's CPU per request,
granian's native code and the event loop included, on a machine shared with other
sessions. This one calls the ASGI apps directly, from `--concurrency` tasks on one uvloop
loop, and counts this process's CPU time (`time.process_time`) per request: the work of
SchoolGate's app (middleware, Litestar, the lookup, asyncpg's side of its two statements)
and of the bare app (tests/bench/bare_app.py) called the same way, alternated round by
round. PostgreSQL's CPU is counted apart. What it prints:

    bare_us, person_us (single lookups, 64 at once), batch_ms (one batch of 500 at a time)
    and batch_us_per_person, and PostgreSQL's CPU per lookup and per batch (its processes
    in /proc, as bench_batch.py counts them); with `--profile DIR`, py-spy's raw stacks of one more single
    and one more batch run (DIR/person.txt, DIR/batch.txt) and their top frames.

Same loader as bench_people.py (five clear checks each, one whitelisted engagement); the
code measured is this tree's (run a copy of the script in an exported tree to measure that
tree).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import asyncpg  # noqa: E402
import uvloop  # noqa: E402
from bench_import import postgres_cpu_seconds  # noqa: E402
from bench_lookup import bench_database, plain  # noqa: E402
from bench_people import BATCH, load_people, service_env, setup, write_pool  # noqa: E402

from service.security.keyring import Keyring, new_key_document  # noqa: E402


async def _lifespan(app) -> tuple[asyncio.Task, asyncio.Queue]:
    inbox: asyncio.Queue = asyncio.Queue()
    started = asyncio.get_running_loop().create_future()

    async def receive():
        return await inbox.get()

    async def send(message):
        if message["type"] == "lifespan.startup.complete" and not started.done():
            started.set_result(None)
        elif message["type"] == "lifespan.startup.failed" and not started.done():
            started.set_exception(RuntimeError(message.get("message")))

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send))
    await inbox.put({"type": "lifespan.startup"})
    await started
    return task, inbox


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app, method: str, path: str, body: bytes = b"", token: str | None = None) -> tuple[int, bytes]:
    headers = [(b"host", b"bench")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    sent = False
    status, chunks = 0, []

    async def receive():
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(_scope(method, path, headers), receive, send)
    return status, b"".join(chunks)


POSTMASTER: list[int | None] = [None]


async def _postmaster(owner_url: str) -> int:
    conn = await asyncpg.connect(plain(owner_url))
    try:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    finally:
        await conn.close()


async def run(app, requests: list[tuple[str, str, bytes, str | None]], concurrency: int) -> tuple[float, float, float]:
    """(CPU µs per request, requests per wall second, PostgreSQL's CPU µs per request) of
    `requests` from `concurrency` tasks."""
    queue = list(reversed(requests))

    async def worker():
        while queue:
            method, path, body, token = queue.pop()
            status, answer = await call(app, method, path, body, token)
            if status != 200:
                raise SystemExit(f"{path} answered {status}: {answer[:300]!r}")

    pg = postgres_cpu_seconds(POSTMASTER[0]) or 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    pg = (postgres_cpu_seconds(POSTMASTER[0]) or 0.0) - pg
    return cpu * 1e6 / len(requests), len(requests) / wall, pg * 1e6 / len(requests)


def _spy(out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(os.getpid()), "--rate", "500", "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def print_top(path: Path, top: int = 30) -> None:
    """Self and inclusive sample shares of our frames."""
    import collections

    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = stack.split(";")
        if not any("Litestar.__call__" in f or "Coalescer._drain" in f for f in frames):
            continue  # the loader, py-spy's own start, the lifespan's duties
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    print(f"# profile {path.name}: {total} samples in request handling")
    print("#  self:")
    for frame, n in own.most_common(top):
        print(f"#   {100 * n / total:5.1f}%  {frame}")
    print("#  inclusive, ours:")
    ours = [(f, n) for f, n in inclusive.items() if "service/" in f]
    for frame, n in sorted(ours, key=lambda item: -item[1])[:top]:
        print(f"#   {100 * n / total:5.1f}%  {frame}")


async def bench(args, app_url: str, owner_url: str, work: Path, keys_json: str, keyring: Keyring) -> None:
    from bare_app import create_app as bare_app

    from service.app import create_app
    from service.config import Settings

    by_county, tokens, consent_id = await setup(owner_url, app_url, args.vendors)
    await load_people(owner_url, keyring, 0, args.people, by_county, consent_id)
    pool = write_pool(work / "pool.txt", args.people, by_county, tokens, seed=2)
    POSTMASTER[0] = await _postmaster(owner_url)
    os.environ.update(service_env(work, app_url, owner_url, keys_json))
    app, bare = create_app(Settings.from_env()), bare_app()
    # The request lines (on stderr) go to a file: one line per request would drown the report.
    sys.stderr.flush()
    log = open(work / "requests.log", "wb")  # noqa: SIM115, ASYNC230 - open for the whole run, before any load
    saved = os.dup(2)
    os.dup2(log.fileno(), 2)
    try:
        lifespans = [await _lifespan(app), await _lifespan(bare)]
        await asyncio.sleep(args.settle)  # the worker's start-up duties (cache warm, reminder scan)
        rng = random.Random(1)
        singles = [
            ("POST", "/api/v1/lookup/people", json.dumps({"id_number": n, "name": m}).encode(), t)
            for n, m, t in (pool[rng.randrange(len(pool))] for _ in range(args.requests))
        ]
        by_token: dict[str, list[dict]] = {}
        for number, name, token in pool:
            by_token.setdefault(token, []).append({"id_number": number, "name": name})
        tokens_ok = [t for t, e in by_token.items() if len(e) >= BATCH]
        batches = [
            (
                "POST",
                "/api/v1/lookup/people/batch",
                json.dumps({"entries": rng.sample(by_token[t], BATCH)}).encode(),
                t,
            )
            for t in (tokens_ok[rng.randrange(len(tokens_ok))] for _ in range(args.batches))
        ]
        bares = [("GET", "/healthz", b"", None)] * args.requests
        await run(app, singles[: args.requests // 4], args.concurrency)  # warm-up
        await run(app, batches[:3], 1)
        await run(bare, bares[: args.requests // 4], args.concurrency)
        figures: dict[str, list[float]] = {"bare": [], "person": [], "batch": []}
        rates: dict[str, list[float]] = {"bare": [], "person": [], "batch": []}
        postgres: dict[str, list[float]] = {"bare": [], "person": [], "batch": []}
        for _ in range(args.rounds):
            for name, target, work_list, concurrency in (
                ("bare", bare, bares, args.concurrency),
                ("person", app, singles, args.concurrency),
                ("batch", app, batches, 1),
            ):
                cpu_us, per_s, pg_us = await run(target, work_list, concurrency)
                figures[name].append(cpu_us)
                rates[name].append(per_s)
                postgres[name].append(pg_us)
        frames = {}
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            for name, work_list, concurrency in (("person", singles, args.concurrency), ("batch", batches, 1)):
                spy = _spy(args.profile / f"{name}.txt")
                await asyncio.sleep(1.0)
                for _ in range(3):
                    await run(app, work_list, concurrency)
                spy.send_signal(2)
                spy.wait(timeout=60)
                frames[name] = args.profile / f"{name}.txt"
        for task, inbox in lifespans:
            await inbox.put({"type": "lifespan.shutdown"})
            await asyncio.wait_for(task, 30)
    finally:
        os.dup2(saved, 2)
        log.close()
    bare_us, person_us, batch_us = (statistics.median(figures[k]) for k in ("bare", "person", "batch"))
    rounds = lambda k: " ".join(f"{v:.0f}" for v in figures[k])  # noqa: E731
    print(f"# {args.people} people, code of {ROOT}; CPU of this process only (PostgreSQL not counted)")
    print(f"bare_us_per_request {bare_us:.1f} (rounds {rounds('bare')})")
    print(f"person_us_per_lookup {person_us:.1f} (rounds {rounds('person')}; {args.concurrency} at once)")
    print(f"person_to_bare_cpu_ratio {bare_us / person_us:.3f}")
    print(f"batch_ms {batch_us / 1000:.2f} (rounds {rounds('batch')} us; one at a time)")
    print(f"batch_us_per_person {batch_us / BATCH:.1f}")
    print(f"batch_people_per_cpu_s {1e6 * BATCH / batch_us:.0f}")
    print(f"person_lookups_per_wall_s {statistics.median(rates['person']):.0f}")
    print(f"postgres_us_per_lookup {statistics.median(postgres['person']):.1f}")
    print(f"postgres_ms_per_batch {statistics.median(postgres['batch']) / 1000:.2f}")
    for path in frames.values():
        print_top(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--vendors", type=int, default=500)
    parser.add_argument("--requests", type=int, default=4_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle", type=float, default=4.0)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    keys_json = json.dumps(new_key_document())
    keyring = Keyring.from_json(keys_json)
    with bench_database("schoolgate-bench-inprocess-") as (work, owner_url, app_url):
        uvloop.run(bench(args, app_url, owner_url, work, keys_json, keyring))
    return 0


if __name__ == "__main__":
    sys.exit(main())
