"""A database outage is a 503 with `Retry-After`, logged once, bounded in time, and never
a way for personal data into the log, an error body or the database.

These tests stop, freeze and restart PostgreSQL, so they run on a server of their own
(tests/db/private_server.py), never the session's; every test leaves it running.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.accounts.services import create_account
from service.app import create_app
from service.config import Settings
from service.db.embedded import embedded_postgres
from service.db.engine import CLIENT_GRACE_SECONDS, Database
from service.db.migrate import upgrade
from service.db.roles import as_role
from service.security.actor import Actor
from tests.conftest import APP_ROLE, plain_dsn
from tests.db.private_server import PrivateServer
from tests.factories import vendor_payload

CANARY_NAME = "司徒雪樱"
CANARY_PHONE = "13987654321"
CANARY_ID = "360104199003071238"
CONNECT_TIMEOUT = 1.0
STATEMENT_TIMEOUT = 1.0
#: The longest a request may take on a frozen database: a new connection gives up after
#: the connect timeout; a pooled one after the statement timeout plus the client's grace,
#: and then hands its connection back within the connect timeout.
BOUND = CONNECT_TIMEOUT + STATEMENT_TIMEOUT + CLIENT_GRACE_SECONDS
SLACK = 2.0  # a loaded two-core machine; without the bounds these requests never end


def canary_forms() -> list[str]:
    """Each canary as written and as a JSON log line escapes it (\\uXXXX)."""
    values = [CANARY_NAME, CANARY_PHONE, CANARY_ID]
    return values + [json.dumps(value)[1:-1] for value in values]


def canary_vendor(**overrides) -> dict:
    return vendor_payload(
        legal_representative=CANARY_NAME,
        contact_phone=CANARY_PHONE,
        address=f"南昌市东湖区八一大道 1 号（法人身份证 {CANARY_ID}）",
        **overrides,
    )


def assert_no_canary(text: str, where: str) -> None:
    for form in canary_forms():
        assert form not in text, f"{form!r} found in {where}"


@pytest.fixture(scope="module")
def private_server():
    root = Path(tempfile.mkdtemp(prefix="schoolgate-outage-"))
    try:
        with embedded_postgres(root / "pg") as url:
            upgrade(url, "head", APP_ROLE)
            server = PrivateServer(root / "pg", url)
            try:
                yield server
            finally:
                # The tests restarted the server, so the embedded wheel's handle points at a
                # postmaster that is gone and its cleanup would leave this one running.
                if (root / "pg" / "postmaster.pid").exists():
                    server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def outage_app(private_server: PrivateServer, tmp_path: Path, capsys):
    """The app on the private server. `capsys` first: the standard library's log handler
    (SQLAlchemy's and asyncpg's pools) then writes where the test reads."""
    settings = Settings(
        data_dir=tmp_path / "data",
        log_format="json",
        db_connect_timeout=CONNECT_TIMEOUT,
        db_statement_timeout=STATEMENT_TIMEOUT,
        db_outage_log_interval=1.0,
    )
    db = Database.configured(as_role(private_server.url, APP_ROLE), settings)
    app = create_app(settings, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        created = await create_account(db, Actor.system(), role="admin", name=f"管理员{uuid.uuid4().hex[:6]}")
        yield client, {"Authorization": f"Bearer {created.token}"}, db
    await db.dispose()


class Logs:
    """Everything written to stderr, kept across reads."""

    def __init__(self, capsys) -> None:
        self.capsys = capsys
        self.text = ""

    def read(self) -> str:
        self.text += self.capsys.readouterr().err
        return self.text

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.read().splitlines() if line.startswith("{")]

    def events(self) -> list[str]:
        return [line.get("event") for line in self.lines()]


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "database_unavailable"
    assert int(response.headers["retry-after"]) > 0


async def test_database_stopped_mid_request_is_503_logged_once_and_leaves_no_personal_trace(
    outage_app, private_server, capsys
):
    client, headers, _db = outage_app
    logs = Logs(capsys)
    logs.read()
    # Hold the vendors table, so the registration is inside its transaction when the server goes.
    owner = await asyncpg.connect(plain_dsn(private_server.url))
    holding = owner.transaction()
    await holding.start()
    await owner.execute("LOCK TABLE vendors IN ACCESS EXCLUSIVE MODE")
    registration = asyncio.create_task(client.post("/api/v1/vendors", json=canary_vendor(), headers=headers))
    for _ in range(400):
        if await owner.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted") or registration.done():
            break
        await asyncio.sleep(0.025)
    assert not registration.done(), registration.result().text
    await asyncio.to_thread(private_server.stop)
    owner.terminate()
    answers = [await registration]
    started = time.monotonic()
    while time.monotonic() - started < 2.5:  # long enough for a "still down" line
        answers.append(await client.post("/api/v1/vendors", json=canary_vendor(), headers=headers))
        answers.append(await client.get("/api/v1/vendors", params={"q": CANARY_NAME}, headers=headers))
        await asyncio.sleep(0.1)
    readiness = await client.get("/readyz")
    page = await client.get("/public/whitelist", params={"q": CANARY_NAME})  # the console is an edge too
    assert page.status_code == 503 and page.headers["retry-after"] and "数据库暂时不可用" in page.text
    for answer in answers:
        assert_unavailable(answer)
        assert_no_canary(answer.text, "an error body")
    assert readiness.status_code == 503 and readiness.headers["retry-after"]

    await asyncio.to_thread(private_server.start)
    recovered = await client.post("/api/v1/vendors", json=vendor_payload(), headers=headers)
    assert recovered.status_code == 201, recovered.text  # no restart of the service needed
    assert_no_canary(await asyncio.to_thread(private_server.dump, "postgres"), "pg_dump")
    for _ in range(100):
        if "database_available" in logs.events():
            break
        await asyncio.sleep(0.05)

    events = logs.events()
    assert len(answers) > 10
    assert events.count("database_unavailable") == 1, events
    assert events.count("database_still_unavailable") >= 1, events
    assert events.count("database_available") == 1, events
    assert "unhandled_error" not in events and "Traceback" not in logs.text
    watch_lines = [
        line for line in logs.lines() if line.get("event") in ("database_still_unavailable", "database_available")
    ]
    assert not any("request_id" in line for line in watch_lines), watch_lines  # the process's, not a request's
    assert_no_canary(logs.text, "the log")


async def test_a_unique_violation_logs_no_statement_parameters(outage_app, private_server, capsys):
    """An unforeseen constraint (here a unique phone, added by the test) gives 500: the
    log names the error and the constraint, and nothing that was in the row."""
    client, headers, _db = outage_app
    owner = await asyncpg.connect(plain_dsn(private_server.url))
    try:
        await owner.execute("CREATE UNIQUE INDEX test_canary_phone ON vendors (contact_phone)")
        first = await client.post("/api/v1/vendors", json=vendor_payload(contact_phone=CANARY_PHONE), headers=headers)
        assert first.status_code == 201, first.text
        logs = Logs(capsys)
        logs.read()
        clash = await client.post("/api/v1/vendors", json=canary_vendor(), headers=headers)
        assert clash.status_code == 500 and clash.json()["error"]["code"] == "internal_error"
        logged = logs.read()
        assert "UniqueViolationError" in logged and "test_canary_phone" in logged
        assert_no_canary(logged, "the log")
        assert_no_canary(clash.text, "the error body")
        dump = await asyncio.to_thread(private_server.dump, "postgres")
        for form in (CANARY_NAME, CANARY_ID):
            assert form not in dump
    finally:
        await owner.execute("DROP INDEX IF EXISTS test_canary_phone")
        await owner.close()


async def test_a_frozen_database_answers_503_within_the_bound_and_recovers(outage_app, private_server, capsys):
    client, headers, _db = outage_app
    vendor = await client.post("/api/v1/vendors", json=vendor_payload(), headers=headers)
    assert vendor.status_code == 201
    code = vendor.json()["credit_code"]
    assert (
        await client.get(f"/api/v1/lookup/vendors/{code}", params={"region": "360104"}, headers=headers)
    ).status_code == 200
    logs = Logs(capsys)
    logs.read()

    async def timed(request) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = await asyncio.wait_for(request, timeout=30)
        return response, time.monotonic() - started

    with private_server.frozen():
        readiness, ready_seconds = await timed(client.get("/readyz"))
        written, write_seconds = await timed(client.post("/api/v1/vendors", json=vendor_payload(), headers=headers))
        looked_up, lookup_seconds = await timed(
            client.get(f"/api/v1/lookup/vendors/{code}", params={"region": "360104"}, headers=headers)
        )
    assert readiness.status_code == 503 and ready_seconds < 2.0 + 0.5, ready_seconds
    for response, seconds in ((written, write_seconds), (looked_up, lookup_seconds)):
        assert_unavailable(response)
        assert seconds < BOUND + SLACK, seconds
    again = await client.post("/api/v1/vendors", json=vendor_payload(), headers=headers)
    assert again.status_code == 201, again.text
    assert (
        await client.get(f"/api/v1/lookup/vendors/{code}", params={"region": "360104"}, headers=headers)
    ).status_code == 200
    assert logs.events().count("database_unavailable") == 1
