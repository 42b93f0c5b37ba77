"""Alembic, driven from code: the schema exists only through these migrations."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.db.engine import asyncpg_url

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str, app_role: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", asyncpg_url(url).replace("%", "%%"))
    if app_role:
        config.set_main_option("app_role", app_role)
    return config


def upgrade(url: str, revision: str = "head", app_role: str | None = "schoolgate_app") -> None:
    """Blocking upgrade, then (as the owner) the app role's grants."""
    command.upgrade(alembic_config(url, app_role), revision)


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    return (await schema_and_server(engine))[0]


async def schema_and_server(engine: AsyncEngine) -> tuple[str | None, str]:
    """The schema's revision and the server's version (e.g. "16.14"), in one round trip."""
    async with engine.connect() as connection:
        result = await connection.execute(
            text("SELECT (SELECT version_num FROM alembic_version), current_setting('server_version')")
        )
        revision, server_version = result.one()
        return revision, server_version
