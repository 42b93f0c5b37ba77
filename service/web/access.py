"""Every route declares who may call it; one guard enforces the declaration.

`access(...)` returns the route decorator arguments that carry the rule (in `opt`) and
document it in OpenAPI (bearer security and the error responses the rule can produce).
The guard fails closed: a route without a declaration answers 403 to everyone, and a
test lists every route to make sure none is left undeclared.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.openapi import ResponseSpec

from schemas.errors import ErrorBody
from service.accounts.services import authenticate
from service.errors import Forbidden, Unauthenticated
from service.security.actor import Actor, Role

PUBLIC = "public"
ANY_ROLE = frozenset(Role)
ERROR_TEXT = {
    400: "请求格式错误", 401: "未登录或令牌无效", 403: "角色无权访问", 404: "对象不存在或不在权限范围内",
    409: "冲突", 413: "文件过大", 415: "文件类型不受支持", 422: "数据校验失败", 429: "请求过于频繁",
}


def _error_responses(codes) -> dict[int, ResponseSpec]:
    return {code: ResponseSpec(data_container=ErrorBody, description=ERROR_TEXT[code]) for code in sorted(codes)}


def access(*roles: Role, errors: tuple[int, ...] = ()) -> dict[str, Any]:
    """Route arguments for an authenticated endpoint open to `roles`."""
    if not roles:
        raise ValueError("name at least one role, or use public()")
    return {
        "opt": {"access": frozenset(roles)},
        "security": [{"BearerToken": []}],
        "responses": _error_responses({401, 403, *errors}),
    }


def public(errors: tuple[int, ...] = ()) -> dict[str, Any]:
    return {"opt": {"access": PUBLIC}, "responses": _error_responses(errors)}


def _bearer_token(connection: ASGIConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authorize(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    rule = handler.opt.get("access")
    if rule == PUBLIC:
        return
    if not isinstance(rule, frozenset):
        raise Forbidden("该接口未声明访问规则", code="access_undeclared")
    token = _bearer_token(connection)
    actor = await authenticate(connection.app.state.db, token) if token else None
    if actor is None:
        raise Unauthenticated(headers={"WWW-Authenticate": "Bearer"})
    if actor.role not in rule:
        raise Forbidden("当前角色无权调用该接口", code="role_not_allowed")
    connection.state.actor = actor


async def provide_actor(request: Request) -> Actor:
    return request.state.actor
