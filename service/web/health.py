"""Liveness and readiness probes."""

from __future__ import annotations

from litestar import Response, get

from schemas.health import Health
from service.db.migrate import head_revision, schema_and_server
from service.web.access import public
from service.web.deps import DB


@get("/healthz", **public(), tags=["operations"])
async def healthz() -> Health:
    """The process is alive (nothing else is checked)."""
    return Health(status="ok")


@get("/readyz", **public(), tags=["operations"])
async def readyz(db: DB) -> Response[Health]:
    """Ready when the database answers and its schema is at the migrations' head; says
    which PostgreSQL version answered."""
    try:
        revision, server_version = await schema_and_server(db.engine)
    except Exception as error:  # any failure to reach the database means "not ready"
        return Response(Health(status="unavailable", database=type(error).__name__), status_code=503)
    if revision != head_revision():
        return Response(Health(status="schema_outdated", database="ok", schema_revision=revision,
                               server_version=server_version), status_code=503)
    return Response(Health(status="ok", database="ok", schema_revision=revision, server_version=server_version))
