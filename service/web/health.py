"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from litestar import Response, get

from schemas.health import Health
from service.db import head_revision, is_unavailable, schema_and_server
from service.web.access import public
from service.web.deps import DB
from service.web.errors import OUTAGE_RETRY_AFTER_SECONDS


@get("/healthz", **public(), tags=["operations"])
async def healthz() -> Health:
    """The process is alive (nothing else is checked)."""
    return Health(status="ok")


#: A probe answers within this, whatever the database does (a frozen server included).
READY_TIMEOUT_SECONDS = 1.5


@get("/readyz", **public(), tags=["operations"])
async def readyz(db: DB) -> Response[Health]:
    """Ready when the database answers and its schema is at the migrations' head, within
    READY_TIMEOUT_SECONDS; says which PostgreSQL version answered."""
    check = asyncio.ensure_future(schema_and_server(db.engine))
    done, _ = await asyncio.wait({check}, timeout=READY_TIMEOUT_SECONDS)
    if not done:  # the check goes on within the database's own bounds; its end is not awaited
        check.add_done_callback(_forget)
        return _unavailable(db, TimeoutError())
    try:
        revision, server_version = check.result()
    except Exception as error:  # noqa: BLE001  any failure to reach the database means "not ready"
        if is_unavailable(error):
            return _unavailable(db, error)
        return Response(Health(status="unavailable", database=type(error).__name__), status_code=503)
    if revision != head_revision():
        return Response(
            Health(status="schema_outdated", database="ok", schema_revision=revision, server_version=server_version),
            status_code=503,
        )
    return Response(Health(status="ok", database="ok", schema_revision=revision, server_version=server_version))


def _unavailable(db, error: BaseException) -> Response[Health]:
    db.outage.failed(error)
    return Response(
        Health(status="unavailable", database=type(error).__name__),
        status_code=503,
        headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
    )


def _forget(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved
