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


async def test_inside_one_group_a_refused_batch_keeps_no_later_lookup_out(wl, app_signer):
    """Concurrent requests of one account share a group commit; its rows are decided one
    after another, so a batch that would pass the limit counts nothing and the single
    lookups queued behind it in the same group are still answered."""
    from service.lookup.writer import writer

    school = await wl.school("360104")
    if time.time() % 60 > 50:
        await asyncio.sleep(60.5 - time.time() % 60)
    group_writer = writer(wl.db, app_signer)
    assert (await batch(wl, school, _entries(3))).status_code == 200  # 2 of 5 left
    groups_before = group_writer.groups
    # Each batch of 3 is refused whatever came before it in the group; both singles fit.
    calls = [c for _ in range(2) for c in (batch(wl, school, _entries(3)), lookup(wl, school, new_id_number()))]
    replies = await asyncio.gather(*calls)
    assert [r.status_code for r in replies] == [429, 200] * 2
    assert group_writer.groups - groups_before < len(calls)  # shared commits
    async with wl.db.transaction() as session:
        kinds = [r.kind for r in (await session.exec(select(LookupReceipt))).all()]
        counted = [w.n for w in (await session.exec(select(LookupRateWindow))).all()]
    assert sorted(kinds) == ["person", "person", "person_batch"] and counted == [5]
