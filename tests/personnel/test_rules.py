"""Each rule personnel publishes is stated in Python and in SQL (service/personnel/rules.py);
here the two are held together on generated cases, on the real database."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from service.personnel import (
    bar_lift_in_force,
    bar_lift_in_force_sql,
    engagement_in_force,
    engagement_in_force_sql,
)


async def test_engagement_in_force_says_the_same_in_python_and_in_sql(db):
    rng = random.Random(12)
    today = date(2026, 3, 1)
    cases = []
    for _ in range(400):
        start = today + timedelta(days=rng.choice((-400, -1, 0, 0, 1, 30)))
        ended = None if rng.random() < 0.5 else datetime(2026, 2, 1, tzinfo=UTC) + timedelta(days=rng.randint(-30, 60))
        cases.append((ended, start, today + timedelta(days=rng.choice((-1, 0, 0, 1)))))
    statement = f"""SELECT {engagement_in_force_sql("g", "g.today")}
                      FROM unnest($1::timestamptz[], $2::date[], $3::date[])
                           WITH ORDINALITY AS g(ended_at, start_date, today, n)
                     ORDER BY g.n"""
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        rows = await conn.fetch(statement, *(list(column) for column in zip(*cases)))
    in_sql = [row[0] for row in rows]
    in_python = [engagement_in_force(*case) for case in cases]
    assert in_sql == in_python
    assert True in in_python and False in in_python


async def test_bar_lift_in_force_says_the_same_in_python_and_in_sql(db):
    rng = random.Random(13)
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    cases = [
        tuple(None if rng.random() < 0.5 else moment + timedelta(hours=rng.randint(0, 99)) for _ in range(2))
        for _ in range(200)
    ]
    statement = f"""SELECT {bar_lift_in_force_sql("b")}
                      FROM unnest($1::timestamptz[], $2::timestamptz[]) WITH ORDINALITY AS b(confirmed_at, closed_at, n)
                     ORDER BY b.n"""
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        rows = await conn.fetch(statement, *(list(column) for column in zip(*cases)))
    in_python = [bar_lift_in_force(*case) for case in cases]
    assert [row[0] for row in rows] == in_python
    assert True in in_python and False in in_python
