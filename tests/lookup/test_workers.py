"""`schoolgate serve --workers 4` as real processes on one PostgreSQL: a revocation is
seen by every worker's next lookup within a second, and the rate limit holds across
workers (and ignores a forged X-Forwarded-For)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from datetime import timedelta

import psutil
import pytest

from service.timeutil import today_in_china
from tests.cli.test_serve import SCHOOLGATE, free_port, wait_ready
from tests.lookup.rawhttp import Connection

WORKERS = 4
RATE = 60
BAN = (today_in_china() + timedelta(days=30)).isoformat()


@pytest.fixture
def server(owner_url, database_url, tmp_path_factory):
    port = free_port()
    data_dir = tmp_path_factory.mktemp("workers") / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGATE_")}
    env.update(
        SCHOOLGATE_DATABASE_URL=database_url,
        SCHOOLGATE_MIGRATION_DATABASE_URL=owner_url,
        SCHOOLGATE_DATA_DIR=str(data_dir),
        SCHOOLGATE_LOG_FORMAT="json",
        SCHOOLGATE_LOG_LEVEL="warning",
        SCHOOLGATE_LOOKUP_RATE_PER_MINUTE=str(RATE),
    )
    process = subprocess.Popen(
        [SCHOOLGATE, "serve", "--port", str(port), "--workers", str(WORKERS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process, port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def worker_of(server_pid: int, port: int, local_port: int) -> int | None:
    """The pid of the worker process holding the server side of a client connection."""
    for child in psutil.Process(server_pid).children(recursive=True):
        try:
            for conn in child.net_connections(kind="tcp"):
                if conn.laddr and conn.raddr and conn.laddr.port == port and conn.raddr.port == local_port:
                    return child.pid
        except psutil.NoSuchProcess:
            continue
    return None


async def connections_on_every_worker(server_pid: int, port: int, patience: float = 45) -> dict[Connection, int]:
    """Open keep-alive connections, a few at once (the kernel hands each to whichever
    worker waits in accept first; a worker still starting takes none), until every worker
    holds one; close the extra ones."""
    owners: dict[Connection, int] = {}
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        for conn in list(owners):  # keep the ones found alive (the server closes idle ones after a few seconds)
            try:
                assert (await conn.get("/healthz")).status == 200
            except (ConnectionError, asyncio.IncompleteReadError):
                del owners[conn]
        batch = await asyncio.gather(*(Connection.open("127.0.0.1", port) for _ in range(8)))
        for conn in batch:
            assert (await conn.get("/healthz")).status == 200  # accepted by some worker once it answers
            owner = worker_of(server_pid, port, conn.local_port)
            assert owner is not None
            if owner in owners.values():
                await conn.close()
            else:
                owners[conn] = owner
        if len(owners) == WORKERS:
            return owners
        await asyncio.sleep(0.2)
    raise AssertionError(f"only {len(owners)} of {WORKERS} workers accepted connections")


async def _wait_until_ready(process, port) -> None:
    await asyncio.to_thread(wait_ready, port, process)


async def test_revocation_reaches_every_worker_and_the_rate_limit_is_shared(wl, server):
    process, port = server
    vendor, _ = await wl.approved()
    school, counted = await wl.school("360104"), await wl.school("360104")
    first, second = await wl.reviewer("360104"), await wl.reviewer("360104")
    await _wait_until_ready(process, port)

    path = f"/api/v1/lookup/vendors/{vendor.credit_code}"
    owners = await connections_on_every_worker(process.pid, port)
    try:
        for conn in owners:  # every worker answers, and says active
            reply = await conn.get(path, school)
            assert reply.status == 200 and reply.json()["status"] == "active", reply.body
        request = (await wl.adjust(first, action="revoke", reason="撤销", vendor_id=vendor.id, ban_until=BAN)).json()
        confirmed = await wl.confirm(second, request["request"]["id"])
        assert confirmed.status_code == 200, confirmed.text
        revoked_at = time.monotonic()
        replies = await asyncio.gather(*(conn.get(path, school) for conn in owners))
        elapsed = time.monotonic() - revoked_at
        seen = {owners[conn]: reply.json()["status"] for conn, reply in zip(owners, replies)}
        assert len(seen) == WORKERS and set(seen.values()) == {"revoked"}, seen
        assert elapsed < 1.0
    finally:
        for conn in owners:
            await conn.close()

    # The rate limit: RATE lookups a minute for the account, whichever worker answers.
    if time.time() % 60 > 45:  # keep the burst inside one window
        await asyncio.sleep(61 - time.time() % 60)
    statuses, workers = [], set()
    for index in range(RATE + 10):
        conn = await Connection.open("127.0.0.1", port)
        try:
            reply = await conn.get(path, counted | {"X-Forwarded-For": f"198.51.100.{index}"})
            workers.add(worker_of(process.pid, port, conn.local_port))
        finally:
            await conn.close()
        statuses.append(reply.status)
        if reply.status == 429:
            assert 1 <= int(reply.headers["retry-after"]) <= 60
    assert statuses.count(200) == RATE and statuses.count(429) == 10 and statuses[-1] == 429
    assert len(workers - {None}) >= 2  # the count really was shared by several processes


async def test_a_revoked_token_is_refused_by_every_workers_next_lookup(wl, server):
    """Each worker caches the actor of a token it has seen; the receipt store re-validates
    the token in PostgreSQL, so a revocation made through one worker is refused by the
    next lookup of every worker (and stores nothing)."""
    process, port = server
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    await _wait_until_ready(process, port)
    path = f"/api/v1/lookup/vendors/{vendor.credit_code}"
    owners = await connections_on_every_worker(process.pid, port)
    try:
        for conn in owners:  # every worker has now authenticated (and cached) the token
            assert (await conn.get(path, school)).status == 200
        revoked = await wl.client.delete("/api/v1/tokens/current", headers=school)
        assert revoked.status_code in (200, 204), revoked.text
        replies = await asyncio.gather(*(conn.get(path, school) for conn in owners))
        assert [r.status for r in replies] == [401] * WORKERS, [(r.status, r.body) for r in replies]
    finally:
        for conn in owners:
            await conn.close()
