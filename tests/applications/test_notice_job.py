"""The end of the public notice happens without anyone acting: the job function, the
job inside the app's lifespan, and several workers at once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlmodel import col, func, select

from service.app import create_app
from service.applications import jobs
from service.applications.models import Application
from service.applications.notices import conclude_due_notices
from service.audit.models import AuditEvent
from service.config import Settings
from service.idempotency.models import IdempotencyRecord
from service.timeutil import utcnow
from service.whitelist.models import WhitelistEntry


async def stage_of(db, application_id: str) -> str:
    async with db.transaction() as session:
        return (await session.exec(select(Application.stage).where(col(Application.id) == application_id))).one()


async def conclusions(db) -> int:
    async with db.transaction() as session:
        return (
            await session.exec(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "applications:application:conclude_notice")
            )
        ).one()


async def test_nothing_concludes_before_the_end_and_everything_after(world, db):
    county, city = await world.reviewer("360104"), await world.reviewer("360100")
    apps = [await world.to_public_notice(await world.vendor(), county, city) for _ in range(3)]
    ends = max(datetime.fromisoformat(a["notice_ends_at"]) for a in apps)
    assert await conclude_due_notices(db, ends - timedelta(seconds=1)) == 0
    assert {await stage_of(db, a["id"]) for a in apps} == {"public_notice"}
    assert await conclude_due_notices(db, ends) == 3
    assert {await stage_of(db, a["id"]) for a in apps} == {"approved"}
    assert await world.count(WhitelistEntry) == 6
    assert await conclude_due_notices(db, ends + timedelta(days=1)) == 0  # once only


async def test_several_workers_at_once_conclude_each_application_once(world, db):
    county, city = await world.reviewer("360104"), await world.reviewer("360100")
    apps = [await world.to_public_notice(await world.vendor(items=1), county, city) for _ in range(6)]
    later = utcnow() + timedelta(days=6)
    counts = await asyncio.gather(*(conclude_due_notices(db, later) for _ in range(4)))
    assert sum(counts) == len(apps)
    assert await conclusions(db) == len(apps)
    assert await world.count(WhitelistEntry) == len(apps)


async def test_the_job_in_the_app_lifespan_admits_without_any_request(world, db, tmp_path):
    vendor = await world.vendor()
    app = await world.to_public_notice(vendor, await world.reviewer("360104"), await world.reviewer("360100"))
    await world.end_notice_now(app["id"])
    service = create_app(Settings(data_dir=tmp_path, log_format="json", notice_job_interval=0.05), db=db)
    async with service.lifespan():
        for _ in range(100):
            if await stage_of(db, app["id"]) == "approved":
                break
            await asyncio.sleep(0.05)
    assert await stage_of(db, app["id"]) == "approved"
    assert await world.count(WhitelistEntry) == 2


async def test_the_job_forgets_old_idempotency_keys(world, db):
    vendor = await world.vendor(items=0)
    await world.item(vendor)  # no key
    headers = vendor.headers | {"Idempotency-Key": "old-key"}
    response = await world.client.post(
        f"/api/v1/vendors/{vendor.id}/service-items",
        headers=headers,
        json={
            "category_code": 4,
            "activity": "篮球",
            "description": "基础运球与投篮",
            "grade_bands": ["upper_primary"],
            "fee": 0,
            "fee_unit": "free",
            "max_class_size": 40,
            "venue": "学校操场",
        },
    )
    assert response.status_code == 201
    assert await world.count(IdempotencyRecord) == 1
    await jobs.run_once(db, utcnow() + timedelta(days=6))
    assert await world.count(IdempotencyRecord) == 1
    await jobs.run_once(db, utcnow() + timedelta(days=8))
    assert await world.count(IdempotencyRecord) == 0


async def test_an_application_that_cannot_be_concluded_fails_the_round_and_holds_up_no_other(world, db, owner_url):
    """A failed conclusion is not swallowed: the others of the round are concluded, then
    the round raises (the job's runner logs it and tries again later)."""
    from uuid import UUID

    import asyncpg
    import pytest

    from service.applications.notices import NoticeConclusionFailed
    from tests.conftest import plain_dsn

    county, city = await world.reviewer("360104"), await world.reviewer("360100")
    broken_vendor = await world.vendor()
    broken = await world.to_public_notice(broken_vendor, county, city)
    fine = await world.to_public_notice(await world.vendor(), county, city)
    # The database refuses the broken vendor's whitelist entries (a fault, not a rule).
    owner = await asyncpg.connect(plain_dsn(owner_url))
    await owner.execute("""CREATE FUNCTION refuse_entry() RETURNS trigger LANGUAGE plpgsql AS $$
                           BEGIN RAISE EXCEPTION 'refused in a test'; END $$""")
    await owner.execute(f"""CREATE TRIGGER refuse_entry BEFORE INSERT ON whitelist_entries FOR EACH ROW
                            WHEN (NEW.vendor_id = '{UUID(broken_vendor.id)}') EXECUTE FUNCTION refuse_entry()""")
    later = utcnow() + timedelta(days=6)
    with pytest.raises(NoticeConclusionFailed) as failure:
        await jobs.run_once(db, later)
    assert failure.value.failed == [UUID(broken["id"])] and failure.value.concluded == 1
    assert failure.value.__cause__ is not None
    assert await stage_of(db, broken["id"]) == "public_notice"
    assert await stage_of(db, fine["id"]) == "approved"
    await world.end_notice_now(broken["id"])
    board = await world.client.get("/api/v1/public/notices")  # a list still answers, with what it can
    assert board.status_code == 200, board.text
    assert broken["id"] in board.text and fine["id"] not in board.text
    await owner.execute("DROP TRIGGER refuse_entry ON whitelist_entries")
    await owner.close()
    assert await jobs.run_once(db, later) == 1  # the next round concludes it
    assert await stage_of(db, broken["id"]) == "approved"


async def test_the_notice_due_predicate_and_its_sql_agree_on_generated_cases(db):
    """`notice_due` (the write side) and `notice_due_sql` (the lookups' read side) say
    the same thing, evaluated by PostgreSQL on rows of every stage and end."""
    import random

    from sqlalchemy import text

    from service.applications import notice_due, notice_due_sql
    from workflows.entry_review import EntryState

    rng = random.Random(14)
    now = utcnow()
    cases = [
        (
            rng.choice(list(EntryState)),
            rng.choice(
                [
                    None,
                    now,
                    now - timedelta(seconds=rng.randint(1, 10**6)),
                    now + timedelta(seconds=rng.randint(1, 10**6)),
                ]
            ),
        )
        for _ in range(300)
    ]
    statement = text(
        f"SELECT {notice_due_sql('a', ':now')} FROM (SELECT CAST(:stage AS text) AS stage,"
        " CAST(:ends AS timestamptz) AS notice_ends_at) a"
    )
    async with db.transaction() as session:
        for stage, ends in cases:
            found = (await session.exec(statement.bindparams(stage=stage.value, ends=ends, now=now))).one()[0]
            assert bool(found) is notice_due(stage, ends, now), (stage, ends)
