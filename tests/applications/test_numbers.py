"""Application numbers: one series per region and China year, shared with no one, and
the migration that numbered the applications made before it."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy.exc import IntegrityError

from service.applications.rules import application_number
from service.db.migrate import alembic_config


async def test_numbers_count_per_region_and_year_and_never_repeat(world):
    east = await world.vendor("360104")
    west = await world.vendor("360111")
    a1 = await world.application(east, "360104")
    a2 = await world.application(east, "360104")
    b1 = await world.application(west, "360111")
    year = int(a1["created_at"][:4])
    assert [a1["number"], a2["number"], b1["number"]] == [
        application_number("360104", year, 1),
        application_number("360104", year, 2),
        application_number("360111", year, 1),
    ]
    assert a1["number"] == f"赣白申〔{year}〕360104-0001"
    assert (await world.get(a1["id"], east.headers))["number"] == a1["number"]
    # Letters keep their own series in the same counter table.
    rows = (await world.sql("SELECT series, region_code, last FROM document_number_counters ORDER BY 2")).all()
    assert [tuple(r) for r in rows] == [("application", "360104", 2), ("application", "360111", 1)]


async def test_the_number_is_unique_in_the_database(world):
    vendor = await world.vendor("360104")
    app = await world.application(vendor, "360104")
    other = await world.application(vendor, "360104")
    with pytest.raises(IntegrityError, match="ix_applications_number"):
        await world.sql(
            "UPDATE applications SET number = :n WHERE id = CAST(:id AS uuid)", n=app["number"], id=other["id"]
        )


async def test_the_migration_numbers_earlier_applications_in_creation_order(world, owner_url):
    east = await world.vendor("360104")
    west = await world.vendor("360111")
    ids = [(await world.application(v, r))["id"] for v, r in ((east, "360104"), (east, "360104"), (west, "360111"))]
    ids.append((await world.application(east, "360104"))["id"])
    await world.db.dispose()
    config = alembic_config(owner_url)
    await asyncio.to_thread(command.downgrade, config, "0029")
    # Before 0030: creation times out of id order, across the China new year.
    times = ["2025-12-31T15:59:00Z", "2026-03-01T00:00:00Z", "2026-01-05T00:00:00Z", "2025-12-31T16:01:00Z"]
    for application_id, at in zip(ids, times, strict=True):
        await world.sql(
            "UPDATE applications SET created_at = CAST(:at AS timestamptz) WHERE id = CAST(:id AS uuid)",
            at=at,
            id=application_id,
        )
    await world.db.dispose()
    await asyncio.to_thread(command.upgrade, config, "head")
    rows = dict((await world.sql("SELECT CAST(id AS text), number FROM applications")).all())
    assert [rows[i] for i in ids] == [
        application_number("360104", 2025, 1),  # 23:59 on 31 December in China
        application_number("360104", 2026, 2),
        application_number("360111", 2026, 1),
        application_number("360104", 2026, 1),  # 00:01 on 1 January in China
    ]
    later = await world.application(east, "360104")
    assert later["number"] == application_number("360104", int(later["created_at"][:4]), 3)
