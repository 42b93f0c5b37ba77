"""Every route declares who may call it; one guard enforces the declaration.

`access(...)` returns the route decorator arguments that carry the rule (in `opt`) and
document it in OpenAPI (bearer security and the error responses the rule can produce).
The rule travels with its guard (only non-public routes pay for a guard call). It fails
closed: the app refuses to start with a route that is neither public nor guarded, the
guard answers 403 to a route whose rule it cannot read, and a test lists every route to
make sure none is left undeclared.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.openapi import ResponseSpec

from schemas.errors import ErrorBody
from service.accounts import Authenticated, authenticate, authenticate_cached, still_authenticated
from service.errors import DomainError, Forbidden, TooManyRequests, Unauthenticated
from service.security import Actor, Role

PUBLIC = "public"
ANY_ROLE = frozenset(Role)
ERROR_TEXT = {
    400: "请求格式错误",
    401: "未登录或令牌无效",
    403: "角色无权访问",
    404: "对象不存在或不在权限范围内",
    409: "冲突",
    413: "文件过大",
    415: "文件类型不受支持",
    422: "数据校验失败",
    429: "请求过于频繁",
    503: "暂不可用，请稍后重试",
}


def _error_responses(codes) -> dict[int, ResponseSpec]:
    return {code: ResponseSpec(data_container=ErrorBody, description=ERROR_TEXT[code]) for code in sorted(codes)}


def access(*roles: Role, errors: tuple[int, ...] = (), revalidates_token: bool = False) -> dict[str, Any]:
    """Route arguments for an authenticated endpoint open to `roles`.

    `revalidates_token=True`: the handler re-validates the bearer token in PostgreSQL in
    the statement that makes its work durable (the lookups' receipt store), so the
    guard may take the actor from the per-process token cache (no round trip). Such a
    handler must run its work through `revalidated(...)`."""
    if not roles:
        raise ValueError("name at least one role, or use public()")
    return {
        "opt": {"access": frozenset(roles), "revalidates_token": revalidates_token},
        "guards": [authorize],
        "security": [{"BearerToken": []}],
        "responses": _error_responses({401, 403, *errors}),
    }


def public(errors: tuple[int, ...] = ()) -> dict[str, Any]:
    return {"opt": {"access": PUBLIC}, "responses": _error_responses(errors)}


def _bearer_token(connection: ASGIConnection) -> str | None:
    # From the raw ASGI headers: building Litestar's Headers object costs more than the
    # whole scan, on every authenticated request.
    header = ""
    for name, value in connection.scope["headers"]:
        if name.lower() == b"authorization":
            header = value.decode("latin-1")
            break
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
    authenticator = handler.opt.get("authenticator")
    if authenticator is not None:
        # Console pages: the session cookie, not a bearer token (service/console/web.py).
        actor = await authenticator(connection)
        if actor.role not in rule:
            raise Forbidden("当前角色无权访问该页面", code="role_not_allowed")
        connection.state.actor = actor
        return
    token = _bearer_token(connection)
    db = connection.app.state.db
    if token and handler.opt.get("revalidates_token"):
        auth = await authenticate_cached(db, token)
        if (
            auth is not None
            and auth.from_cache
            and auth.actor.role not in rule
            and not await still_authenticated(db, auth.token_hash, auth.actor)
        ):
            auth = None
        connection.state.auth = auth
        actor = auth.actor if auth is not None else None
    else:
        actor = await authenticate(db, token) if token else None
    if actor is None:
        raise unauthenticated()
    if actor.role not in rule:
        raise Forbidden("当前角色无权调用该接口", code="role_not_allowed")
    connection.state.actor = actor


def unauthenticated() -> Unauthenticated:
    return Unauthenticated(headers={"WWW-Authenticate": "Bearer"})


def token_to_revalidate(request: Request) -> str | None:
    """The token hash the handler must have PostgreSQL re-validate (its actor came from
    the per-process cache), or None."""
    auth: Authenticated | None = getattr(request.state, "auth", None)
    return auth.token_hash if auth is not None and auth.from_cache else None


async def revalidated(request: Request, work):
    """Run `work(actor, token_hash)` for a `revalidates_token` route. `work` passes the
    hash to the statement that stores its result (which refuses a revoked token: 401).
    When it fails before getting there (a 422, a 404…) with an actor from the cache, the
    token is checked now, so a revoked token always gets 401, never another answer."""
    token_hash = token_to_revalidate(request)
    try:
        return await work(request.state.actor, token_hash)
    except (Unauthenticated, TooManyRequests):
        raise
    except DomainError:
        auth: Authenticated = request.state.auth
        if token_hash is not None and not await still_authenticated(request.app.state.db, token_hash, auth.actor):
            raise unauthenticated() from None
        raise


async def provide_actor(request: Request) -> Actor:
    return request.state.actor
