from __future__ import annotations

from typing import Any

import msgspec


class ErrorInfo(msgspec.Struct):
    code: str
    message: str
    details: list[dict[str, Any]]


class ErrorBody(msgspec.Struct):
    """The one body of every 4xx and 5xx response."""

    error: ErrorInfo
    request_id: str | None
