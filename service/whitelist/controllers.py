"""HTTP for the dynamic whitelist (reviewers), entry history, and the public whitelist."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import (
    FromPath,
    FromQuery,
    HeaderParameter,
    JSONBody,
    QueryParameter,
)
from litestar.response import Stream

from schemas.inputs import INT32_MAX
from schemas.whitelist import (
    ActionRequestOut,
    ActionResultOut,
    EntryChangeOut,
    EntryOut,
    IntervalOut,
    PublicWhitelistPage,
    PublicWhitelistRow,
    RequestDecision,
    WhitelistActionCreate,
)
from service.applications import settle_due_notices
from service.idempotency import Idempotency
from service.security import Role
from service.web.access import access, public
from service.web.deps import DB, CurrentActor
from service.web.idempotency import (
    IdempotencyHeader,
    encode_json,
    idempotency_key,
    reply_response,
)
from service.web.params import QueryInstant, QueryText, bounded_query, instant
from service.whitelist import actions, decisions, entries, queries, requests, services
from service.whitelist.changes import ActionResult
from service.whitelist.models import WhitelistActionRequest

READERS = (Role.VENDOR, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
CSV_COLUMNS = (
    "credit_code",
    "vendor_name",
    "item_id",
    "category_code",
    "category_name",
    "activity",
    "grade_bands",
    "fee",
    "fee_unit",
    "fee_published_on",
    "region_code",
    "region_name",
    "valid_until",
)


def request_out(request: WhitelistActionRequest) -> ActionRequestOut:
    return ActionRequestOut(
        id=request.id,
        action=request.action,
        status=request.status,
        vendor_id=request.vendor_id,
        entry_ids=list(request.entry_ids),
        region_code=request.region_code,
        reason=request.reason,
        ban_until=request.ban_until,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
        decision_reason=request.decision_reason,
    )


def result_out(result: ActionResult) -> ActionResultOut:
    return ActionResultOut(
        action=result.action,
        status=result.status,
        request=request_out(result.request) if result.request is not None else None,
        entries=[
            EntryChangeOut(
                entry_id=c.entry.id,
                service_item_id=c.entry.service_item_id,
                region_code=c.entry.region_code,
                status_before=c.before,
                status_after=c.after,
                valid_until=c.entry.valid_until,
            )
            for c in result.changes
        ],
    )


def encode_result(result: ActionResult) -> bytes:
    return encode_json(result_out(result))


def entry_out(view: entries.EntryView) -> EntryOut:
    e = view.entry
    return EntryOut(
        id=e.id,
        vendor_id=e.vendor_id,
        service_item_id=e.service_item_id,
        region_code=e.region_code,
        status=view.status,
        as_of=view.at,
        valid_from=e.valid_from,
        valid_until=e.valid_until,
        fee=e.fee,
        fee_unit=e.fee_unit,
        fee_published_on=e.fee_published_on,
        history=[
            IntervalOut(
                status=h.status,
                action=h.action,
                reason=h.reason,
                valid_from=h.valid_from,
                valid_to=h.valid_to,
                entry_valid_until=h.entry_valid_until,
                suspended_until=h.suspended_until,
                ban_until=h.ban_until,
                actor_account_id=h.actor_account_id,
                confirmed_by=h.confirmed_by,
                request_id=h.request_id,
            )
            for h in view.history
        ],
    )


def _as_of(value: str | None) -> datetime | None:
    return instant(value, "as_of")


class WhitelistController(Controller):
    path = "/api/v1/whitelist"
    tags = ["whitelist"]

    @post("/actions", status_code=200, **access(Role.REVIEWER, errors=(403, 404, 409, 422)))
    async def act(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        data: JSONBody[WhitelistActionCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[ActionResultOut]:
        """`suspend` / `renew` take effect at once (`status: applied`); `revoke` /
        `reinstate` create a request (`status: pending`) that another reviewer confirms.
        Targets: `entry_ids`, or `vendor_id` (+ `region_code`), within the caller's region."""
        key = idempotency_key(request, actor, idempotency, data)
        reply = await services.take_action(
            db,
            actor,
            actions.ActionInput(
                action=data.action,
                reason=data.reason,
                entry_ids=list(data.entry_ids) if data.entry_ids is not None else None,
                vendor_id=data.vendor_id,
                region_code=data.region_code,
                until=data.until,
                ban_until=data.ban_until,
                valid_until=data.valid_until,
            ),
            idempotency=Idempotency(key, encode_result, 200),
        )
        return reply_response(reply)

    @get("/requests", **access(Role.REVIEWER, Role.AUDITOR, Role.ADMIN, errors=(422,)))
    async def list_requests(self, db: DB, actor: CurrentActor, status: QueryText = "pending") -> list[ActionRequestOut]:
        """Revoke, reinstate and complaint suspension requests in the caller's region
        (default: pending)."""
        return [request_out(r) for r in await requests.list_requests(db, actor, status)]

    @get("/requests/{request_id:uuid}", **access(Role.REVIEWER, Role.AUDITOR, Role.ADMIN, errors=(404,)))
    async def get_request(self, db: DB, actor: CurrentActor, request_id: FromPath[UUID]) -> ActionRequestOut:
        return request_out(await requests.get_request(db, actor, request_id))

    @post("/requests/{request_id:uuid}/confirm", status_code=200, **access(Role.REVIEWER, errors=(403, 404, 409, 422)))
    async def confirm(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        request_id: FromPath[UUID],
        data: JSONBody[RequestDecision],
        idempotency: IdempotencyHeader = None,
    ) -> Response[ActionResultOut]:
        """A second reviewer in scope confirms; the revoke or reinstate takes effect now.
        403 `four_eyes_violation` for the requester; 409 `request_not_pending`,
        `entry_status_changed`."""
        key = idempotency_key(request, actor, idempotency, data)
        reply = await decisions.confirm_request(
            db, actor, request_id, data.reason, idempotency=Idempotency(key, encode_result, 200)
        )
        return reply_response(reply)

    @post("/requests/{request_id:uuid}/decline", status_code=200, **access(Role.REVIEWER, errors=(404, 409, 422)))
    async def decline(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        request_id: FromPath[UUID],
        data: JSONBody[RequestDecision],
        idempotency: IdempotencyHeader = None,
    ) -> Response[ActionResultOut]:
        """Drop a pending request, with a reason (the requester may withdraw it)."""
        key = idempotency_key(request, actor, idempotency, data)
        reply = await decisions.decline_request(
            db, actor, request_id, data.reason, idempotency=Idempotency(key, encode_result, 200)
        )
        return reply_response(reply)

    @get("/entries", **access(*READERS, errors=(422,)))
    async def list_entries(
        self,
        db: DB,
        actor: CurrentActor,
        vendor_id: FromQuery[UUID | None] = None,
        region: QueryText = None,
        as_of: QueryInstant = None,
    ) -> list[EntryOut]:
        """Entries in scope with their status `as_of` an instant (default now) and history."""
        views = await entries.list_entries(db, actor, vendor_id=vendor_id, region_code=region, at=_as_of(as_of))
        return [entry_out(v) for v in views]

    @get("/entries/{entry_id:uuid}", **access(*READERS, errors=(404, 422)))
    async def get_entry(
        self, db: DB, actor: CurrentActor, entry_id: FromPath[UUID], as_of: QueryInstant = None
    ) -> EntryOut:
        return entry_out(await entries.get_entry(db, actor, entry_id, _as_of(as_of)))


def _csv_line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def _row_out(row: queries.PublicRow) -> PublicWhitelistRow:
    return PublicWhitelistRow(**row.__dict__)


def _csv_values(row: queries.PublicRow) -> list:
    """The JSON row's values, written the same way (dates and times as in the JSON)."""
    plain = msgspec.to_builtins(_row_out(row))
    plain["grade_bands"] = ";".join(plain["grade_bands"])
    return [plain[column] for column in CSV_COLUMNS]


class PublicWhitelistController(Controller):
    path = "/api/v1/public/whitelist"
    tags = ["whitelist"]

    @get("/", **public(errors=(422,)))
    async def whitelist(
        self,
        db: DB,
        region: QueryText = None,
        category: Annotated[int | None, bounded_query(le=INT32_MAX)] = None,
        q: QueryText = None,
        cursor: QueryText = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        accept: Annotated[str | None, HeaderParameter(name="Accept", required=False)] = None,
        format: QueryText = None,
    ) -> Response:
        """Vendors' service items usable now: vendor name and credit code, item,
        grades, published fee, region, valid until. No authentication. `region` keeps
        what is usable in that region and what lies inside it; `q` searches vendor
        names, activities and credit codes. `Accept: text/csv` (or `format=csv`, for a
        plain link) exports every matching row as CSV (UTF-8, header line, grades
        joined by `;`)."""
        f = queries.filters(region, category, q)
        await settle_due_notices(db)  # a notice over by now: its vendor is listed
        if (accept and "text/csv" in accept.lower()) or format == "csv":

            async def lines() -> AsyncIterator[str]:
                yield _csv_line(CSV_COLUMNS)
                async for row in queries.public_whitelist_all(db, f):
                    yield _csv_line(_csv_values(row))

            return Stream(
                lines(),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="whitelist.csv"'},
            )
        rows, next_cursor = await queries.public_whitelist(db, f, cursor=cursor, limit=limit)
        return Response(PublicWhitelistPage(items=[_row_out(r) for r in rows], next_cursor=next_cursor))
