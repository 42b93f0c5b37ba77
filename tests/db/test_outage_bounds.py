"""The outage bounds come from the environment and reach both of the service's pools."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from service.config import Settings
from service.db.engine import Database
from service.db.unavailable import is_unavailable


def test_the_bounds_are_read_from_the_environment_and_bad_ones_refused():
    settings = Settings.from_env(
        {
            "SCHOOLGATE_DB_CONNECT_TIMEOUT": "1.5",
            "SCHOOLGATE_DB_STATEMENT_TIMEOUT": "7",
            "SCHOOLGATE_DB_OUTAGE_LOG_SECONDS": "10",
        }
    )
    assert (settings.db_connect_timeout, settings.db_statement_timeout, settings.db_outage_log_interval) == (1.5, 7, 10)
    defaults = Settings.from_env({})
    assert 0 < defaults.db_connect_timeout <= 5 and 0 < defaults.db_statement_timeout <= 10
    for bad in ("soon", "0", "-1", "inf", "nan"):
        with pytest.raises(ValueError, match="SCHOOLGATE_DB_STATEMENT_TIMEOUT"):
            Settings.from_env({"SCHOOLGATE_DB_STATEMENT_TIMEOUT": bad})


async def test_both_pools_carry_the_statement_timeout_and_a_long_statement_is_an_outage(database_url, tmp_path):
    settings = Settings(data_dir=tmp_path, db_connect_timeout=2.0, db_statement_timeout=0.25)
    db = Database.configured(database_url, settings)
    try:
        async with db.transaction() as session:
            assert (await (await session.connection()).execute(text("SHOW statement_timeout"))).scalar_one() == "250ms"
        pool = await db.raw_pool()
        assert await pool.fetchval("SHOW statement_timeout") == "250ms"
        with pytest.raises(Exception) as raised:
            await pool.fetchval("SELECT pg_sleep(2)")
        assert is_unavailable(raised.value)  # the server cancelled it: 57014
        with pytest.raises(Exception) as raised:
            async with db.transaction() as session:
                await (await session.connection()).execute(text("SELECT pg_sleep(2)"))
        assert is_unavailable(raised.value)
        assert await pool.fetchval("SELECT 1") == 1  # the pools go on working
    finally:
        await db.dispose()


def test_an_ordinary_bug_is_not_an_outage():
    assert not is_unavailable(ValueError("x"))
    assert not is_unavailable(FileNotFoundError("a stored document"))  # not raised by the driver
    assert not is_unavailable(TimeoutError())
