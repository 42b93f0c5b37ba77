"""Benchmark: import a 100,000-row results file end to end through the API.

Not collected by pytest (tests/bench is in norecursedirs). Run from the repository root:

    .venv/bin/python tests/bench/bench_import.py                 # 100,000 rows, CSV UTF-8
    .venv/bin/python tests/bench/bench_import.py --format xlsx   # or gb18030
    .venv/bin/python tests/bench/bench_import.py --rows 20000 --checks-per-person 1

It starts an embedded PostgreSQL (or uses --database-url / SCHOOLGATE_TEST_DATABASE_URL),
migrates a fresh database, and POSTs the file to /api/v1/checks/import through the ASGI
app (multipart parsing, decoding, validation, check digits, encryption, blind index,
COPY, each record's leaf hash, one audit event per import committing to every record,
commit). Then it COPYs the same
rows, as plain text columns, into an unindexed table, and prints one figure per line:

    rows_per_second, peak_rss_mb, copy_rows_per_second, ratio,
    app_cpu_seconds, postgres_cpu_seconds (local PostgreSQL processes only)

peak_rss_mb is the peak resident memory of this process (the app, the file and the
client); PostgreSQL runs in its own processes and is not counted. Two more lines isolate
the import itself: rss_before_import_mb (resident just before the POST, the generated
rows and the encoded file included) and import_peak_rss_mb (the peak during the POST,
after the kernel's peak counter was reset through /proc/self/clear_refs; absent where
that file cannot be written). Their difference is what the request and the import added.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK = "10X98765432"
HEADER = ["身份证号", "姓名", "查询类型", "查询结果", "查询日期", "查询编号", "有效期至"]
TYPES = ["违法犯罪记录查询", "性侵违法犯罪信息入职查询", "健康证明", "心理健康评估", "师德/品德考察"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def id_number(n: int) -> str:
    born = date(1960, 1, 1) + timedelta(days=n % 15000)
    body = f"3601{(n // 15000) % 100:02d}{born:%Y%m%d}{n % 1000:03d}"
    return body + RIC_CHECK[sum(int(c) * w for c, w in zip(body, RIC_WEIGHTS)) % 11]


def make_rows(total: int, per_person: int) -> list[list[str]]:
    today = date.today()
    rows = []
    for i in range(total):
        person = i // per_person
        query = today - timedelta(days=1 + i % 200)
        rows.append(
            [
                id_number(person),
                SURNAMES[person % 20] + "某" + "甲乙丙丁戊"[person % 5],
                TYPES[i % per_person],
                "无犯罪记录",
                query.isoformat(),
                f"JX{today:%Y}{i:08d}",
                "",
            ]
        )
    return rows


def encode(rows: list[list[str]], kind: str) -> tuple[bytes, str]:
    if kind == "xlsx":
        import openpyxl

        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue(), "results.xlsx"
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    encoding = "gb18030" if kind == "gb18030" else "utf-8-sig"
    return text.getvalue().encode(encoding), "results.csv"


def _stat(pid: int | str) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()  # fields from the state on


def _status_mb(field: str) -> float | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def reset_peak_rss() -> bool:
    """Reset this process's peak resident size (Linux: "5" to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def postgres_cpu_seconds(postmaster: int | None) -> float | None:
    """CPU time of this database server: its postmaster and every process it forked
    (None when the server is not on this machine). Other servers on the machine — other
    work sharing it — are not counted."""
    if postmaster is None or _stat(postmaster) is None:
        return None
    ticks = 0
    for entry in Path("/proc").iterdir():
        fields = _stat(entry.name) if entry.name.isdigit() else None
        if fields and (entry.name == str(postmaster) or fields[1] == str(postmaster)):
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def run(args, url: str) -> None:
    import asyncpg
    import httpx

    from service.accounts.services import create_account
    from service.app import create_app
    from service.config import Settings
    from service.db.engine import Database
    from service.db.migrate import upgrade
    from service.security.actor import Actor
    from tests.conftest import plain_dsn, with_database

    name = f"sg_bench_{os.getpid()}"
    admin = await asyncpg.connect(plain_dsn(with_database(url, "postgres")))
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {name}")
    bench_url = with_database(url, name)
    await asyncio.to_thread(upgrade, bench_url)

    backend = await admin.fetchval("SELECT pg_backend_pid()")
    parent = _stat(backend)
    postmaster = int(parent[1]) if parent else None  # None: the server is elsewhere
    rows = make_rows(args.rows, args.checks_per_person)
    content, filename = encode(rows, args.format)
    data_dir = Path(tempfile.mkdtemp(prefix="schoolgate-bench-"))
    db = Database(bench_url)
    try:
        app = create_app(Settings(data_dir=data_dir, log_format="json", log_level="warning"), db=db)
        created = await create_account(db, Actor.system(), role="reviewer", name="bench reviewer", region_code="360100")
        headers = {"Authorization": f"Bearer {created.token}"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=600
        ) as client:
            consent = await client.post(
                "/api/v1/consents",
                headers=headers,
                data={"title": "批量查询授权函"},
                files={"file": ("a.pdf", b"%PDF-1.4\n%bench\n", "application/pdf")},
            )
            consent.raise_for_status()
            rss_before = _status_mb("VmRSS")
            peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the reset clears it too
            peak_reset = reset_peak_rss()
            cpu_before = resource.getrusage(resource.RUSAGE_SELF), postgres_cpu_seconds(postmaster)
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/checks/import",
                headers=headers,
                data={"consent_document_id": consent.json()["id"]},
                files={"file": (filename, content, "application/octet-stream")},
            )
            elapsed = time.perf_counter() - started
            app_after, postgres_after = resource.getrusage(resource.RUSAGE_SELF), postgres_cpu_seconds(postmaster)
            import_peak = _status_mb("VmHWM") if peak_reset else None
        if response.status_code != 201 or response.json()["imported"] != args.rows:
            raise SystemExit(f"import failed: {response.status_code} {response.text[:500]}")
        peak_rss_mb = max(peak_before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

        conn = await asyncpg.connect(plain_dsn(bench_url))
        try:
            await conn.execute(
                "CREATE UNLOGGED TABLE IF NOT EXISTS copy_baseline (id_number text, name text, "
                "check_type text, result text, query_date text, reference text, valid_until text)"
            )
            copy_started = time.perf_counter()
            await conn.copy_records_to_table("copy_baseline", records=[tuple(r) for r in rows])
            copy_elapsed = time.perf_counter() - copy_started
            audited = await conn.fetchval("SELECT count(*) FROM audit_events WHERE action = 'personnel:check:import'")
            committed = await conn.fetchval("SELECT sum(records) FROM check_imports")
            leaves = await conn.fetchval("SELECT count(import_leaf) FROM background_checks")
        finally:
            await conn.close()
        if audited != 1 or committed != args.rows or leaves != args.rows:
            raise SystemExit(
                f"expected one audit event committing to {args.rows} records, found {audited} "
                f"event(s), {committed} committed, {leaves} with a leaf"
            )
    finally:
        await db.dispose()
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()
        shutil.rmtree(data_dir, ignore_errors=True)

    app_cpu = (app_after.ru_utime + app_after.ru_stime) - (cpu_before[0].ru_utime + cpu_before[0].ru_stime)
    rows_per_second = args.rows / elapsed
    copy_rows_per_second = args.rows / copy_elapsed
    print(
        f"# {args.rows} rows, {args.checks_per_person} checks per person, {args.format}, "
        f"{len(content) / 1e6:.1f} MB, import {elapsed:.2f} s",
        file=sys.stderr,
    )
    print(f"rows_per_second {rows_per_second:.0f}")
    print(f"peak_rss_mb {peak_rss_mb:.0f}")
    if rss_before is not None:
        print(f"rss_before_import_mb {rss_before:.0f}")
    if import_peak is not None:
        print(f"import_peak_rss_mb {import_peak:.0f}")
    print(f"copy_rows_per_second {copy_rows_per_second:.0f}")
    print(f"ratio {rows_per_second / copy_rows_per_second:.3f}")
    # Where the import's time went: this process (app + client) and PostgreSQL's processes.
    print(f"app_cpu_seconds {app_cpu:.2f}")
    if postgres_after is not None and cpu_before[1] is not None:
        print(f"postgres_cpu_seconds {postgres_after - cpu_before[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--checks-per-person", type=int, default=2, choices=range(1, 6))
    parser.add_argument("--format", choices=("csv", "gb18030", "xlsx"), default="csv")
    parser.add_argument("--database-url", default=os.environ.get("SCHOOLGATE_TEST_DATABASE_URL"))
    args = parser.parse_args()
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    if args.database_url:
        asyncio.run(run(args, args.database_url))
        return
    from service.db.embedded import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="schoolgate-bench-pg-"))
    try:
        with embedded_postgres(root / "pg") as url:
            asyncio.run(run(args, url))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
