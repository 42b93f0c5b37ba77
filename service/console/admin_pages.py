"""Admin pages: the accounts, a password reset (a one-time password, to be changed at
the next sign-in), and disabling or enabling an account."""

from __future__ import annotations

import secrets
from typing import Annotated
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from schemas.text import MultilineText, Text
from service.accounts import list_accounts, set_disabled, set_password
from service.console.web import current_user, page, render
from service.errors import DomainError
from service.security import Role
from service.web.deps import DB

# Form values may be multi-line (a reason typed in a textarea); every one follows the text rule.
Form = Annotated[dict[Text, MultilineText], Body(media_type=RequestEncodingType.URL_ENCODED)]


async def _page(
    request: Request, db, *, status_code: int = 200, message: str | None = None, error: str | None = None
) -> Response:
    accounts = await list_accounts(db, current_user(request).actor)
    return render(
        request,
        "admin/accounts.html",
        status_code=status_code,
        title="账号管理",
        accounts=accounts,
        message=message,
        error=error,
        crumbs=[{"text": "系统"}, {"text": "账号管理"}],
    )


@get("/admin/accounts", **page(Role.ADMIN))
async def accounts(request: Request, db: DB) -> Response:
    return await _page(request, db)


@post("/admin/accounts/{account_id:uuid}/reset", status_code=200, **page(Role.ADMIN))
async def reset(request: Request, db: DB, account_id: FromPath[UUID], data: Form) -> Response:
    """A new one-time password, shown once here; every session of the account ends."""
    temporary = secrets.token_urlsafe(12)
    try:
        await set_password(db, current_user(request).actor, data.get("login", ""), temporary, must_change=True)
    except DomainError as error:
        return await _page(request, db, status_code=error.status_code, error=error.message)
    return await _page(
        request,
        db,
        message=f"已重置 {data.get('login')} 的密码。一次性密码：{temporary}"
        "（仅显示这一次，请当面或电话告知本人；首次登录须修改）",
    )


@post("/admin/accounts/{account_id:uuid}/disable", status_code=200, **page(Role.ADMIN))
async def disable(request: Request, db: DB, account_id: FromPath[UUID], data: Form) -> Response:
    enable = data.get("enable") == "yes"
    try:
        await set_disabled(db, current_user(request).actor, account_id, not enable)
    except DomainError as error:
        return await _page(request, db, status_code=error.status_code, error=error.message)
    return await _page(request, db, message="账号已启用" if enable else "账号已停用，其登录会话与 API 令牌均已失效")


ROUTES = [accounts, reset, disable]
