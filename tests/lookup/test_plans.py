"""The lookups' statements keep one generic plan instead of being planned on every call.

PostgreSQL plans a prepared statement afresh on every call while it estimates a custom
plan cheaper than the generic one. For the person read and the receipt store that was
the case whenever few people or receipts were asked about, and planning cost several
times the read itself (docs/performance.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from service.lookup import people_reader
from service.timeutil import today_in_china


async def test_the_person_read_keeps_its_generic_plan_for_one_person(wl):
    conn = await asyncpg.connect(wl.db.dsn)
    try:
        version = await conn.fetchval("SELECT version FROM lookup_state_version WHERE id = 1")
        at = datetime.now(UTC)
        for _ in range(12):
            await conn.fetch(people_reader.READ_PEOPLE, ["0" * 64], at, version, version, today_in_china(at))
        generic, custom = await conn.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            people_reader.READ_PEOPLE,
        )
    finally:
        await conn.close()
    # PostgreSQL tries five custom plans before it compares them with the generic one.
    assert custom <= 5 and generic >= 7, (generic, custom)


async def test_the_receipt_store_runs_with_generic_plans(wl):
    conn = await asyncpg.connect(wl.db.dsn)
    try:
        settings = await conn.fetchval("SELECT proconfig FROM pg_proc WHERE proname = 'lookup_store_receipts'")
    finally:
        await conn.close()
    assert settings is not None and "plan_cache_mode=force_generic_plan" in settings
