"""The schema comes only from the migrations, and they match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from service.db.migrate import head_revision
from service.db.tables import metadata


async def test_autogenerate_finds_no_difference(db):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == [], f"models and migrations differ; add a migration: {differences}"


async def test_database_is_at_head_with_region_reference_data(db):
    async with db.engine.connect() as connection:
        version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        counts = dict((await connection.execute(text("SELECT level, count(*) FROM regions GROUP BY level"))).all())
        parent = (await connection.execute(text("SELECT parent_code FROM regions WHERE code = '360113'"))).scalar()
    assert version == head_revision()
    assert counts["province"] == 1 and counts["city"] == 12 and counts["county"] >= 90
    assert parent == "360100"  # 红谷滩区 lies in 南昌市
