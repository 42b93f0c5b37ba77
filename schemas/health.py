from __future__ import annotations

import msgspec


class Health(msgspec.Struct):
    status: str
    database: str | None = None
    schema_revision: str | None = None
    server_version: str | None = None  # PostgreSQL's, as the server reports it
