"""区域设置: the settings in force for a region in the reviewer's scope, where each value
comes from (its own, a parent's, the default), and a form for the region's own values.
Validation is the region-settings domain's; a blank field inherits again."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from schemas.text import Text
from service.console.reviewer_pages import queue_count, region_choices
from service.console.web import current_user, page, render
from service.errors import DomainError, InvalidInput
from service.region_settings import read_settings, update_settings
from service.security import Role
from service.web.deps import DB
from service.web.params import QueryText

Form = Annotated[dict[Text, Text], Body(media_type=RequestEncodingType.URL_ENCODED)]
INTEGER_FIELDS = {"notice_days": "公示天数", "whitelist_validity_days": "白名单有效天数"}


async def _page(
    request: Request, db, region: str | None, *, status_code: int = 200, errors=None, message: str | None = None
) -> Response:
    actor = current_user(request).actor
    # Only reviewers reach these pages and each has a region; "" would be refused as unknown.
    region = region or actor.region_code or ""
    effective = await read_settings(db, actor, region)
    return render(
        request,
        "reviewer/settings.html",
        status_code=status_code,
        title="区域设置",
        region=region,
        effective=effective,
        choices=region_choices(actor),
        errors=errors or {},
        message=message,
        counts={"/reviewer": await queue_count(db, actor)},
        crumbs=[{"text": "审核"}, {"text": "区域设置"}],
    )


@get("/reviewer/settings", **page(Role.REVIEWER))
async def settings_page(request: Request, db: DB, region: QueryText = None) -> Response:
    return await _page(request, db, region)


@post("/reviewer/settings", status_code=200, **page(Role.REVIEWER))
async def save(request: Request, db: DB, data: Form) -> Response:
    region = data.get("region") or current_user(request).actor.region_code or ""
    changes: dict = {}
    try:
        for name in INTEGER_FIELDS:
            text = (data.get(name) or "").strip()
            if text and not text.lstrip("-").isdigit():
                raise InvalidInput.field(name, "invalid_number", f"{INTEGER_FIELDS[name]}须为整数")
            changes[name] = int(text) if text else None
        choice = data.get("city_review_required", "")
        changes["city_review_required"] = {"yes": True, "no": False}.get(choice)
        await update_settings(db, current_user(request).actor, region, changes)
    except DomainError as error:
        problems = {d["field"]: d["message"] for d in error.details} or {"summary": error.message}
        return await _page(request, db, region, status_code=error.status_code, errors=problems)
    return await _page(request, db, region, message="设置已保存，并记入审计日志")


ROUTES = [settings_page, save]
