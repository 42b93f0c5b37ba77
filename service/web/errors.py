"""Every error, ours or the framework's, leaves as the same body:

    {"error": {"code", "message", "details"}, "request_id"}
"""

from __future__ import annotations

import re

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from service.db.unavailable import is_unavailable
from service.errors import DomainError
from service.logging import get_logger
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


def error_response(request: Request, status: int, code: str, message: str, details=None, headers=None,
                   extra=None) -> Response:
    body = {**(extra or {}), "error": {"code": code, "message": message, "details": details or []},
            "request_id": request_id_for(request.scope)}
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers or {})


def domain_error_handler(request: Request, error: DomainError) -> Response:
    return error_response(request, error.status_code, error.code, error.message, error.details, error.headers,
                          error.extra)


MSGSPEC_PATH = re.compile(r"at `\$\.([^`]+)`")
MSGSPEC_MISSING = re.compile(r"missing required field `([^`]+)`")


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
    if path or missing:
        return (path or missing).group(1)
    return key


def validation_error_handler(request: Request, error: ValidationException) -> Response:
    """Framework validation (wrong JSON, wrong types, missing fields) → 422 with fields."""
    details = []
    for item in error.extra if isinstance(error.extra, list) else []:
        if isinstance(item, dict):
            missing = MSGSPEC_MISSING.search(str(item.get("message") or ""))
            details.append({"field": _field_of(item), "code": "required" if missing else "invalid_type",
                            "message": "此项不能为空" if missing else "字段类型或格式不正确"})
    if not details:
        return error_response(request, 400, "malformed_request", "请求格式错误，无法解析")
    return error_response(request, 422, "invalid_input", "提交的数据有误", details)


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
    return error_response(request, 503, "database_unavailable", "数据库暂时不可用，请稍后重试",
                          headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)})


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
