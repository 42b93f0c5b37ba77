"""Per-request context that crosses layers without passing the request itself.

The request id is set by the web layer and read by the logger and the audit recorder,
so services stay free of HTTP objects.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()
