from __future__ import annotations

from typing import Any

import msgspec


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    message: str
    field: str | None = None
    code: str | None = None
    extra: dict[str, Any] | None = None


class ErrorInfo(msgspec.Struct):
    code: str
    message: str
    details: list[dict[str, Any]]


class ErrorBody(msgspec.Struct):
    """The one body of every 4xx and 5xx response."""

    error: ErrorInfo
    request_id: str | None
