"""What the vendor pages share: the form shapes, their labels, how a refusal becomes
field errors, the vendor of the signed-in account, and the breadcrumb."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.params import Body

from schemas.text import MultilineText, Text
from service.console.web import current_user
from service.errors import DomainError, NotFound
from service.regions import regions
from service.vendors import own_vendor

# Every form value follows the text rule (schemas/text.py); a repeated field arrives as a list.
Form = Annotated[dict[Text, MultilineText | list[MultilineText]], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[Text, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
ORG_LABELS = {
    "enterprise": "企业",
    "private_non_enterprise": "民办非企业单位",
    "social_organization": "社会团体",
    "public_institution": "事业单位",
}
FILE_CHECK_CODES = ("unsupported_file_type", "file_too_large")
PERSON_ROLE_LABELS = {"lead_instructor": "主讲教师", "assistant": "助教", "driver": "司机", "other": "其他"}


def form_text(data: Mapping[str, object], name: str) -> str:
    """One text field of a form, "" when absent; a repeated field counts as its first value."""
    value = data.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def form_errors(error: DomainError) -> dict[str, str]:
    found = {d.get("field") or "summary": d["message"] for d in error.details}
    return found or {"summary": error.message}


def upload_errors(error: DomainError) -> dict[str, str]:
    """The file checks' refusals (type by content, size) name no field: they are the file's."""
    errors = form_errors(error)
    if set(errors) == {"summary"} and error.code in FILE_CHECK_CODES:
        return {"file": errors["summary"]}
    return errors


async def vendor_or_register(request: Request, db):
    vendor = await own_vendor(db, current_user(request).actor)
    if vendor is None:
        raise Unregistered()
    return vendor


class Unregistered(NotFound):
    code = "vendor_not_registered"
    message = "请先登记机构信息"


def region_groups(province: str = "360000") -> list[tuple[str, list[tuple[str, str]]]]:
    """The province's cities, each with itself (全市) and its counties, by code: a clerk
    picks 青云谱区 by name instead of typing 360104."""
    children: dict[str, list[tuple[str, str]]] = {}
    for info in regions():
        if info.parent_code:
            children.setdefault(info.parent_code, []).append((info.code, info.name))
    return [
        (name, [(city, f"{name}（全市）"), *sorted(children.get(city, []))])
        for city, name in sorted(children.get(province, []))
    ]


def crumbs(*parts: str) -> list[dict]:
    return [{"text": "机构", "href": "/vendor"}] + [{"text": p} for p in parts]
