"""Public pages, no sign-in: the whitelist and the notices in their notice period.

A parent reads these on a phone: one column under 600 px, cards rather than tables.
Both read the same front doors as the public API (whitelist.queries, applications.queries)."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, Response, get

from service.applications import public_notices, settle_due_notices
from service.console.web import public_page, render
from service.errors import InvalidInput
from service.regions import regions
from service.service_items import CATEGORIES
from service.web.deps import DB
from service.web.params import QueryText
from service.whitelist import PublicRow, filters, public_whitelist

PAGE_SIZE = 60


def _region_choices() -> list[tuple[str, str]]:
    province = "360000"
    return [(province, regions().require(province).name)] + [
        (code, info.name)
        for code in regions().descendants(province)
        if code != province and (info := regions().require(code)).level == "city"
    ]


def _category(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput.field("category", "unknown_category", "活动类别须为 1 至 8")
    return int(value)


def _cards(rows) -> list[dict]:
    """Rows (one per entry) grouped into one card per vendor, in the list's order."""
    cards: dict[str, dict] = {}
    for row in rows:
        card = cards.setdefault(
            row.credit_code,
            {
                "name": row.vendor_name,
                "credit_code": row.credit_code,
                "items": [],
                "valid_until": row.valid_until,
                "regions": set(),
            },
        )
        card["items"].append(row)
        card["valid_until"] = max(card["valid_until"], row.valid_until)
        card["regions"].add(row.region_name)
    return [dict(card, regions=sorted(card["regions"])) for card in cards.values()]


@get("/public/whitelist", **public_page())
async def whitelist_page(
    request: Request,
    db: DB,
    q: QueryText = None,
    region: QueryText = None,
    category: QueryText = None,
    cursor: QueryText = None,
) -> Response:
    """白名单公示: search, region and category filters, PDF and CSV downloads."""
    chosen = {"q": (q or "").strip(), "region": region or "", "category": category or ""}
    errors: dict[str, str] = {}
    rows: list[PublicRow] = []
    next_cursor, status = None, 200
    try:
        f = filters(region or None, _category(category), q)
        await settle_due_notices(db)  # a notice over by now: its vendor is listed
        rows, next_cursor = await public_whitelist(db, f, cursor=cursor or None, limit=PAGE_SIZE)
    except InvalidInput as error:
        errors, status = {d["field"]: d["message"] for d in error.details}, 422
    query = {k: v for k, v in (("region", chosen["region"]), ("category", chosen["category"])) if v}
    return render(
        request,
        "public/whitelist.html",
        status_code=status,
        title="校外机构进校园白名单",
        cards=_cards(rows),
        chosen=chosen,
        errors=errors,
        next_cursor=next_cursor,
        region_choices=_region_choices(),
        categories=sorted(CATEGORIES.items()),
        pdf_href="/api/v1/public/whitelist.pdf" + ("?" + urlencode(query) if query else ""),
        csv_href="/api/v1/public/whitelist?"
        + urlencode({**query, "format": "csv", **({"q": chosen["q"]} if chosen["q"] else {})}),
        next_href=("/public/whitelist?" + urlencode({**chosen, "cursor": next_cursor})) if next_cursor else None,
    )


@get("/public/notices", **public_page())
async def notices_page(request: Request, db: DB, region: QueryText = None) -> Response:
    """入校公示: admissions in their notice period, the end of each, and how to object."""
    errors, notices, status = {}, [], 200
    try:
        found = await public_notices(db, region_code=region or None, limit=200)
        notices = found.items
    except InvalidInput as error:
        errors, status = {d["field"]: d["message"] for d in error.details}, 422
    return render(
        request,
        "public/notices.html",
        status_code=status,
        title="入校公示",
        notices=notices,
        errors=errors,
        chosen={"region": region or ""},
        region_choices=_region_choices(),
        pdf_href="/api/v1/public/notices.pdf" + ("?" + urlencode({"region": region}) if region else ""),
    )


ROUTES = [whitelist_page, notices_page]
