"""JSON request bodies: only when declared as JSON, and never deeper than 32 levels.

The request class the app uses (`create_app(request_class=...)`). Litestar decodes a JSON
body whatever its Content-Type says, and msgspec raises RecursionError on deep nesting
(a 500); both are refused here, before decoding.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from service.errors import DomainError, UnsupportedMediaType

MAX_DEPTH = 32
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")


class InvalidJSON(DomainError):
    status_code = 400
    code = "invalid_json"
    message = f"JSON 嵌套不能超过 {MAX_DEPTH} 层"


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether any value in `body` nests deeper than `limit` arrays or objects."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the common case, at C speed: not enough brackets to be too deep
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if byte in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def is_json_media_type(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


class JSONRequest(Request):
    async def json(self) -> Any:
        body = await self.body()
        if body:
            if not is_json_media_type(self.content_type[0].lower()):
                raise UnsupportedMediaType(
                    "请求体须为 JSON（Content-Type: application/json）", code="unsupported_media_type"
                )
            if too_deep(body):
                raise InvalidJSON()
        return await super().json()
