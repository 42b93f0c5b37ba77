"""Rating pages (评价, issue 15 §6): the school rates each accepted order of the term once
and issues one-time codes for pupils and parents (a printable list, shown once); a
public page where a parent types a code and rates, on a phone, with no sign-in; the
bureau's re-reviews of items below the satisfaction threshold, closed with a reason.

Every step is a call of the ratings front door, as the API's: the rating window, once
per order and per code, the class-size limit on codes, the threshold and the scope are
the domain's. Each form redirects after success (Post/Redirect/Get); the codes reach
their printable page through service/console/reveal.py, answered with no-store."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from schemas.text import MultilineText, Text
from service import ratings
from service.console import reveal
from service.console.order_pages import errors_of, school_code_of, term_of, uuid_or_none
from service.console.reviewer_pages import region_choices
from service.console.web import current_user, page, public_page, render
from service.errors import DomainError, InvalidInput, NotFound
from service.orders import list_terms
from service.security import Role
from service.timeutil import today_in_china
from service.web.deps import DB, Keys
from service.web.params import QueryText

Form = Annotated[dict[Text, MultilineText], Body(media_type=RequestEncodingType.URL_ENCODED)]
BUREAU = (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
CODE_LENGTH = 10  # a code is PJ-XXXXX-XXXXX: ten characters after the prefix
DONE_WORDS = {"rated": "已提交本校评价", "closed": "已办结该复核"}
VERDICTS = {"yes": True, "no": False}
PUBLIC_PATH = "/public/rating"


def _verdict(data: dict) -> bool:
    found = VERDICTS.get(data.get("satisfied", ""))
    if found is None:
        raise InvalidInput.field("satisfied", "required", "请选择“满意”或“不满意”")
    return found


# ------------------------------------------------------------- the school's


async def _school_page(
    request: Request,
    db,
    term: str | None,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict | None = None,
    tried: str | None = None,
) -> Response:
    actor = current_user(request).actor
    terms = await list_terms(db, actor, None)
    chosen = term_of(terms, uuid_or_none(term, "term"))
    rows = await ratings.school_rating_rows(db, actor, school_code_of(request), chosen.id) if chosen else []
    opens, closes = ratings.rating_window(chosen.ends_on) if chosen else (None, None)
    today = today_in_china()
    return render(
        request,
        "school/ratings.html",
        status_code=status_code,
        title="评价",
        terms=terms,
        term=chosen,
        rows=rows,
        opens=opens,
        closes=closes,
        window_open=bool(opens and closes and opens <= today <= closes),
        max_codes=ratings.MAX_CODES_PER_CALL,
        message=message,
        message_kind="error" if status_code >= 400 else "ok",
        errors=errors or {},
        tried=tried,
        public_path=PUBLIC_PATH,
        crumbs=[{"text": "点单与安排"}, {"text": "评价"}],
    )


@get("/school/ratings", **page(Role.SCHOOL))
async def school_ratings(request: Request, db: DB, term: QueryText = None, done: QueryText = None) -> Response:
    """评价: the term's accepted orders, the school's verdict on each, and its codes."""
    return await _school_page(request, db, term, message=DONE_WORDS.get(done or ""))


def _refused(error: DomainError) -> tuple[int, str | None, dict]:
    if error.status_code == 404 or error.status_code >= 500:
        raise error
    if isinstance(error, InvalidInput):
        return error.status_code, None, errors_of(error)
    return error.status_code, error.message, {}


@post("/school/ratings/{order_id:uuid}", status_code=200, **page(Role.SCHOOL))
async def school_rate(request: Request, db: DB, order_id: FromPath[UUID], data: Form) -> Response:
    """The school's verdict on one order, once (the domain refuses a second)."""
    term = data.get("term", "")
    try:
        await ratings.rate_as_school(db, current_user(request).actor, order_id, _verdict(data))
    except DomainError as error:
        status, message, errors = _refused(error)
        return await _school_page(
            request, db, term, status_code=status, message=message, errors=errors, tried=str(order_id)
        )
    return Redirect(f"/school/ratings?term={term}&done=rated", status_code=303)


def codes_path(order_id: UUID) -> str:
    return f"/school/ratings/{order_id}/codes"


def pack(codes: list[str]) -> str:
    """`PJ-ABCDE-FGHJK` x n -> the ten characters of each, end to end (fits a cookie)."""
    return "".join(c.replace("PJ-", "").replace("-", "") for c in codes)


def unpack(packed: str) -> list[str]:
    raws = [packed[i : i + CODE_LENGTH] for i in range(0, len(packed), CODE_LENGTH)]
    return [f"PJ-{r[:5]}-{r[5:]}" for r in raws if len(r) == CODE_LENGTH]


@post("/school/ratings/{order_id:uuid}/codes", status_code=200, **page(Role.SCHOOL))
async def issue_codes(request: Request, db: DB, keyring: Keys, order_id: FromPath[UUID], data: Form) -> Response:
    """Issue codes, then redirect to their printable list (shown once)."""
    term = data.get("term", "")
    count = data.get("count", "").strip()
    try:
        if not count.isdigit():
            raise InvalidInput.field("count", "invalid_count", "评价码数量请填写整数")
        codes = await ratings.issue_codes(db, keyring, current_user(request).actor, order_id, int(count))
    except DomainError as error:
        status, message, errors = _refused(error)
        return await _school_page(
            request, db, term, status_code=status, message=message, errors=errors, tried=str(order_id)
        )
    path = codes_path(order_id)
    return reveal.hand_over(request, keyring, Redirect(f"{path}?term={term}", status_code=303), path, pack(codes))


@get("/school/ratings/{order_id:uuid}/codes", **page(Role.SCHOOL))
async def printable_codes(
    request: Request, db: DB, keyring: Keys, order_id: FromPath[UUID], term: QueryText = None
) -> Response:
    """The codes just issued, to print and hand out (no-store; a refresh no longer shows them)."""
    actor = current_user(request).actor
    chosen = term_of(await list_terms(db, actor, None), uuid_or_none(term, "term"))
    rows = await ratings.school_rating_rows(db, actor, school_code_of(request), chosen.id) if chosen else []
    row = next((r for r in rows if r.order.order_id == order_id), None)
    if row is None or chosen is None:
        raise NotFound("未找到该订单", code="order_not_found")
    path = codes_path(order_id)
    packed = reveal.take(request, keyring, path)
    response = render(
        request,
        "school/rating_codes.html",
        title="评价码",
        row=row,
        term=chosen,
        codes=unpack(packed) if packed else None,
        closes=ratings.rating_window(chosen.ends_on)[1],
        public_url=str(request.base_url).rstrip("/") + PUBLIC_PATH,
        crumbs=[
            {"text": "点单与安排"},
            {"text": "评价", "href": f"/school/ratings?term={chosen.id}"},
            {"text": "评价码"},
        ],
    )
    return reveal.shown_once(response, path)


# ------------------------------------------------------------- the public's


def _public_page(request: Request, *, status_code: int = 200, form: dict | None = None, errors: dict | None = None):
    return render(
        request,
        "public/rating_form.html",
        status_code=status_code,
        title="课后服务评价",
        form=form or {},
        errors=errors or {},
    )


@get(PUBLIC_PATH, **public_page())
async def public_rating_form(request: Request) -> Response:
    """评价 (no sign-in): the code from the school's slip, and 满意 or 不满意."""
    return _public_page(request)


@post(PUBLIC_PATH, status_code=200, **public_page())
async def public_rate(request: Request, db: DB, keyring: Keys, data: Form) -> Response:
    form = {"code": data.get("code", "").strip(), "satisfied": data.get("satisfied", "")}
    try:
        if not form["code"]:
            raise InvalidInput.field("code", "required", "请填写评价码")
        await ratings.rate_with_code(db, keyring, form["code"], _verdict(data))
    except DomainError as error:
        if error.status_code >= 500:
            raise
        errors = errors_of(error) if isinstance(error, InvalidInput) else {"code": error.message}
        return _public_page(request, status_code=error.status_code, form=form, errors=errors)
    return Redirect(PUBLIC_PATH + "/thanks", status_code=303)


@get(PUBLIC_PATH + "/thanks", **public_page())
async def public_thanks(request: Request) -> Response:
    return render(request, "public/rating_done.html", title="感谢您的评价")


# ------------------------------------------------------------- the bureau's


async def _reviews_page(
    request: Request,
    db,
    region: str | None,
    status: str | None,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict | None = None,
    tried: str | None = None,
    reason: str = "",
) -> Response:
    actor = current_user(request).actor
    region_code = (region or "").strip() or actor.region_code or "360000"
    status = (status or "open").strip()
    views = await ratings.re_review_views(db, actor, region_code, state=None if status == "all" else status)
    return render(
        request,
        "reviewer/re_reviews.html",
        status_code=status_code,
        title="满意度复核",
        views=views,
        region_code=region_code,
        region_choices=region_choices(actor),
        status=status,
        can_close=actor.role is Role.REVIEWER,
        message=message,
        message_kind="error" if status_code >= 400 else "ok",
        errors=errors or {},
        tried=tried,
        reason=reason,
        crumbs=[{"text": "监管"}, {"text": "满意度复核"}],
    )


@get("/reviewer/re-reviews", **page(*BUREAU))
async def re_reviews(
    request: Request, db: DB, region: QueryText = None, status: QueryText = None, done: QueryText = None
) -> Response:
    """满意度复核: items whose term satisfaction fell below the region's threshold."""
    return await _reviews_page(request, db, region, status, message=DONE_WORDS.get(done or ""))


@post("/reviewer/re-reviews/{review_id:uuid}/close", status_code=200, **page(Role.REVIEWER))
async def close_re_review(request: Request, db: DB, review_id: FromPath[UUID], data: Form) -> Response:
    """Close a re-review with what was done (or why nothing), after acting on the whitelist."""
    region, reason = data.get("region", ""), data.get("reason", "")
    try:
        await ratings.close_re_review(db, current_user(request).actor, review_id, reason or None)
    except DomainError as error:
        status, message, errors = _refused(error)
        return await _reviews_page(
            request,
            db,
            region,
            "open",
            status_code=status,
            message=message,
            errors=errors,
            tried=str(review_id),
            reason=reason,
        )
    return Redirect(f"/reviewer/re-reviews?region={region}&done=closed", status_code=303)


ROUTES = [
    school_ratings,
    school_rate,
    issue_codes,
    printable_codes,
    public_rating_form,
    public_rate,
    public_thanks,
    re_reviews,
    close_re_review,
]
