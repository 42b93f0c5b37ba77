"""Benchmark the person lookups (single and batch) against the fixed reference, a bare Litestar app.

    python tests/bench/bench_people.py [--people 1000000] [--small 10000] [--duration 10] [--rounds 2]
                                       [--connections 64] [--low-connections 4] [--batch-clients 4]
                                       [--profile DIR]

Reuses the helpers of tests/bench/bench_lookup.py (embedded PostgreSQL, vendor load, wrk
runner, readiness wait). What it does:

1. starts an embedded PostgreSQL (or SCHOOLGATE_BENCH_DATABASE_URL), migrates it, loads
   `--vendors` vendors with their whitelist entries (bench_lookup.load), one school
   account in each of up to 20 counties that have vendors, and one consent document;
2. generates a personal-data key document and passes it to both this loader and the
   server (SCHOOLGATE_PERSONAL_DATA_KEYS), so the loaded ciphertexts and blind indexes
   are the server's own;
3. loads, with COPY, `--small` people (valid 18-digit numbers, ISO 7064 MOD 11-2 check
   character; number encrypted and blind-indexed with that keyring), each with the five
   check types (all mandatory — the default region settings are left alone) recorded
   `clear` ten days ago under the one consent, and one current engagement with a vendor
   whitelisted in a school's county;
4. starts `schoolgate serve --workers 1` on core 0, checks that a loaded person is
   answered `cleared`, and measures the p50 of single lookups at `--low-connections`
   connections (wrk on core 1) with `--small` people in the table;
5. loads the rest up to `--people`, ANALYZEs, then measures, `--rounds` times in turn
   (tests/bench/reference.py): the bare app's `GET /healthz` (tests/bench/bare_app.py,
   the reference, pinned to core 0 and served as the service is), the service's
   `GET /healthz` and `POST /api/v1/lookup/people` at `--connections` connections (wrk,
   Lua script over a pool of 10,000 random known people: number + name + their school's
   token), each figure a ratio to the reference of its round; the receipts stored vs the
   lookups answered; batches of 500
   (`/api/v1/lookup/people/batch`, `--batch-clients` concurrent httpx clients posting
   sequentially, from core 1) and again the p50 at `--low-connections`;
6. the timing oracle: lookups answered `not_cleared` for two causes, numbers never
   loaded and known numbers with a wrong name, interleaved request by request in the
   same run (`--oracle-clients` clients, each alternating the two, for
   `--oracle-duration` s, from core 1): the ratio of their p50 latencies (and of their
   means). Goal 0.95–1.05: timing cannot tell an unknown number from a known one.
   Then the same question asked of PostgreSQL alone: `READ_PEOPLE` for one unknown and
   one known number, alternated call by call on one connection (warm-cache arguments).

`--profile DIR`: after step 5's rounds, one more single-lookup run under py-spy (the
worker's raw stacks in DIR/person.txt; the share of our functions printed).

`--oracle-only` skips the throughput runs of step 5 (and the load beyond `--small`):
a short run of the timing oracle alone.

Prints one figure per line, and `..._goal ... met|NOT met` lines for the issue's goals:
person lookup ≥ 0.2× the bare app, p99 ≤ 50 ms, ≥ 50,000 people verified/s in batches of
500, p50 at `--people` ≤ 1.25× the p50 at `--small`, unknown/wrong-name ratio 0.95–1.05.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import msgspec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lookup import (  # noqa: E402
    SCHOOLGATE,
    _count_receipts,
    bench_database,
    free_port,
    load,
    plain,
    wait_ready,
    wrk,
)
from reference import alternate, copy_staff, reference_server, report, settle, with_cpu  # noqa: E402

from service.accounts.services import create_account  # noqa: E402
from service.db.engine import Database  # noqa: E402
from service.identifiers.id_number import check_digit, describe_normalized, mask_id_number  # noqa: E402
from service.personnel.models import CHECK_TYPES  # noqa: E402
from service.personnel.people import ID_NUMBER_PURPOSE  # noqa: E402
from service.security.actor import Actor  # noqa: E402
from service.security.keyring import Keyring, new_key_document  # noqa: E402
from service.timeutil import today_in_china  # noqa: E402

SCHOOL_COUNTIES = 20
POOL = 10_000
BATCH = 500
CHUNK = 50_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华"
LUA = """
local pool = {}
for line in io.lines("%(pool)s") do
  local number, name, token = line:match("([^\\t]+)\\t([^\\t]+)\\t([^\\t]+)")
  pool[#pool + 1] = {'{"id_number":"' .. number .. '","name":"' .. name .. '"}', "Bearer " .. token}
end
math.randomseed(%(seed)d)
request = function()
  local p = pool[math.random(#pool)]
  return wrk.format("POST", "/api/v1/lookup/people",
                    {["Authorization"] = p[2], ["Content-Type"] = "application/json"}, p[1])
end
"""


def id_number(n: int) -> str:
    """The n-th bench number: address 360102, birth date 1970-01-01 + n // 1000 days,
    sequence n % 1000, then the check character. Unique for n < 10**6 * 20."""
    born = date(1970, 1, 1) + timedelta(days=n // 1000)
    body = f"360102{born:%Y%m%d}{n % 1000:03d}"
    return body + check_digit(body)


def person_name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // 20) % len(GIVEN)] + GIVEN[(n // 500) % len(GIVEN)]


async def setup(
    owner_url: str, app_url: str, n_vendors: int
) -> tuple[dict[str, list[uuid.UUID]], dict[str, str], uuid.UUID]:
    """Vendors (via bench_lookup.load), one school per county with vendors (up to 20),
    one consent document. Returns vendors by county, school token by county, consent id."""
    await load(owner_url, n_vendors, 2)
    conn = await asyncpg.connect(plain(owner_url))
    try:
        by_county: dict[str, list[uuid.UUID]] = {}
        for row in await conn.fetch("SELECT id, region_code FROM vendors ORDER BY region_code, id"):
            by_county.setdefault(row["region_code"], []).append(row["id"])
        counties = sorted(by_county)[:SCHOOL_COUNTIES]
        by_county = {c: by_county[c] for c in counties}
        consent_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO consent_documents (id, kind, region_code, title, sha256, size, content_type, filename, "
            "uploaded_at) VALUES ($1, 'bureau_authorisation', $2, '基准测试授权函', $3, 1000, 'application/pdf', "
            "'consent.pdf', now())",
            consent_id,
            counties[0],
            "0" * 64,
        )
    finally:
        await conn.close()
    db = Database(app_url)
    try:
        tokens = {}
        for i, county in enumerate(counties):
            created = await create_account(
                db,
                Actor.system(),
                role="school",
                name=f"基准测试学校{i}",
                region_code=county,
                school_code=f"{county}{i:04d}",
            )
            tokens[county] = created.token
    finally:
        await db.dispose()
    return by_county, tokens, consent_id


async def load_people(
    owner_url: str,
    keyring: Keyring,
    start: int,
    stop: int,
    by_county: dict[str, list[uuid.UUID]],
    consent_id: uuid.UUID,
) -> None:
    """People start..stop-1, five clear checks each (queried ten days ago), one current
    engagement with a vendor of county `counties[n % len]`, with COPY in chunks."""
    counties = sorted(by_county)
    query_date = today_in_china() - timedelta(days=10)
    now = datetime.now(UTC)
    conn = await asyncpg.connect(plain(owner_url))
    try:
        for lo in range(start, stop, CHUNK):
            people, checks, engagements = [], [], []
            for n in range(lo, min(stop, lo + CHUNK)):
                number = id_number(n)
                person_id = uuid.uuid4()
                born, sex = describe_normalized(number)
                people.append(
                    (
                        person_id,
                        keyring.blind_index(number),
                        keyring.encrypt(number.encode(), ID_NUMBER_PURPOSE),
                        mask_id_number(number),
                        person_name(n),
                        sex,
                        born,
                        now,
                    )
                )
                for check_type in CHECK_TYPES:
                    checks.append(
                        (
                            uuid.uuid4(),
                            person_id,
                            check_type,
                            "clear",
                            query_date,
                            f"B-{n}",
                            "公安机关",
                            consent_id,
                            now,
                        )
                    )
                vendors = by_county[counties[n % len(counties)]]
                engagements.append(
                    (uuid.uuid4(), person_id, vendors[n % len(vendors)], "lead_instructor", date(2025, 9, 1), now)
                )
            await copy_staff(conn, people, checks, engagements)
        await conn.execute("ANALYZE people; ANALYZE background_checks; ANALYZE engagements")
    finally:
        await conn.close()


def service_env(work: Path, app_url: str, owner_url: str, keys_json: str) -> dict[str, str]:
    """The service's settings for the person benchmarks: this run's database and keys, no
    rate limit, JSON logs."""
    return {
        "SCHOOLGATE_DATABASE_URL": app_url,
        "SCHOOLGATE_MIGRATION_DATABASE_URL": owner_url,
        "SCHOOLGATE_DATA_DIR": str(work / "var"),
        "SCHOOLGATE_LOG_FORMAT": "json",
        "SCHOOLGATE_LOOKUP_RATE_PER_MINUTE": str(10**9),
        "SCHOOLGATE_PERSONAL_DATA_KEYS": keys_json,
    }


def write_pool(path: Path, n_people: int, by_county: dict, tokens: dict[str, str], seed: int) -> list[tuple]:
    """POOL random known people (number, name, token of a school in their vendor's county)."""
    counties = sorted(by_county)
    rng = random.Random(seed)
    pool = []
    for n in rng.sample(range(n_people), min(POOL, n_people)):
        pool.append((id_number(n), person_name(n), tokens[counties[n % len(counties)]]))
    path.write_text("".join(f"{a}\t{b}\t{c}\n" for a, b, c in pool))
    return pool


def write_not_cleared_pools(unknown: Path, wrong_name: Path, known: list[tuple], n_people: int, seed: int) -> None:
    """The same schools asking about people who are not cleared, two ways: numbers that
    are valid but were never loaded, and known numbers with a wrong name."""
    rng = random.Random(seed)
    unknown.write_text(
        "".join(f"{id_number(n_people + rng.randrange(10**6))}\t{name}\t{token}\n" for _, name, token in known)
    )
    wrong_name.write_text("".join(f"{number}\t{name}某\t{token}\n" for number, name, token in known))


async def sanity(base: str, pool: list[tuple]) -> None:
    import httpx

    number, name, token = pool[0]
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.post(
            "/api/v1/lookup/people",
            headers={"Authorization": f"Bearer {token}"},
            json={"id_number": number, "name": name},
        )
        body = response.json()
        if response.status_code != 200 or body.get("result") != "cleared":
            raise SystemExit(f"a loaded person is not cleared: {response.status_code} {body}")
        response = await client.post(
            "/api/v1/lookup/people",
            headers={"Authorization": f"Bearer {token}"},
            json={"id_number": number, "name": name + "某"},
        )
        if response.json().get("result") != "not_cleared":
            raise SystemExit("a wrong name is cleared")


async def batches(base: str, pool: list[tuple], seconds: float, clients: int) -> tuple[float, int, int, int]:
    """`clients` concurrent clients posting batches of 500 (one school each) for `seconds`:
    (people verified per second, batches, entries, entries answered cleared)."""
    import httpx

    by_token: dict[str, list[dict]] = {}
    for number, name, token in pool:
        by_token.setdefault(token, []).append({"id_number": number, "name": name})
    groups = [(t, e) for t, e in by_token.items() if len(e) >= BATCH] or list(by_token.items())
    totals = {"batches": 0, "entries": 0, "cleared": 0, "errors": 0}
    # The request bodies are made before the run, and answers are read with msgspec: the
    # client shares core 1 with PostgreSQL, and its own JSON work is not what is measured.
    rng = random.Random(0)
    bodies = []
    for _ in range(64):
        token, entries = groups[rng.randrange(len(groups))]
        bodies.append((token, json.dumps({"entries": rng.sample(entries, min(BATCH, len(entries)))}).encode()))

    decoder = msgspec.json.Decoder(BatchAnswers)

    async def client_loop(k: int, deadline: float) -> None:
        rng = random.Random(k)
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            while time.monotonic() < deadline:
                token, body = bodies[rng.randrange(len(bodies))]
                response = await client.post(
                    "/api/v1/lookup/people/batch",
                    content=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
                if response.status_code != 200:
                    totals["errors"] += 1
                    continue
                results = decoder.decode(response.content).results
                totals["batches"] += 1
                totals["entries"] += len(results)
                totals["cleared"] += sum(r.result == "cleared" for r in results)

    # warm-up, then the measured run
    await asyncio.gather(*(client_loop(k, time.monotonic() + 2) for k in range(clients)))
    totals.update(batches=0, entries=0, cleared=0, errors=0)
    started = time.monotonic()
    await asyncio.gather(*(client_loop(k, started + seconds) for k in range(clients)))
    elapsed = time.monotonic() - started
    if totals["errors"]:
        print(f"# batch errors: {totals['errors']}", file=sys.stderr)
    return totals["entries"] / elapsed, totals["batches"], totals["entries"], totals["cleared"]


class BatchAnswer(msgspec.Struct):
    result: str


class BatchAnswers(msgspec.Struct):
    results: list[BatchAnswer]


def goal(name: str, target: str, ok: bool) -> None:
    print(f"{name} {target} {'met' if ok else 'NOT met'}")


def timing_oracle(base: str, unknown: Path, wrong_name: Path, seconds: float, clients: int) -> dict[str, list[float]]:
    """Lookups answered `not_cleared` for two causes, interleaved request by request:
    `clients` concurrent clients, each alternating an unknown number and a known number
    with a wrong name (random people from the two pools), for `seconds` after a warm-up.
    Alternating every request, rather than running one kind then the other, lets a drift
    of a shared machine weigh on both alike. Returns each cause's latencies (ms)."""
    import httpx

    def read(path: Path) -> list[tuple[bytes, str]]:
        out = []
        for line in path.read_text().splitlines():
            number, name, token = line.split("\t")
            out.append((json.dumps({"id_number": number, "name": name}).encode(), f"Bearer {token}"))
        return out

    pools = {"unknown": read(unknown), "wrong_name": read(wrong_name)}
    latencies: dict[str, list[float]] = {"unknown": [], "wrong_name": []}

    async def client_loop(k: int, deadline: float, keep: bool) -> None:
        rng = random.Random(k)
        order = ("unknown", "wrong_name") if k % 2 == 0 else ("wrong_name", "unknown")
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            i = 0
            while time.monotonic() < deadline:
                cause = order[i % 2]
                body, token = pools[cause][rng.randrange(len(pools[cause]))]
                started = time.perf_counter()
                response = await client.post(
                    "/api/v1/lookup/people",
                    content=body,
                    headers={"Authorization": token, "Content-Type": "application/json"},
                )
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200 or b'"not_cleared"' not in response.content:
                    raise SystemExit(f"unexpected answer for {cause}: {response.status_code} {response.text}")
                if keep:
                    latencies[cause].append(elapsed)
                i += 1

    async def run() -> None:
        await asyncio.gather(*(client_loop(k, time.monotonic() + 2, False) for k in range(clients)))
        started = time.monotonic()
        await asyncio.gather(*(client_loop(k + clients, started + seconds, True) for k in range(clients)))

    asyncio.run(run())
    return latencies


async def statement_oracle(
    owner_url: str, keyring: Keyring, known: list[tuple], n_people: int, rounds: int = 2000
) -> tuple[float, float]:
    """The person read alone in PostgreSQL (no HTTP, no Python work around it): the
    statement `READ_PEOPLE` for one unknown number and for one known number, alternated
    call by call, with the worker's caches as warm as a serving worker's (the state
    version given, so no vendor state or settings are read). Returns the two medians (ms)."""
    from service.lookup.people_reader import READ_PEOPLE

    rng = random.Random(5)
    known_indexes = [keyring.blind_index(number) for number, _, _ in known[:500]]
    unknown_indexes = [keyring.blind_index(id_number(n_people + 10**6 + rng.randrange(10**6))) for _ in range(500)]
    conn = await asyncpg.connect(plain(owner_url))
    try:
        version = await conn.fetchval("SELECT version FROM lookup_state_version WHERE id = 1")
        at = datetime.now(UTC)
        args = (at, version, version, today_in_china(at))
        times: dict[str, list[float]] = {"unknown": [], "known": []}
        for i in range(rounds + 200):
            for kind, pool in (("unknown", unknown_indexes), ("known", known_indexes))[:: 1 if i % 2 else -1]:
                index = pool[rng.randrange(len(pool))]
                started = time.perf_counter()
                await conn.fetch(READ_PEOPLE, [index], *args)
                if i >= 200:  # after a warm-up
                    times[kind].append((time.perf_counter() - started) * 1000)
    finally:
        await conn.close()
    return statistics.median(times["unknown"]), statistics.median(times["known"])


def report_statement_oracle(unknown_ms: float, known_ms: float) -> None:
    print(f"read_people_unknown_number_ms {unknown_ms:.3f}")
    print(f"read_people_known_number_ms {known_ms:.3f}")
    print(
        f"read_people_unknown_to_known_ratio {unknown_ms / known_ms:.3f} (the statement alone, alternated call by "
        f"call; 1.0: the database does the same work)"
    )


def report_oracle(latencies: dict[str, list[float]], clients: int) -> None:
    unknown, wrong = latencies["unknown"], latencies["wrong_name"]
    p50_u, p50_w = statistics.median(unknown), statistics.median(wrong)
    mean_u, mean_w = statistics.fmean(unknown), statistics.fmean(wrong)
    p50_ratio = p50_u / p50_w
    print(
        f"not_cleared_unknown_number_p50_ms {p50_u:.3f} (mean {mean_u:.3f}, {len(unknown)} lookups, {clients} clients)"
    )
    print(f"not_cleared_wrong_name_p50_ms {p50_w:.3f} (mean {mean_w:.3f}, {len(wrong)} lookups, {clients} clients)")
    print(
        f"not_cleared_unknown_to_wrong_name_p50_ratio {p50_ratio:.3f} "
        f"(interleaved request by request; 1.0: an unknown number takes as long as a known one)"
    )
    print(f"not_cleared_unknown_to_wrong_name_mean_ratio {mean_u / mean_w:.3f}")
    goal("not_cleared_goal_p50_ratio", "0.95-1.05", 0.95 <= p50_ratio <= 1.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000, help="people in the table for the first p50")
    parser.add_argument("--vendors", type=int, default=2_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--low-connections", type=int, default=4)
    parser.add_argument("--batch-clients", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--oracle-duration", type=int, default=20)
    parser.add_argument("--oracle-clients", type=int, default=1)
    parser.add_argument(
        "--oracle-only",
        action="store_true",
        help="only the timing oracle (unknown number vs wrong name), with --small people",
    )
    parser.add_argument("--profile", type=Path, help="directory for py-spy's raw stacks of one more lookup run")
    args = parser.parse_args()
    if args.oracle_only:
        args.people = args.small
    if args.people < args.small:
        raise SystemExit("--people must be at least --small")
    for tool in ("wrk", "taskset", *(["py-spy"] if args.profile else [])):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed")

    keys_json = json.dumps(new_key_document())
    keyring = Keyring.from_json(keys_json)
    with bench_database("schoolgate-bench-people-") as (work, owner_url, app_url):
        started = time.monotonic()
        by_county, tokens, consent_id = asyncio.run(setup(owner_url, app_url, args.vendors))
        asyncio.run(load_people(owner_url, keyring, 0, args.small, by_county, consent_id))
        print(
            f"# set up {args.vendors} vendors, {len(tokens)} schools, {args.small} people "
            f"in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
        pool_file, script = work / "pool.txt", work / "people.lua"
        script.write_text(LUA % {"pool": pool_file, "seed": 7})
        unknown_file, wrong_name_file = work / "unknown.txt", work / "wrong_name.txt"

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGATE_")}
        env.update(
            service_env(work, app_url, owner_url, keys_json),
            PYTHONPATH=str(ROOT),  # the code of this tree (a copy in /tmp measures that copy)
        )
        server = subprocess.Popen(
            ["taskset", "-c", "0", SCHOOLGATE, "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(port, server)
            settle(server.pid)  # the worker's start-up duties (cache warm, reminder scan) first
            pool = write_pool(pool_file, args.small, by_county, tokens, seed=1)
            asyncio.run(sanity(base, pool))
            if args.oracle_only:
                write_not_cleared_pools(unknown_file, wrong_name_file, pool, args.people, seed=3)
                os.sched_setaffinity(0, {1})  # the client runs on the client core, as wrk does
                report_oracle(
                    timing_oracle(base, unknown_file, wrong_name_file, args.oracle_duration, args.oracle_clients),
                    args.oracle_clients,
                )
                report_statement_oracle(*asyncio.run(statement_oracle(owner_url, keyring, pool, args.people)))
                return 0
            wrk(base, args.warmup, args.low_connections, script)
            small = wrk(base, args.duration, args.low_connections, script)

            started = time.monotonic()
            asyncio.run(load_people(owner_url, keyring, args.small, args.people, by_county, consent_id))
            print(
                f"# loaded {args.people - args.small} more people in {time.monotonic() - started:.1f} s",
                file=sys.stderr,
            )
            pool = write_pool(pool_file, args.people, by_county, tokens, seed=2)
            asyncio.run(sanity(base, pool))
            with reference_server(free_port()) as (bare_url, bare_pid):

                def run(url, **kwargs):
                    return with_cpu(
                        lambda seconds=args.duration: wrk(url, seconds, args.connections, **kwargs), server.pid
                    )

                reference = with_cpu(lambda seconds=args.duration: wrk(bare_url, seconds, args.connections), bare_pid)
                measures = {"healthz": run(f"{base}/healthz"), "lookup": run(base, script=script)}
                for measure in (reference, *measures.values()):
                    measure(args.warmup)
                before = asyncio.run(_count_receipts(owner_url))
                summary = alternate(reference, measures, args.rounds)
                stored = asyncio.run(_count_receipts(owner_url)) - before
                if args.profile:
                    from bench_stack import profile, worker_pid

                    args.profile.mkdir(parents=True, exist_ok=True)
                    frames = profile(worker_pid(server), args.duration, measures["lookup"], args.profile / "person.txt")
            large = wrk(base, args.duration, args.low_connections, script)
            # Lookups answered not_cleared for two causes, alternated: a timing difference
            # between them would tell an unknown number from a known one.
            write_not_cleared_pools(unknown_file, wrong_name_file, pool, args.people, seed=3)
            os.sched_setaffinity(0, {1})  # the clients below run on the client core, as wrk does
            oracle = timing_oracle(base, unknown_file, wrong_name_file, args.oracle_duration, args.oracle_clients)
            statement = asyncio.run(statement_oracle(owner_url, keyring, pool, args.people))
            per_second, n_batches, n_entries, n_cleared = asyncio.run(
                batches(base, pool, args.duration, args.batch_clients)
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        lookup = summary["lookup"]
        p50_ratio = large["p50_ms"] / small["p50_ms"]
        print(f"people_loaded {args.people}")
        report("bare", summary["reference"])
        report("healthz", summary["healthz"])
        report("person_lookup", lookup)
        goal("person_lookup_goal_ratio", "0.2", lookup["ratio"] >= 0.2)
        goal("person_lookup_goal_p99_ms", "50", lookup["p99_ms"] <= 50)
        print(f"person_lookup_non2xx {lookup['non2xx']:.0f}")
        print(f"person_lookup_receipts_stored {stored} of {lookup['requests']:.0f} answered")
        print(f"batch_people_per_s {per_second:.0f}")
        print(f"batch_batches {n_batches} entries {n_entries} cleared {n_cleared}")
        goal("batch_goal_people_per_s", "50000", per_second >= 50_000)
        print(f"person_lookup_p50_ms_at_{args.small} {small['p50_ms']:.2f} ({args.low_connections} connections)")
        print(f"person_lookup_p50_ms_at_{args.people} {large['p50_ms']:.2f} ({args.low_connections} connections)")
        print(f"person_lookup_p50_ratio {p50_ratio:.3f}")
        goal("person_lookup_goal_p50_ratio", "1.25", p50_ratio <= 1.25)
        report_oracle(oracle, args.oracle_clients)
        report_statement_oracle(*statement)
        if args.profile:
            from bench_stack import print_profile

            print_profile("person_lookup", frames, ours=("service/",), top=25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
