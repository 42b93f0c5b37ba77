"""Benchmark the webhook fan-out of one revocation to many subscribed schools.

    python tests/bench/bench_webhooks.py [--schools 500] [--fail-share 0.5] [--retry-base 0.05]

1. starts an embedded PostgreSQL (or SCHOOLGATE_BENCH_DATABASE_URL), migrates it, and
   builds the app in-process with an allow-list admitting 127.0.0.1 (allowed network
   127.0.0.0/8) and the given retry base;
2. through the API: one vendor admitted through the real review, one cleared person, a
   term, and `--schools` schools, each ordering the item (accepted by the vendor) and
   subscribing a webhook to one local receiver: its own process
   (tests/bench/webhook_receiver.py, asyncio), pinned to core 1 when `taskset` exists, so
   the figure is the dispatcher's (`--threaded-receiver`: the tests' stdlib threaded
   receiver, in-process, instead);
3. one revocation (requested and confirmed by two reviewers), then the dispatcher's own
   steps until every delivery is settled. The receiver answers 500 to the first attempt
   of a `--fail-share` of the deliveries (chosen by the delivery id's hash), 204 otherwise.

Prints: the fan-out time (outbox row → deliveries queued), the delivery time and
deliveries per second (first POST to the last acknowledged), the attempts, and the
check that none was lost: every queued delivery acknowledged exactly once by the
receiver and `delivered` in the log, one per school.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())

from sqlalchemy import text  # noqa: E402

from service.app import create_app  # noqa: E402
from service.config import Settings  # noqa: E402
from service.db.engine import Database  # noqa: E402
from service.db.migrate import upgrade  # noqa: E402
from service.db.roles import as_role  # noqa: E402
from service.orders import order_standings  # noqa: E402
from service.timeutil import today_in_china  # noqa: E402
from service.webhooks import jobs  # noqa: E402
from service.webhooks.delivery import new_client  # noqa: E402
from service.webhooks.fanout import fanout_round  # noqa: E402
from tests.conftest import Accounts  # noqa: E402
from tests.orders.conftest import OrdersWorld  # noqa: E402
from tests.webhooks.receiver import Receiver  # noqa: E402


async def build(world: OrdersWorld, schools: int, url: str) -> list:
    vendor, entries = await world.approved()
    person = await world.cleared_person(vendor)
    term = await world.term()
    made = []
    for _ in range(schools):
        school = await world.new_school()
        placed = (await world.place(school, world.order_payload(term, entries[0], [person]))).json()
        accepted = await world.order_act(placed, vendor.headers, "accept")
        assert accepted.status_code == 200, accepted.text
        hook = await world.client.post(
            f"/api/v1/schools/{school.code}/webhooks", json={"url": url}, headers=school.headers
        )
        assert hook.status_code == 201, hook.text
        made.append(school)
    return entries


async def revoke(world: OrdersWorld, entry: dict) -> None:
    first, second = await world.reviewer("360104"), await world.reviewer("360104")
    ban = (today_in_china() + timedelta(days=365)).isoformat()
    requested = await world.adjust(
        first, action="revoke", reason="多次投诉查实，撤销", entry_ids=[entry["id"]], ban_until=ban
    )
    confirmed = await world.confirm(second, requested.json()["request"]["id"], reason="复核属实")
    assert confirmed.status_code == 200, confirmed.text


class ProcessReceiver:
    """tests/bench/webhook_receiver.py in its own process."""

    def __init__(self, share: float) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        command = [sys.executable, str(Path(__file__).with_name("webhook_receiver.py")), str(self.port), str(share)]
        if shutil.which("taskset"):
            command = ["taskset", "-c", "1", *command]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready"
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def attempts(self) -> dict[str, list[int]]:
        return json.loads(httpx.get(f"http://127.0.0.1:{self.port}/stats").text)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def run(args, url: str) -> None:
    await asyncio.to_thread(upgrade, url, "head")
    app_url = as_role(url, "schoolgate_app")
    db = Database(app_url, pool_size=5)
    data = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    settings = Settings(
        database_url=None,
        data_dir=data,
        log_format="json",
        log_level="warning",
        webhook_allowed_hosts=("127.0.0.1",),
        webhook_allowed_networks=("127.0.0.0/8",),
        webhook_retry_base=args.retry_base,
    )
    app = create_app(settings, db=db)
    threshold = int(args.fail_share * 256)
    receiver = (
        Receiver(fail_first=lambda d: hashlib.sha256(d.encode()).digest()[0] < threshold).start()
        if args.threaded_receiver
        else ProcessReceiver(args.fail_share)
    )
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            world = OrdersWorld(client, Accounts(db), db)
            started = time.perf_counter()
            entries = await build(world, args.schools, receiver.url)
            print(f"setup_seconds {time.perf_counter() - started:.1f} ({args.schools} schools, orders, webhooks)")
            async with db.transaction() as session:  # the setup's own changes, before the measured one
                await session.exec(text("DELETE FROM standing_changes"))
            await revoke(world, entries[0])
        policy = jobs.policy_from(settings)
        started = time.perf_counter()
        fanned = await fanout_round(db, order_standings)
        fan_seconds = time.perf_counter() - started
        print(f"fanout_seconds {fan_seconds:.3f} ({fanned.deliveries} deliveries queued from {fanned.changes} change)")
        started = time.perf_counter()
        async with new_client(policy) as http:
            while True:
                await jobs.dispatch(db, app.state.keyring, order_standings, http, policy)
                async with db.transaction() as session:
                    pending = (
                        await session.exec(text("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"))
                    ).one()[0]
                if not pending:
                    break
                await asyncio.sleep(args.retry_base / 2)
        seconds = time.perf_counter() - started
        async with db.transaction() as session:
            rows = (await session.exec(text("SELECT id::text, status, attempts FROM webhook_deliveries"))).all()
        if isinstance(receiver, ProcessReceiver):
            seen = receiver.attempts()
            acknowledged = [d for d, statuses in seen.items() for s in statuses if s == 204]
            failed_first = sum(1 for statuses in seen.values() if statuses[0] == 500)
        else:
            acknowledged = receiver.delivered_ids()
            failed_first = sum(1 for r in receiver.requests if r.answered == 500)
        delivered = [r for r in rows if r[1] == "delivered"]
        print(f"deliveries {len(rows)} delivered {len(delivered)} in {seconds:.3f} s")
        print(f"deliveries_per_second {len(delivered) / seconds:.0f}")
        print(f"end_to_end_per_second {len(delivered) / (seconds + fan_seconds):.0f} (fan-out included)")
        print(
            f"attempts {sum(r[2] for r in rows)} (first attempts failed by the receiver: {failed_first}, "
            f"share {failed_first / max(len(rows), 1):.2f}; retry base {args.retry_base} s)"
        )
        lost = {r[0] for r in rows} - set(acknowledged)
        twice = len(acknowledged) - len(set(acknowledged))
        ok = not lost and len(rows) == args.schools == len(delivered) and twice == 0
        print(f"none_lost {'met' if ok else 'NOT met'} (lost {len(lost)}, acknowledged twice {twice})")
    finally:
        receiver.stop()
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=500)
    parser.add_argument("--fail-share", type=float, default=0.5)
    parser.add_argument("--retry-base", type=float, default=0.05)
    parser.add_argument("--threaded-receiver", action="store_true", help="the tests' stdlib receiver, in-process")
    args = parser.parse_args()
    external = os.environ.get("SCHOOLGATE_BENCH_DATABASE_URL")
    if external:
        asyncio.run(run(args, external))
        return
    from service.db.embedded import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="bench-webhooks-pg-"))
    with embedded_postgres(root / "pg") as url:
        asyncio.run(run(args, url))


if __name__ == "__main__":
    main()
