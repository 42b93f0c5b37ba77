"""Every error, ours or the framework's, leaves as the same body:

{"error": {"code", "message", "details"}, "request_id"}
"""

from __future__ import annotations

import re

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from schemas.inputs import DATE_OUT_OF_RANGE, DATE_OUT_OF_RANGE_MESSAGE
from schemas.text import INVALID_CHARACTERS, INVALID_CHARACTERS_MESSAGE, TEXT_PATTERNS
from service.db import is_unavailable
from service.errors import DomainError
from service.logging import get_logger
from service.web.params import RFC3339_PATTERN, instant_code
from service.web.requestid import request_id_for

log = get_logger("schoolgate.errors")

HTTP_DEFAULTS = {
    400: ("malformed_request", "请求格式错误，无法解析"),
    401: ("unauthenticated", "未登录或令牌无效"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "请求体过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    429: ("rate_limited", "请求过于频繁，请稍后再试"),
}


def error_response(
    request: Request, status: int, code: str, message: str, details=None, headers=None, extra=None
) -> Response:
    body = {
        **(extra or {}),
        "error": {"code": code, "message": message, "details": details or []},
        "request_id": request_id_for(request.scope),
    }
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers or {})


def domain_error_handler(request: Request, error: DomainError) -> Response:
    return error_response(
        request, error.status_code, error.code, error.message, error.details, error.headers, error.extra
    )


MSGSPEC_PATH = re.compile(r"at `\$\.([^`]+)`")
MSGSPEC_MISSING = re.compile(r"missing required field `([^`]+)`")
MSGSPEC_BOUND = re.compile(r"Expected `int` [<>]=? ")
TEXT_RULE_FAILURES = tuple(f"matching regex {pattern!r}" for pattern in TEXT_PATTERNS)
INSTANT_FAILURE = f"matching regex {RFC3339_PATTERN!r}"
INSTANT_MESSAGE = "时刻须为带时区的 RFC 3339 格式，例如 2026-09-01T08:00:00+08:00"
SINGLE_CODES = {
    INVALID_CHARACTERS,
    DATE_OUT_OF_RANGE,
    "invalid_as_of",
    "invalid_datetime",
}  # lead the body when every detail has it
DATE_RANGE_FAILURE = re.compile(rf"^{DATE_OUT_OF_RANGE}: (\w+)(?: - at `\$\.([^`]+)`)?")


def _field_of(item: dict) -> str | None:
    """The body field at fault. Litestar reports body errors under the key `data`
    and leaves the field inside msgspec's message (`... - at `$.name``)."""
    message, key = str(item.get("message") or ""), item.get("key")
    if key and key != "data":
        return key
    path = MSGSPEC_PATH.search(message)
    missing = MSGSPEC_MISSING.search(message)
    if path and missing:
        return f"{path.group(1)}.{missing.group(1)}"
    found = path or missing
    if found:
        return found.group(1)
    return key


def validation_error_handler(request: Request, error: ValidationException) -> Response:
    """Framework validation (wrong JSON, wrong types, missing fields) → 422 with fields."""
    details = [
        _detail(item) for item in (error.extra if isinstance(error.extra, list) else []) if isinstance(item, dict)
    ]
    if not details:
        return error_response(request, 400, "malformed_request", "请求格式错误，无法解析")
    if len({d["code"] for d in details}) == 1 and details[0]["code"] in SINGLE_CODES:
        return error_response(request, 422, details[0]["code"], details[0]["message"], details)
    return error_response(request, 422, "invalid_input", "提交的数据有误", details)


def _detail(item: dict) -> dict:
    message = str(item.get("message") or "")
    out_of_range = DATE_RANGE_FAILURE.search(message)
    if out_of_range:  # raised by schemas.inputs.Input: the struct's path, then the field
        field = ".".join(part for part in (out_of_range.group(2), out_of_range.group(1)) if part)
        return {"field": field, "code": DATE_OUT_OF_RANGE, "message": DATE_OUT_OF_RANGE_MESSAGE}
    if any(failure in message for failure in TEXT_RULE_FAILURES):
        code, text = INVALID_CHARACTERS, INVALID_CHARACTERS_MESSAGE
    elif INSTANT_FAILURE in message:
        code, text = instant_code(_field_of(item)), INSTANT_MESSAGE
    elif MSGSPEC_MISSING.search(message):
        code, text = "required", "此项不能为空"
    elif MSGSPEC_BOUND.search(message):
        code, text = "out_of_range", "数值超出允许范围"
    else:
        code, text = "invalid_type", "字段类型或格式不正确"
    return {"field": _field_of(item), "code": code, "message": text}


def http_error_handler(request: Request, error: HTTPException) -> Response:
    if error.status_code >= 500:
        return internal_error_handler(request, error)
    code, message = HTTP_DEFAULTS.get(error.status_code, ("http_error", "请求失败"))
    return error_response(request, error.status_code, code, message, headers=error.headers or None)


#: What a client is told to wait during an outage: the watch probes every second, and
#: recovery needs no restart, so a short wait is enough.
OUTAGE_RETRY_AFTER_SECONDS = 5


def internal_error_handler(request: Request, error: Exception) -> Response:
    if is_unavailable(error):
        return database_unavailable(request, error)
    log.error("unhandled_error", error_type=type(error).__name__, exc_info=error)
    return error_response(request, 500, "internal_error", "服务器内部错误，请稍后重试或联系管理员")


def note_outage(request: Request, error: BaseException) -> None:
    """Tell the process's outage watch (it logs the outage once). For every edge."""
    db = getattr(request.app.state, "db", None)
    if db is not None:
        db.outage.failed(error)


def database_unavailable(request: Request, error: BaseException) -> Response:
    """An outage is not a bug: 503 with `Retry-After`, and no traceback. The process's
    outage watch logs the outage once, however many requests meet it."""
    note_outage(request, error)
    return error_response(
        request,
        503,
        "database_unavailable",
        "数据库暂时不可用，请稍后重试",
        headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
