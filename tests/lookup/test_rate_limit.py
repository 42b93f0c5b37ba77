"""The per-account lookup rate limit, counted in PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

import pytest

from service.config import Settings
from service.lookup import ratelimit
from service.lookup.models import LookupRateWindow


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=None, data_dir=tmp_path / "data", log_format="json", lookup_rate_per_minute=5)


async def test_the_sixth_lookup_in_a_minute_is_429_with_retry_after(wl):
    vendor, _ = await wl.approved()
    school, other = await wl.school("360104"), await wl.school("360104")
    if time.time() % 60 > 55:  # keep the six lookups inside one window
        await asyncio.sleep(60.5 - time.time() % 60)
    for _ in range(5):
        assert (await wl.lookup(school, vendor.credit_code)).status_code == 200
    refused = await wl.lookup(school, vendor.credit_code)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # A forged client address changes nothing: the count is keyed by the token's account.
    forged = await wl.client.get(
        f"/api/v1/lookup/vendors/{vendor.credit_code}",
        headers=school | {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"},
    )
    assert forged.status_code == 429
    # Another school has its own quota.
    assert (await wl.lookup(other, vendor.credit_code)).status_code == 200


async def test_old_windows_are_purged(db):
    account = uuid4()
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        for now in (1_800_000_000.0, 1_800_000_000.0 + 3600):
            await conn.execute(
                "INSERT INTO lookup_rate_windows (account_id, window_start, n) VALUES ($1, $2, 1)",
                account,
                ratelimit.window(now)[0],
            )
    assert await ratelimit.purge_windows(db, now=1_800_000_000.0 + 3600) == 1
    async with db.transaction() as session:
        from sqlalchemy import func, select

        assert (await session.exec(select(func.count()).select_from(LookupRateWindow))).one()[0] == 1
