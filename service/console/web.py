"""The console edge's plumbing: who is signed in, page declarations, rendering, errors.

Pages declare their roles like API routes do (`page(Role.SCHOOL)`); the one access
guard (service/web/access.py) asks this module's authenticator instead of a bearer
token. A page the role may not open, or an object outside the actor's scope, is 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandlersMap

from service.accounts import SessionUser, session_user
from service.console import format as fmt
from service.console.menus import menu_for
from service.db import is_unavailable
from service.errors import DomainError, Forbidden, NotFound, Unauthenticated
from service.logging import get_logger
from service.security import Actor
from service.web.access import PUBLIC, authorize
from service.web.errors import OUTAGE_RETRY_AFTER_SECONDS, note_outage

log = get_logger("schoolgate.console")
SESSION_COOKIE = "sg_session"
CSRF_COOKIE = "sg_csrf"


class SignInRequired(Unauthenticated):
    code = "sign_in_required"
    message = "请先登录"


class PasswordChangeRequired(Forbidden):
    code = "password_change_required"
    message = "首次登录或密码被重置后，须先修改密码"


async def authenticate_session(connection: ASGIConnection) -> Actor:
    """The access guard's authenticator for pages: the session cookie's actor."""
    user = await session_user(connection.app.state.db, connection.cookies.get(SESSION_COOKIE))
    if user is None:
        raise SignInRequired()
    if user.must_change_password and not connection.route_handler.opt.get("password_page"):
        raise PasswordChangeRequired()
    connection.state.user = user
    return user.actor


def page(*roles, password_page: bool = False) -> dict[str, Any]:
    """Route arguments of a signed-in page open to `roles`."""
    return {
        "opt": {"access": frozenset(roles), "authenticator": authenticate_session, "password_page": password_page},
        "guards": [authorize],
        "include_in_schema": False,
    }


def public_page() -> dict[str, Any]:
    return {"opt": {"access": PUBLIC}, "include_in_schema": False}


def current_user(request: Request) -> SessionUser:
    return request.state.user


def header_of(user: SessionUser | None) -> dict[str, str] | None:
    """Who is signed in, as the header shows it: name, role, region or school."""
    if user is None:
        return None
    actor = user.actor
    where = user.school_name or (fmt.region_name(actor.region_code) if actor.region_code else "")
    if actor.vendor_credit_code and not where:
        where = actor.vendor_credit_code
    return {
        "name": user.name,
        "role": fmt.role_label(actor.role.value, actor.region_code),
        "where": where,
        "login": user.login,
    }


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Template:
    user = getattr(request.state, "user", None)
    context.setdefault("me", header_of(user))
    context.setdefault("role", user.actor.role.value if user else None)
    context.setdefault("path", request.url.path)
    context.setdefault("menu", menu_for(context["role"], request.url.path, context.pop("counts", None)))
    return Template(template_name=template, context=context, status_code=status_code)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def secure_cookies(request: Request) -> bool:
    setting = request.app.state.settings.secure_cookies
    return setting == "always" or (setting == "auto" and request.url.scheme == "https")


# ----------------------------------------------------------------- errors


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", status_code=status, title=title, message=message)


def console_error(request: Request, error: Exception) -> Response:
    if isinstance(error, SignInRequired):
        if request.method == "GET":
            return Redirect(path="/?next=" + quote(request.url.path, safe="/"), status_code=303)
        return _error_page(request, 401, "请先登录", "登录已失效，请重新登录后再操作。")
    if isinstance(error, PasswordChangeRequired):
        return Redirect(path="/account/password", status_code=303)
    if isinstance(error, NotFound) or (isinstance(error, Forbidden) and error.code == "role_not_allowed"):
        return _error_page(request, 404, "页面不存在", "该页面不存在，或不在您的权限范围内。")
    if isinstance(error, DomainError):
        return _error_page(request, error.status_code, "无法完成操作", error.message)
    if isinstance(error, HTTPException) and error.status_code < 500:
        if error.status_code == 403:
            return _error_page(
                request, 403, "请求已过期", "页面已过期或来源无法确认（CSRF 校验失败），请刷新页面后重试。"
            )
        return _error_page(request, error.status_code, "请求有误", "请求无法处理，请返回上一页重试。")
    if is_unavailable(error):  # an outage, not a bug: no traceback, logged once by the outage watch
        note_outage(request, error)
        page = _error_page(request, 503, "服务暂时不可用", "数据库暂时不可用，请稍后重试。")
        page.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER_SECONDS)
        return page
    log.error("console_error", error_type=type(error).__name__, exc_info=error)
    return _error_page(request, 500, "服务器内部错误", "服务器内部错误，请稍后重试或联系管理员。")


# The same keys as the API's table (service/web/errors.py): Litestar merges the layers'
# tables and picks by exception class, so a key left out would answer pages in JSON.
CONSOLE_ERRORS: ExceptionHandlersMap = {
    DomainError: console_error,
    ValidationException: console_error,
    HTTPException: console_error,
    Exception: console_error,
}
