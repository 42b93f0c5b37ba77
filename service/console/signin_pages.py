"""Sign-in, sign-out, the forced password change, and each role's home."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from schemas.text import MultilineText, Text
from service.accounts import change_own_password, session_user, sign_in, sign_out
from service.console.web import (
    SESSION_COOKIE,
    current_user,
    page,
    public_page,
    render,
    secure_cookies,
)
from service.errors import DomainError, InvalidInput
from service.security import Role
from service.web.deps import DB

# Form values may be multi-line (a reason typed in a textarea); every one follows the text rule.
Form = Annotated[dict[Text, MultilineText], Body(media_type=RequestEncodingType.URL_ENCODED)]
HOMES = {
    Role.REVIEWER: "/reviewer",
    Role.SCHOOL: "/school/check",
    Role.VENDOR: "/vendor",
    Role.AUDITOR: "/audit",
    Role.ADMIN: "/admin/accounts",
}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no `//host`, no scheme) is followed after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@get("/", **public_page())
async def home(request: Request, db: DB) -> Response:
    """The sign-in page, or the signed-in user's home."""
    user = await session_user(db, request.cookies.get(SESSION_COOKIE))
    if user is not None:
        if user.must_change_password:
            return Redirect("/account/password", status_code=303)
        return Redirect(HOMES[user.actor.role], status_code=303)
    return render(request, "login.html", next=_safe_next(request.query_params.get("next")), errors={}, login="")


@post("/login", status_code=200, **public_page())
async def login(request: Request, db: DB, data: Form) -> Response:
    """Form fields `login` and `password`; sets the session cookie."""
    target = _safe_next(data.get("next"))
    client = request.client.host if request.client else None
    try:
        signed = await sign_in(db, request.app.state.console_throttle, data.get("login"), data.get("password"), client)
    except DomainError as error:
        return render(
            request,
            "login.html",
            status_code=error.status_code,
            next=target,
            login=data.get("login", ""),
            errors={"summary": error.message},
        )
    response = Redirect("/account/password" if signed.must_change_password else (target or "/"), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
        max_age=int(request.app.state.console_throttle.policy.session_lifetime.total_seconds()),
    )
    return response


@post("/logout", status_code=200, **public_page())
async def logout(request: Request, db: DB) -> Response:
    await sign_out(db, request.cookies.get(SESSION_COOKIE))
    response = Redirect("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/account/password", **page(*Role, password_page=True))
async def password_form(request: Request) -> Response:
    return render(request, "password.html", errors={}, forced=current_user(request).must_change_password)


@post("/account/password", status_code=200, **page(*Role, password_page=True))
async def password_change(request: Request, db: DB, data: Form) -> Response:
    user = current_user(request)
    errors: dict[str, str] = {}
    if data.get("new_password", "") != data.get("confirm_password", ""):
        errors = {"confirm_password": "两次输入的新密码不一致"}
    else:
        try:
            await change_own_password(db, user, data.get("current_password", ""), data.get("new_password", ""))
        except InvalidInput as error:
            errors = {d["field"]: d["message"] for d in error.details}
    if errors:
        return render(request, "password.html", status_code=422, errors=errors, forced=user.must_change_password)
    return Redirect("/", status_code=303)


ROUTES = [home, login, logout, password_form, password_change]
