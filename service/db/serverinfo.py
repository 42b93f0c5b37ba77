"""Which PostgreSQL the service runs on, for `schoolgate --version` (and /readyz)."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url

from service.db.engine import asyncpg_url


async def external_server_version(url: str, timeout: float = 3.0) -> str:
    """`SHOW server_version` of the server at `url` (e.g. "16.14"), bounded by `timeout`."""
    dsn = make_url(asyncpg_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=timeout)
    try:
        return await connection.fetchval("SHOW server_version", timeout=timeout)
    finally:
        await connection.close(timeout=timeout)


def version_lines(database_url: str | None) -> tuple[list[str], bool]:
    """What `schoolgate --version` prints, and whether the database's version was found.

    With no database URL the embedded server is described from the wheel's binary, without
    starting it; with one, the external server is asked (and never named: its URL may hold
    a password)."""
    import asyncio
    from importlib import metadata

    lines = [f"schoolgate {metadata.version('schoolgate')}"]
    if not database_url:
        from service.db.embedded import bundled_version, wheel_version

        lines.append(f"PostgreSQL {bundled_version()} (embedded, {wheel_version()})")
        return lines, True
    try:
        version = asyncio.run(external_server_version(database_url))
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        lines.append(f"PostgreSQL unreachable (SCHOOLGATE_DATABASE_URL): {type(error).__name__}")
        return lines, False
    lines.append(f"PostgreSQL {version} (SCHOOLGATE_DATABASE_URL)")
    return lines, True
