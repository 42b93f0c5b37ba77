"""Benchmark the orders read paths at scale: a school's order list with standings, the
region dashboard, and a revocation showing on the very next read.

    python tests/bench/bench_orders.py [--vendors 20000] [--schools 2000] [--people 200000]
                                       [--orders 100000] [--reads 400] [--dashboards 20]

What it does:

1. starts an embedded PostgreSQL (or SCHOOLGATE_BENCH_DATABASE_URL), migrates it, and
   bulk-loads with COPY (never through the API): `--vendors` whitelisted vendors with two
   items each, one listed in the vendor's county and one in its city (bench_lookup.load);
   `--people` people, ten per vendor, each engaged by one vendor with the five checks
   recorded clear (one in ten checked 350 days ago, so their clearance ends within 30
   days: those orders are `at_risk`); `--schools` schools spread over the counties that
   have vendors; one provincial term in progress; `--orders` accepted orders, each of a
   school for an item of a vendor of its county naming one or two of that vendor's
   people; then ANALYZE;
2. through the API in process (httpx over ASGI, the real app and its access rules, one
   school token per school read): `GET /api/v1/schools/{code}/orders?term=` for
   `--reads` random schools, sequentially — p50, p99, max;
3. `GET /api/v1/regions/{code}/dashboard` for the county with the most orders and for its
   city, `--dashboards` times each — median and max;
4. revokes the city-level entry of the vendor with the most orders there (four eyes: the
   city reviewer asks, the province confirms, as the API requires), then at once reads
   the order list of every affected school: every order of that item must be `blocked`
   with `item_revoked`, and no other order may have changed standing.

Prints one figure per line and `..._goal ... met|NOT met` for the issue's goals: order
list p99 ≤ 50 ms, county dashboard ≤ 300 ms, a revocation on the very next read.
A full run takes a few minutes on two cores; `--orders 20000 --people 40000
--vendors 4000 --schools 400` is a quick look.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import random
import statistics
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lookup import bench_database, load, plain  # noqa: E402
from bench_people import id_number, person_name  # noqa: E402
from reference import copy_staff  # noqa: E402

from service.accounts.services import create_account  # noqa: E402
from service.app import create_app  # noqa: E402
from service.config import Settings  # noqa: E402
from service.db.engine import Database  # noqa: E402
from service.identifiers.id_number import describe_normalized, mask_id_number  # noqa: E402
from service.personnel.models import CHECK_TYPES  # noqa: E402
from service.personnel.people import ID_NUMBER_PURPOSE  # noqa: E402
from service.regions.directory import regions  # noqa: E402
from service.security.actor import Actor  # noqa: E402
from service.security.keyring import Keyring, new_key_document  # noqa: E402
from service.timeutil import today_in_china  # noqa: E402

PER_VENDOR = 10
CHUNK = 50_000


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def goal(name: str, target: str, ok: bool) -> None:
    print(f"{name}_goal {target} {'met' if ok else 'NOT met'}")


async def load_world(owner_url: str, args, keyring: Keyring) -> dict:
    """Everything of step 1; returns what the reads need (schools, their orders' items)."""
    t0 = time.monotonic()
    await load(owner_url, args.vendors, 2)
    conn = await asyncpg.connect(plain(owner_url))
    rng = random.Random(15)
    now = datetime.now(UTC)
    today = today_in_china()
    try:
        vendors = await conn.fetch("SELECT id, region_code FROM vendors ORDER BY id")
        items = defaultdict(list)
        for row in await conn.fetch("SELECT id, vendor_id, fee, fee_unit FROM service_items ORDER BY activity"):
            items[row["vendor_id"]].append(row)
        by_county = defaultdict(list)
        for v in vendors:
            by_county[v["region_code"]].append(v["id"])
        consent_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO consent_documents (id, kind, region_code, title, sha256, size, content_type, filename, "
            "uploaded_at) VALUES ($1, 'bureau_authorisation', '360000', '基准测试授权函', $2, 1000, "
            "'application/pdf', 'consent.pdf', now())",
            consent_id,
            "0" * 64,
        )

        # People: ten per vendor; the tenth of each vendor checked 350 days ago (ends soon).
        staff: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for lo in range(0, args.people, CHUNK):
            people, checks, engagements = [], [], []
            for n in range(lo, min(args.people, lo + CHUNK)):
                number, person_id = id_number(n), uuid.uuid4()
                vendor_id = vendors[n % len(vendors)]["id"]
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
                queried = today - timedelta(days=350 if (n // len(vendors)) % PER_VENDOR == 9 else 10)
                for check_type in CHECK_TYPES:
                    checks.append(
                        (uuid.uuid4(), person_id, check_type, "clear", queried, f"B-{n}", "公安机关", consent_id, now)
                    )
                engagements.append((uuid.uuid4(), person_id, vendor_id, "lead_instructor", date(2025, 9, 1), now))
                staff[vendor_id].append(person_id)
            await copy_staff(conn, people, checks, engagements)

        # Schools over the counties with vendors, and one provincial term in progress.
        counties = sorted(by_county)
        schools = []
        for i in range(args.schools):
            county = counties[i % len(counties)]
            schools.append((uuid.uuid4(), f"{county}{i // len(counties):04d}", f"基准测试学校{i:04d}", county, now))
        await conn.copy_records_to_table(
            "schools", records=schools, columns=["id", "code", "name", "region_code", "created_at"]
        )
        term_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO terms (id, region_code, name, starts_on, ends_on, timetable_due_on, "
            "created_at) VALUES ($1, '360000', '2026-2027 学年第一学期', $2, $3, $4, now())",
            term_id,
            today - timedelta(days=20),
            today + timedelta(days=120),
            today + timedelta(days=10),
        )

        # Orders: each of a school for an item of a vendor of its county, naming its people.
        orders, named = [], []
        per_school = args.orders // len(schools)
        for k, (school_id, _, _, county, _) in enumerate(schools):
            for j in range(per_school + (1 if k < args.orders % len(schools) else 0)):
                vendor_id = rng.choice(by_county[county])
                item = items[vendor_id][j % 2]
                order_id = uuid.uuid4()
                start = clock(15 + j % 3, 40)
                orders.append(
                    (
                        order_id,
                        school_id,
                        term_id,
                        item["id"],
                        vendor_id,
                        county,
                        [1 + j % 5],
                        start,
                        clock(start.hour + 1, 30),
                        "教室",
                        30,
                        ["upper_primary"],
                        item["fee"],
                        item["fee_unit"],
                        "accepted",
                        2,
                        now,
                        now,
                    )
                )
                for position, person_id in enumerate(rng.sample(staff[vendor_id], 1 + j % 2)):
                    named.append((order_id, person_id, position))
        await conn.copy_records_to_table(
            "school_orders",
            records=orders,
            columns=[
                "id",
                "school_id",
                "term_id",
                "service_item_id",
                "vendor_id",
                "region_code",
                "weekdays",
                "start_time",
                "end_time",
                "venue",
                "class_size",
                "grade_bands",
                "fee",
                "fee_unit",
                "state",
                "version",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "school_order_people", records=named, columns=["order_id", "person_id", "position"]
        )
        # As a settled database would be: hint bits set and the visibility map written now,
        # not by the first reads (nor by an autovacuum during the measurement).
        await conn.execute("VACUUM (FREEZE, ANALYZE)")
    finally:
        await conn.close()
    print(f"loaded_vendors {args.vendors}")
    print(f"loaded_people {args.people}")
    print(f"loaded_schools {len(schools)}")
    print(f"loaded_orders {len(orders)}")
    print(f"load_seconds {time.monotonic() - t0:.0f}")
    return {"schools": schools, "term_id": term_id}


async def token(db: Database, role: str, **scope) -> dict[str, str]:
    created = await create_account(db, Actor.system(), role=role, name=f"基准测试{role}", **scope)
    return {"Authorization": f"Bearer {created.token}"}


async def order_lists(http: httpx.AsyncClient, db: Database, schools: list, term_id, reads: int) -> None:
    rng = random.Random(7)
    chosen = rng.sample(schools, min(reads, len(schools)))
    headers = {s[1]: await token(db, "school", region_code=s[3], school_code=s[1]) for s in chosen}
    for s in chosen[:5]:  # warm the pool and the plans
        await http.get(f"/api/v1/schools/{s[1]}/orders", params={"term": str(term_id)}, headers=headers[s[1]])
    times, sizes, standings = [], [], Counter()
    for s in chosen:
        t0 = time.perf_counter()
        response = await http.get(
            f"/api/v1/schools/{s[1]}/orders", params={"term": str(term_id)}, headers=headers[s[1]]
        )
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        sizes.append(len(items))
        standings.update(o["standing"] for o in items)
    print(f"order_list_reads {len(times)}")
    print(f"order_list_orders_per_school {statistics.mean(sizes):.0f}")
    print(f"order_list_standings {dict(standings)}")
    print(f"order_list_p50_ms {ms(statistics.median(times))}")
    print(f"order_list_p99_ms {ms(p99(times))}")
    print(f"order_list_max_ms {ms(max(times))}")
    goal("order_list_p99", "<=50ms", p99(times) <= 0.050)


async def dashboards(http: httpx.AsyncClient, db: Database, owner_url: str, repeats: int) -> str:
    conn = await asyncpg.connect(plain(owner_url))
    try:
        county = (
            await conn.fetchrow("SELECT region_code, count(*) FROM school_orders GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        )["region_code"]
    finally:
        await conn.close()
    city = regions().get(county).parent_code
    for level, code in (("county", county), ("city", city)):
        headers = await token(db, "reviewer", region_code=code)
        await http.get(f"/api/v1/regions/{code}/dashboard", headers=headers)  # warm
        times, body = [], {}
        for _ in range(repeats):
            t0 = time.perf_counter()
            response = await http.get(f"/api/v1/regions/{code}/dashboard", headers=headers)
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.text
            body = response.json()
        print(
            f"dashboard_{level} {code} orders {sum(body['orders_by_standing'].values())} "
            f"{body['orders_by_standing']} schools {body['schools']}"
        )
        print(f"dashboard_{level}_median_ms {ms(statistics.median(times))}")
        print(f"dashboard_{level}_max_ms {ms(max(times))}")
        if level == "county":
            goal("dashboard_county", "<=300ms", max(times) <= 0.300)
    return city


async def revocation(http: httpx.AsyncClient, db: Database, owner_url: str, city: str) -> None:
    conn = await asyncpg.connect(plain(owner_url))
    try:
        row = await conn.fetchrow(
            "SELECT o.service_item_id, e.id AS entry_id, count(*) FROM school_orders o "
            "JOIN whitelist_entries e ON e.service_item_id = o.service_item_id AND e.region_code = $1 "
            "GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1",
            city,
        )
        affected = await conn.fetch(
            "SELECT DISTINCT s.code, s.region_code FROM school_orders o "
            "JOIN schools s ON s.id = o.school_id WHERE o.service_item_id = $1",
            row["service_item_id"],
        )
    finally:
        await conn.close()
    schools = {
        r["code"]: await token(db, "school", region_code=r["region_code"], school_code=r["code"]) for r in affected
    }
    before = {}
    for code, headers in schools.items():
        items = (await http.get(f"/api/v1/schools/{code}/orders", headers=headers)).json()["items"]
        before |= {o["id"]: o["standing"] for o in items}
    asker, confirmer = await token(db, "reviewer", region_code=city), await token(db, "reviewer", region_code="360000")
    asked = await http.post(
        "/api/v1/whitelist/actions",
        headers=asker,
        json={
            "action": "revoke",
            "reason": "基准测试：撤销该服务项目",
            "entry_ids": [str(row["entry_id"])],
            "ban_until": (today_in_china() + timedelta(days=365)).isoformat(),
        },
    )
    assert asked.status_code == 200, asked.text
    t0 = time.perf_counter()
    confirmed = await http.post(
        f"/api/v1/whitelist/requests/{asked.json()['request']['id']}/confirm",
        headers=confirmer,
        json={"reason": "核实无误"},
    )
    assert confirmed.status_code == 200, confirmed.text
    revoked_at = time.perf_counter()
    blocked, wrong, unchanged_others, changed_others = 0, 0, 0, 0
    for code, headers in schools.items():
        for o in (await http.get(f"/api/v1/schools/{code}/orders", headers=headers)).json()["items"]:
            if o["service_item_id"] == str(row["service_item_id"]):
                ok = o["standing"] == "blocked" and "item_revoked" in {r["code"] for r in o["standing_reasons"]}
                blocked, wrong = blocked + ok, wrong + (not ok)
            elif o["standing"] == before[o["id"]]:
                unchanged_others += 1
            else:
                changed_others += 1
    print(f"revocation_confirm_ms {ms(revoked_at - t0)}")
    print(f"revocation_affected_orders {row['count']} schools {len(schools)}")
    print(f"revocation_blocked_on_next_read {blocked} not_blocked {wrong}")
    print(f"revocation_other_orders_unchanged {unchanged_others} changed {changed_others}")
    goal("revocation_next_read", "all affected blocked", wrong == 0 and blocked == row["count"] and changed_others == 0)


async def run(args, work: Path, owner_url: str, app_url: str) -> None:
    keyring = Keyring.from_document(new_key_document())
    world = await load_world(owner_url, args, keyring)
    db = Database(app_url, pool_size=5)
    app = create_app(Settings(database_url=app_url, data_dir=work / "data", log_format="json"), db=db)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=60
        ) as http:
            profile = cProfile.Profile() if args.profile else None
            if profile:
                profile.enable()
            await order_lists(http, db, world["schools"], world["term_id"], args.reads)
            city = await dashboards(http, db, owner_url, args.dashboards)
            if profile:
                profile.disable()
                profile.dump_stats(args.profile)
            await revocation(http, db, owner_url, city)
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vendors", type=int, default=20_000)
    parser.add_argument("--schools", type=int, default=2_000)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=400)
    parser.add_argument("--dashboards", type=int, default=20)
    parser.add_argument("--profile", help="write cProfile stats of the reads to this file")
    args = parser.parse_args()
    with bench_database("bench-orders-") as (work, owner_url, app_url):  # migrates outside the loop
        asyncio.run(run(args, work, owner_url, app_url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
