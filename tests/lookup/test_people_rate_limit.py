"""Person lookups count against the shared rate limit, batch entries one by one; a
refused request stores nothing."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlmodel import select

from service.config import Settings
from service.lookup.models import LookupRateWindow, LookupReceipt
from tests.lookup.people_world import batch, lookup, new_id_number


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=None, data_dir=tmp_path / "data", log_format="json", lookup_rate_per_minute=5)


def _entries(n: int) -> list[dict]:
    return [{"id_number": new_id_number(), "name": "张三"} for _ in range(n)]


async def test_batch_entries_count_individually(wl):
    school = await wl.school("360104")
    if time.time() % 60 > 50:  # keep the calls inside one window
        await asyncio.sleep(60.5 - time.time() % 60)
    refused = await batch(wl, school, _entries(6))
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert (await batch(wl, school, _entries(3))).status_code == 200
    assert (await batch(wl, school, _entries(3))).status_code == 429  # 3 + 3 > 5; counts nothing
    assert (await lookup(wl, school, new_id_number())).status_code == 200  # 4
    assert (await batch(wl, school, _entries(1))).status_code == 200  # 5
    last = await lookup(wl, school, new_id_number())
    assert last.status_code == 429 and "retry-after" in last.headers
    async with wl.db.transaction() as session:
        kinds = [r.kind for r in (await session.exec(select(LookupReceipt))).all()]
        counted = [w.n for w in (await session.exec(select(LookupRateWindow))).all()]
    assert sorted(kinds) == ["person", "person_batch", "person_batch"] and counted == [5]
