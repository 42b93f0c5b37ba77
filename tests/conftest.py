"""Test fixtures on a real PostgreSQL.

One server per session (the embedded pgserver, or SCHOOLGATE_TEST_DATABASE_URL), one
template database migrated once with the real migrations, and a fresh database cloned
from it for every test that asks for `db` — so tests are isolated even when they
commit, run concurrent transactions, or connect as several processes.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from service.accounts import signin
from service.accounts.services import create_account
from service.app import create_app
from service.config import Settings
from service.db.engine import Database
from service.db.migrate import upgrade
from service.db.roles import as_role
from service.security.actor import Actor

# Password hashing at the library's recommended cost is ~0.2 s of CPU per hash (64 MiB,
# three passes), and every console sign-in in a test pays it three times. Tests hash with
# argon2id at its smallest cost instead: the same algorithm and code path, verified the
# same way, only cheap. The production cost stays in service/accounts/signin.py.
signin.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
signin._DUMMY_HASH = signin.HASHER.hash("not-a-password")

TEMPLATE = "sg_template"
APP_ROLE = Settings().app_role
_counter = itertools.count()


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def plain_dsn(url: str) -> str:
    return with_database(url, make_url(url).database or "postgres").replace("+asyncpg", "")


@pytest.fixture(scope="session")
def server_url() -> str:
    external = os.environ.get("SCHOOLGATE_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from service.db.embedded import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="schoolgate-test-"))
    with embedded_postgres(root / "pg") as url:
        asyncio.run(_durability_off(url))
        yield url


# A throwaway test server need not survive a crash. With fsync on, every per-test
# `CREATE DATABASE ... FILE_COPY` forces a checkpoint and fsyncs each file: ~2.2 s a clone
# and ~1.2 s a drop on a busy shared disk, against ~80 ms and ~16 ms with these off.
# Commit visibility, locking and isolation are unchanged; only what reaches the disk when.
THROWAWAY_SERVER = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


async def _durability_off(url: str) -> None:
    conn = await _admin(url)
    try:
        for name, value in THROWAWAY_SERVER.items():
            await conn.execute(f"ALTER SYSTEM SET {name} = {value}")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


async def _admin(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(plain_dsn(with_database(url, "postgres")))


@pytest.fixture(scope="session")
async def template_url(server_url: str) -> str:
    conn = await _admin(server_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await conn.close()
    url = with_database(server_url, TEMPLATE)
    await asyncio.to_thread(upgrade, url, "head", APP_ROLE)
    return url


@pytest.fixture
async def owner_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test alone, as its owner."""
    name = f"sg_test_{os.getpid()}_{next(_counter)}"
    conn = await _admin(server_url)
    try:
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
    finally:
        await conn.close()
    yield with_database(server_url, name)
    conn = await _admin(server_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture
def database_url(owner_url: str) -> str:
    """The same database as the application sees it: as the app role, which may not
    UPDATE, DELETE or TRUNCATE the audit trail."""
    return as_role(owner_url, APP_ROLE)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=5)
    yield database
    await database.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=None, data_dir=tmp_path / "data", log_format="json")


@pytest.fixture
def app(db: Database, settings: Settings):
    return create_app(settings, db=db)


@pytest.fixture
def app_signer(app):
    """The key the app signs checkpoints (and receipts) with."""
    return app.state.signer


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


class Accounts:
    """Makes accounts and returns Authorization headers for them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def headers(self, role: str, **scope) -> dict[str, str]:
        scope.setdefault("name", f"测试{role}{uuid.uuid4().hex[:6]}")
        created = await create_account(self.db, Actor.system(), role=role, **scope)
        return {"Authorization": f"Bearer {created.token}"}


@pytest.fixture
def accounts(db: Database) -> Accounts:
    return Accounts(db)
