"""Domain errors: what went wrong, as a stable code, a Chinese message and details.

Services raise these; the web layer renders every one of them, and every framework
error, as the same body (see service/web/errors.py). The HTTP status lives here so
that one table decides it, not each controller.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "bad_request"
    message = "请求无效"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        self.details = details or []
        self.headers = headers or {}
        # Top-level body fields beside "error" (e.g. an import's {"imported": 0, "errors": [...]}).
        self.extra = extra or {}
        super().__init__(self.code)


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"
    message = "提交的数据有误"

    @classmethod
    def field(cls, field: str, code: str, message: str) -> InvalidInput:
        """One bad field: the error code is the field's code, so clients can branch on it."""
        return cls(message, code=code, details=[problem(field, code, message)])


def problem(field: str, code: str, message: str) -> dict[str, str]:
    """One bad field, as it appears in an error's `details`."""
    return {"field": field, "code": code, "message": message}


def raise_problems(problems: list[dict], error: type[DomainError] = InvalidInput) -> None:
    """Report every problem at once (a form shows them all). With a single problem its
    code and message lead, so clients can branch on it; with several, the class's own."""
    if not problems:
        return
    single = len(problems) == 1
    raise error(
        problems[0]["message"] if single else None, code=problems[0]["code"] if single else None, details=problems
    )


class Unauthenticated(DomainError):
    status_code = 401
    code = "unauthenticated"
    message = "未登录或令牌无效"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    message = "无权执行此操作"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    message = "未找到该对象"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    message = "与现有数据冲突"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"
    message = "上传的文件过大"


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "unsupported_media_type"
    message = "仅支持 PDF、JPEG 或 PNG 文件"


class TooManyRequests(DomainError):
    status_code = 429
    code = "rate_limited"
    message = "请求过于频繁，请稍后再试"
