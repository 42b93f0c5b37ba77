"""Webhook pages (推送通知) for a school: its subscriptions, registering one (the signing
secret shown once), stopping one, and each one's delivery log.

Every step is a call of the webhooks front door, as the API's: the address checks, the
limit per school and the scope (another school's webhook is not found) are the
domain's. Registering redirects (Post/Redirect/Get) to a page that shows the secret
once (service/console/reveal.py), answered with Cache-Control: no-store."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from schemas.text import Text
from service import webhooks
from service.console import reveal
from service.console.order_pages import errors_of, school_code_of
from service.console.web import current_user, page, render
from service.errors import DomainError, NotFound
from service.security import Role
from service.web.deps import DB, AppSettings, Keys
from service.web.params import QueryText

Form = Annotated[dict[Text, Text], Body(media_type=RequestEncodingType.URL_ENCODED)]
CRUMBS = [{"text": "点单与安排"}, {"text": "推送通知", "href": "/school/webhooks"}]
DELIVERY_WORDS = {"pending": "待发送", "delivered": "已送达", "failed": "发送失败"}
DELIVERY_CHIPS = {"pending": "pending", "delivered": "valid", "failed": "not_cleared"}
CAUSE_WORDS = {
    "whitelist:entry:suspend": "白名单暂停",
    "whitelist:entry:revoke": "白名单撤销",
    "whitelist:entry:reinstate": "白名单恢复",
    "whitelist:entry:renew": "白名单续期",
    "personnel:check:record": "人员核查结果录入",
    "personnel:check:import": "人员核查结果导入",
    "personnel:engagement:end": "人员离职",
    "personnel:bar:lift_confirm": "解除禁入",
    "personnel:person:suspend": "人员入校资格暂停（投诉调查中）",
    "personnel:person:lift_suspension": "人员入校资格恢复",
    "time:standing_scan": "有效期到期或临近（定时检查）",
}
ERROR_WORDS = {
    "timeout": "接收方超时未应答",
    "connect_error": "无法连接接收方",
    "webhook_disabled": "推送地址已停用，不再发送",
    "webhook_address_not_allowed": "地址已不在允许范围内",
    "webhook_host_not_allowed": "主机已不在管理员允许的名单中",
    "webhook_host_unresolvable": "无法解析接收方主机名",
}
DONE_WORDS = {"disabled": "已停用该推送地址，不再向其发送；待发送的通知已终止并保留在推送记录中"}


def created_path(webhook_id: UUID) -> str:
    return f"/school/webhooks/{webhook_id}/created"


def error_words(code: str | None) -> str:
    if not code:
        return "—"
    if code.startswith("http_"):
        return f"接收方应答 HTTP {code[5:]}"
    return ERROR_WORDS.get(code, code)


async def _list_page(
    request: Request, db, *, status_code: int = 200, url: str = "", errors: dict | None = None, done: str | None = None
) -> Response:
    actor = current_user(request).actor
    hooks = await webhooks.list_webhooks(db, actor, school_code_of(request))
    return render(
        request,
        "school/webhooks.html",
        status_code=status_code,
        title="推送通知",
        hooks=hooks,
        active=sum(1 for h in hooks if h.active),
        limit=webhooks.MAX_WEBHOOKS_PER_SCHOOL,
        url=url,
        errors=errors or {},
        message=DONE_WORDS.get(done or ""),
        crumbs=CRUMBS[:1] + [{"text": "推送通知"}],
    )


@get("/school/webhooks", **page(Role.SCHOOL))
async def webhook_list(request: Request, db: DB, done: QueryText = None) -> Response:
    """推送通知: the school's webhooks, the form to add one, and what they are for."""
    return await _list_page(request, db, done=done)


@post("/school/webhooks", status_code=200, **page(Role.SCHOOL))
async def webhook_create(request: Request, db: DB, keyring: Keys, settings: AppSettings, data: Form) -> Response:
    """Register the URL (the domain's checks); on success, redirect to the page that
    shows the secret once. A refusal sits next to the field, and nothing is stored."""
    url = data.get("url", "")
    try:
        created = await webhooks.create_webhook(
            db, keyring, current_user(request).actor, school_code_of(request), url, webhooks.address_policy(settings)
        )
    except DomainError as error:
        if error.status_code == 404 or error.status_code >= 500:
            raise
        return await _list_page(request, db, status_code=error.status_code, url=url, errors=errors_of(error))
    path = created_path(created.webhook.id)
    return reveal.hand_over(request, keyring, Redirect(path, status_code=303), path, created.secret)


async def _own_webhook(request: Request, db, webhook_id: UUID) -> webhooks.Webhook:
    hooks = await webhooks.list_webhooks(db, current_user(request).actor, school_code_of(request))
    found = next((h for h in hooks if h.id == webhook_id), None)
    if found is None:
        raise NotFound("未找到该推送地址", code="webhook_not_found")
    return found


@get("/school/webhooks/{webhook_id:uuid}/created", **page(Role.SCHOOL))
async def webhook_created(request: Request, db: DB, keyring: Keys, webhook_id: FromPath[UUID]) -> Response:
    """The secret, this once (no-store); a refresh says it was shown and how to get a new one."""
    hook = await _own_webhook(request, db, webhook_id)
    path = created_path(webhook_id)
    response = render(
        request,
        "school/webhook_created.html",
        title="推送地址已登记",
        hook=hook,
        secret=reveal.take(request, keyring, path),
        headers={
            "delivery": webhooks.DELIVERY_HEADER,
            "timestamp": webhooks.TIMESTAMP_HEADER,
            "signature": webhooks.SIGNATURE_HEADER,
        },
        crumbs=[*CRUMBS, {"text": "已登记"}],
    )
    return reveal.shown_once(response, path)


@post("/school/webhooks/{webhook_id:uuid}/disable", status_code=200, **page(Role.SCHOOL))
async def webhook_disable(request: Request, db: DB, webhook_id: FromPath[UUID]) -> Response:
    await webhooks.disable_webhook(db, current_user(request).actor, school_code_of(request), webhook_id)
    return Redirect("/school/webhooks?done=disabled", status_code=303)


@get("/school/webhooks/{webhook_id:uuid}/deliveries", **page(Role.SCHOOL))
async def webhook_deliveries(request: Request, db: DB, webhook_id: FromPath[UUID]) -> Response:
    """推送记录: the last 100 deliveries, newest first, each with its state in words."""
    actor = current_user(request).actor
    hook = await _own_webhook(request, db, webhook_id)
    views = await webhooks.list_deliveries(db, actor, school_code_of(request), webhook_id)
    return render(
        request,
        "school/webhook_deliveries.html",
        title="推送记录",
        hook=hook,
        rows=[
            {
                "d": v.delivery,
                "cause": CAUSE_WORDS.get(v.delivery.cause, v.delivery.cause),
                "orders": v.payload.get("orders", []),
                "status": DELIVERY_WORDS.get(v.delivery.status, v.delivery.status),
                "chip": DELIVERY_CHIPS.get(v.delivery.status, "closed"),
                "error": error_words(v.delivery.last_error),
            }
            for v in views
        ],
        crumbs=[*CRUMBS, {"text": "推送记录"}],
    )


ROUTES = [webhook_list, webhook_create, webhook_created, webhook_disable, webhook_deliveries]
