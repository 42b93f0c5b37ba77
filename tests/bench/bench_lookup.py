"""Benchmark the vendor lookup against the fixed reference, a bare Litestar app.

    python tests/bench/bench_lookup.py [--vendors 20000] [--entries-per-vendor 5]
                                       [--duration 10] [--connections 64] [--rounds 3]
                                       [--profile DIR]

Needs `wrk` (Debian: `apt-get install wrk`) and `taskset` (util-linux). What it does:

1. starts an embedded PostgreSQL in a temporary directory (or uses
   SCHOOLGATE_BENCH_DATABASE_URL, an owner URL of an empty database), migrates it, and
   loads — with COPY — 20,000 vendors (each with a valid business licence), 100,000
   service items and 100,000 whitelist entries (one application per vendor, entries in
   the vendor's county and city), plus 100 school accounts (lookups pick one at random:
   each account has its own rate-limit counter, as many schools would);
2. starts `schoolgate serve --workers 1` pinned to core 0 (`taskset -c 0`), logging as
   in production (info level, to /dev/null), the rate limit out of the way, and waits
   `--settle` seconds (the worker reads every vendor into its lookup cache after start);
3. starts tests/bench/bare_app.py (the reference: one JSON route, no middleware) on core 0
   too, served by the same function as the service (service/serving.py);
4. runs wrk pinned to core 1 on loopback, `--connections` connections, for `--duration`
   seconds each, after a warm-up, `--rounds` times in turn (tests/bench/reference.py):
   the bare app's `GET /healthz` (the reference), the service's `GET /healthz`, `GET
   /api/v1/me` (the cost of authenticating a token, for diagnosis) and `GET
   /api/v1/lookup/vendors/{code}` over random codes of the loaded vendors — every
   lookup storing its signed receipt before answering;
5. prints one figure per line: requests/s and CPU µs per request, ratios to the
   reference of the same round (median), p50/p99 latency, the goal line (vendor lookup
   ≥ 0.4 × bare) and the receipts stored (must equal the lookups answered).

This script loads no people: the person lookups (1,000,000 people, batches of 500, p50
at 10k vs 1M people) are measured by tests/bench/bench_people.py, which imports its
helpers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from service.accounts.services import create_account  # noqa: E402
from service.db.engine import Database  # noqa: E402
from service.db.migrate import upgrade  # noqa: E402
from service.db.roles import as_role  # noqa: E402
from service.regions.directory import regions  # noqa: E402
from service.security.actor import Actor  # noqa: E402
from tests.identifiers.make import make_credit_code_with_org  # noqa: E402

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))
ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LUA = """
local codes, tokens = {}, {}
for line in io.lines("%(codes)s") do codes[#codes + 1] = line end
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = "Bearer " .. line end
math.randomseed(%(seed)d)
request = function()
  local code = codes[math.random(#codes)]
  local auth = tokens[math.random(#tokens)]
  return wrk.format("GET", "/api/v1/lookup/vendors/" .. code, {["Authorization"] = auth})
end
"""
SCHOOLS = 100  # lookups come from many schools, each with its own rate-limit counter


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def org_body(n: int) -> str:
    digits = []
    for _ in range(8):
        n, r = divmod(n, len(ORG_CHARS))
        digits.append(ORG_CHARS[r])
    return "".join(reversed(digits))


async def load(owner_url: str, n_vendors: int, per_vendor: int) -> list[str]:
    rng = random.Random(6)
    counties = [r for r in regions() if r.level == "county"]
    now = datetime.now(UTC)
    conn = await asyncpg.connect(plain(owner_url))
    try:
        vendors, documents, items, applications, entries, statuses, codes = [], [], [], [], [], [], []
        for n in range(n_vendors):
            county = rng.choice(counties)
            code = make_credit_code_with_org("52" + county.code, org_body(n + 1))
            vendor_id, app_id = uuid.uuid4(), uuid.uuid4()
            codes.append(code)
            vendors.append(
                (
                    vendor_id,
                    code,
                    f"基准测试机构{n:05d}",
                    "private_non_enterprise",
                    county.code,
                    "地址",
                    "联系人",
                    "0791-88000000",
                    "法人",
                    True,
                    now,
                )
            )
            documents.append(
                (
                    uuid.uuid4(),
                    vendor_id,
                    "business_license",
                    f"BL-{n}",
                    "市场监督管理局",
                    date(2024, 1, 1),
                    date(2030, 12, 31),
                    "0" * 64,
                    1000,
                    "application/pdf",
                    "licence.pdf",
                    now - timedelta(days=30),
                )
            )
            applications.append((app_id, vendor_id, county.code, "entry_review", "approved", 9, now, now, now))
            for k in range(per_vendor):
                item_id, entry_id = uuid.uuid4(), uuid.uuid4()
                region = county.code if k % 2 == 0 else county.parent_code
                items.append(
                    (
                        item_id,
                        vendor_id,
                        1 + (n + k) % 8,
                        f"活动{k}",
                        "说明",
                        ["upper_primary", "junior_secondary"],
                        3000 + 100 * k,
                        "per_session",
                        30,
                        "教室",
                        [],
                        now,
                    )
                )
                valid_from, valid_until = now - timedelta(days=10), now + timedelta(days=355)
                entries.append(
                    (
                        entry_id,
                        vendor_id,
                        item_id,
                        region,
                        "active",
                        valid_from,
                        valid_until,
                        app_id,
                        3000 + 100 * k,
                        "per_session",
                        date.today(),
                        now,
                    )
                )
                statuses.append((entry_id, "active", "admit", valid_from, valid_until, now))
        await conn.copy_records_to_table(
            "vendors",
            records=vendors,
            columns=[
                "id",
                "credit_code",
                "name",
                "org_type",
                "region_code",
                "address",
                "contact_name",
                "contact_phone",
                "legal_representative",
                "public_welfare_pledge",
                "created_at",
            ],
        )
        await conn.copy_records_to_table(
            "documents",
            records=documents,
            columns=[
                "id",
                "vendor_id",
                "doc_type",
                "number",
                "issuer",
                "valid_from",
                "valid_until",
                "sha256",
                "size",
                "content_type",
                "filename",
                "uploaded_at",
            ],
        )
        await conn.copy_records_to_table(
            "applications",
            records=applications,
            columns=[
                "id",
                "vendor_id",
                "region_code",
                "workflow",
                "stage",
                "version",
                "stage_entered_at",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "service_items",
            records=items,
            columns=[
                "id",
                "vendor_id",
                "category_code",
                "activity",
                "description",
                "grade_bands",
                "fee",
                "fee_unit",
                "max_class_size",
                "venue",
                "personnel_ids",
                "created_at",
            ],
        )
        await conn.copy_records_to_table(
            "whitelist_entries",
            records=entries,
            columns=[
                "id",
                "vendor_id",
                "service_item_id",
                "region_code",
                "status",
                "valid_from",
                "valid_until",
                "application_id",
                "fee",
                "fee_unit",
                "fee_published_on",
                "created_at",
            ],
        )
        await conn.copy_records_to_table(
            "whitelist_entry_status",
            records=statuses,
            columns=["entry_id", "status", "action", "valid_from", "entry_valid_until", "created_at"],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return codes


async def school_tokens(app_url: str, n: int) -> list[str]:
    """`n` school accounts spread over the counties, one token each."""
    counties = [r.code for r in regions() if r.level == "county"]
    db = Database(app_url)
    try:
        tokens = []
        for i in range(n):
            region = counties[i % len(counties)]
            created = await create_account(
                db,
                Actor.system(),
                role="school",
                name=f"基准测试学校{i}",
                region_code=region,
                school_code=f"{region}{i:04d}",
            )
            tokens.append(created.token)
        return tokens
    finally:
        await db.dispose()


def wrk(
    url: str, seconds: int, connections: int, script: Path | None = None, headers: dict[str, str] | None = None
) -> dict[str, float]:
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct, value, unit in re.findall(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        figures[f"p{pct}_ms"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    figures["non2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    figures["requests"] = float(re.search(r"(\d+) requests in", out).group(1))
    return figures


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("serve exited early")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("service did not become ready")


@contextmanager
def bench_database(prefix: str) -> Iterator[tuple[Path, str, str]]:
    """A work directory and a migrated database — `SCHOOLGATE_BENCH_DATABASE_URL` (an owner
    URL of an empty database) or an embedded PostgreSQL inside the work directory — as
    (work directory, owner URL, app-role URL). Both go away at the end."""
    work = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        external = os.environ.get("SCHOOLGATE_BENCH_DATABASE_URL")
        if external:
            server = nullcontext(external)
        else:
            from service.db.embedded import embedded_postgres

            server = embedded_postgres(work / "pg")
        with server as owner_url:
            upgrade(owner_url, "head", "schoolgate_app")
            yield work, owner_url, as_role(owner_url, "schoolgate_app")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vendors", type=int, default=20_000)
    parser.add_argument("--entries-per-vendor", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--settle",
        type=float,
        default=8.0,
        help="seconds to wait after the server is ready: its worker reads every vendor into its "
        "lookup cache after start (docs/lookup.md), which would otherwise share the core with "
        "the reference run",
    )
    parser.add_argument("--profile", type=Path, help="directory for py-spy's raw stacks of one more lookup run")
    args = parser.parse_args()
    for tool in ("wrk", "taskset", *(["py-spy"] if args.profile else [])):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (Debian: apt-get install {'wrk' if tool == 'wrk' else 'util-linux'})")

    with bench_database("schoolgate-bench-") as (work, owner_url, app_url):
        started = time.monotonic()
        codes = asyncio.run(load(owner_url, args.vendors, args.entries_per_vendor))
        tokens = asyncio.run(school_tokens(app_url, SCHOOLS))
        print(
            f"# loaded {len(codes)} vendors, {len(codes) * args.entries_per_vendor} whitelist entries "
            f"in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
        codes_file, tokens_file, script = work / "codes.txt", work / "tokens.txt", work / "lookup.lua"
        codes_file.write_text("\n".join(codes) + "\n")
        tokens_file.write_text("\n".join(tokens) + "\n")
        script.write_text(LUA % {"codes": codes_file, "tokens": tokens_file, "seed": 7})

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGATE_")}
        env.update(
            SCHOOLGATE_DATABASE_URL=app_url,
            SCHOOLGATE_MIGRATION_DATABASE_URL=owner_url,
            SCHOOLGATE_DATA_DIR=str(work / "var"),
            SCHOOLGATE_LOG_FORMAT="json",
            SCHOOLGATE_LOOKUP_RATE_PER_MINUTE=str(10**9),
        )
        server = subprocess.Popen(
            ["taskset", "-c", "0", SCHOOLGATE, "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from reference import alternate, reference_server, report, with_cpu

        try:
            wait_ready(port, server)
            time.sleep(args.settle)
            base = f"http://127.0.0.1:{port}"
            auth = {"Authorization": f"Bearer {tokens[0]}"}
            with reference_server(free_port()) as (bare_url, bare_pid):

                def run(url, **kwargs):
                    return with_cpu(
                        lambda seconds=args.duration: wrk(url, seconds, args.connections, **kwargs), server.pid
                    )

                reference = with_cpu(lambda seconds=args.duration: wrk(bare_url, seconds, args.connections), bare_pid)
                measures = {
                    "healthz": run(f"{base}/healthz"),
                    "me": run(f"{base}/api/v1/me", headers=auth),
                    "lookup": run(base, script=script),
                }
                for measure in (reference, *measures.values()):
                    measure(args.warmup)
                before = asyncio.run(_count_receipts(owner_url))
                summary = alternate(reference, measures, args.rounds)
                stored = asyncio.run(_count_receipts(owner_url)) - before
                if args.profile:
                    from bench_stack import profile, worker_pid

                    args.profile.mkdir(parents=True, exist_ok=True)
                    frames = profile(worker_pid(server), args.duration, measures["lookup"], args.profile / "lookup.txt")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        report("bare", summary["reference"])
        report("healthz", summary["healthz"])
        report("authenticated_me", summary["me"])
        lookup = summary["lookup"]
        report("vendor_lookup", lookup)
        print(
            f"vendor_lookup_goal_ratio 0.4 {'met' if lookup['ratio'] >= 0.4 else 'NOT met'} "
            f"(by CPU per request: {'met' if lookup['cpu_ratio'] >= 0.4 else 'NOT met'})"
        )
        print(f"vendor_lookup_non2xx {lookup['non2xx']:.0f}")
        print(f"vendor_lookup_receipts_stored {stored} of {lookup['requests']:.0f} answered")
        if args.profile:
            from bench_stack import print_profile

            print_profile("vendor_lookup", frames, ours=("service/",))
    return 0


async def _count_receipts(owner_url: str) -> int:
    conn = await asyncpg.connect(plain(owner_url))
    try:
        return await conn.fetchval("SELECT count(*) FROM lookup_receipts")
    finally:
        await conn.close()


if __name__ == "__main__":
    sys.exit(main())
