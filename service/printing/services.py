"""What the document edge writes: one audit event per download of a document that names people."""

from __future__ import annotations

from typing import Any

from service.audit import record_event
from service.db import Database
from service.security import Actor

DOWNLOAD = "documents:pdf:download"


async def record_download(
    db: Database,
    actor: Actor,
    document: str,
    object_type: str,
    object_id: Any,
    *,
    region_code: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    """A sensitive read, like any other: who downloaded which document about what."""
    async with db.transaction() as session:
        await record_event(
            session,
            actor,
            DOWNLOAD,
            object_type,
            object_id,
            region_code=region_code,
            changes={"document": {"before": None, "after": document}} | (details or {}),
        )
