"""HTTP for terms and schools' orders."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from schemas.orders import (
    FeeListOut,
    FeeRowOut,
    OrderCreate,
    OrderList,
    OrderOut,
    OrderPerson,
    OrderTransition,
    OrderWarning,
    StandingReason,
    TermCreate,
    TermList,
    TermOut,
)
from service.idempotency import Idempotency
from service.orders import fees, placing, terms, transitions, views
from service.orders.models import Term
from service.security import Role
from service.web.access import ANY_ROLE, access, public
from service.web.deps import DB, CurrentActor
from service.web.idempotency import IdempotencyHeader, IfMatchHeader, encode_json, idempotency_key, reply_response
from service.web.params import PathText, QueryText

STAFF = (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


def term_out(term: Term) -> TermOut:
    return TermOut(
        id=term.id,
        region_code=term.region_code,
        name=term.name,
        starts_on=term.starts_on,
        ends_on=term.ends_on,
        timetable_due_on=term.timetable_due_on,
        created_at=term.created_at,
    )


def order_out(view: views.OrderView) -> OrderOut:
    order = view.order
    return OrderOut(
        id=order.id,
        school_code=view.school_code,
        term_id=order.term_id,
        service_item_id=order.service_item_id,
        vendor_id=order.vendor_id,
        vendor_name=view.vendor_name,
        activity=view.activity,
        category_code=view.category_code,
        weekdays=list(order.weekdays),
        start_time=order.start_time,
        end_time=order.end_time,
        venue=order.venue,
        class_size=order.class_size,
        grade_bands=list(order.grade_bands),
        people=[OrderPerson(person_id=p.person_id, masked_name=p.masked_name) for p in view.people],
        fee=order.fee,
        fee_unit=order.fee_unit,
        state=order.state,
        state_label=view.state_label,
        version=order.version,
        allowed_actions=view.allowed_actions,
        standing=view.standing.standing,
        standing_reasons=[StandingReason(**r) for r in view.standing.reasons],
        warnings=[OrderWarning(**w) for w in view.warnings],
        created_at=order.created_at,
    )


def encode_order(view: views.OrderView) -> bytes:
    return encode_json(order_out(view))


class TermController(Controller):
    path = "/api/v1/terms"
    tags = ["orders"]

    @post("/", **access(Role.REVIEWER, Role.ADMIN, errors=(422,)))
    async def create(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        data: JSONBody[TermCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[TermOut]:
        """Set a term for a region (its bureau). `timetable_due_on` defaults to one month
        after the start (§1(3)). Send `Idempotency-Key` to make a retry safe."""
        key = idempotency_key(request, actor, idempotency, data)
        reply = await terms.create_term(
            db,
            actor,
            terms.TermInput(data.region_code, data.name, data.starts_on, data.ends_on, data.timetable_due_on),
            idempotency=Idempotency(key, lambda term: encode_json(term_out(term)), 201),
        )
        return reply_response(reply)

    @get("/", **access(*sorted(ANY_ROLE), errors=(422,)))
    async def list_terms(self, db: DB, actor: CurrentActor, region: QueryText = None) -> TermList:
        """The terms that apply in `region` (default: the caller's): its own and its
        city's or province's, latest first."""
        return TermList(items=[term_out(t) for t in await terms.list_terms(db, actor, region)])


class SchoolOrderController(Controller):
    path = "/api/v1/schools/{school_code:str}/orders"
    tags = ["orders"]

    @post("/", **access(Role.SCHOOL, errors=(404, 422)))
    async def place(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        school_code: PathText,
        data: JSONBody[OrderCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[OrderOut]:
        """Order a whitelisted service item for a term. The fee is the item's published
        fee. Refused (422, naming the field) when the item is not active for the school's
        region, its fee is unpublished, a named person is not cleared, or the class or
        grades do not fit; `warnings` list what ends before the term does."""
        order_input = placing.OrderInput(
            term_id=data.term_id,
            service_item_id=data.service_item_id,
            weekdays=list(data.weekdays),
            start_time=data.start_time,
            end_time=data.end_time,
            venue=data.venue,
            class_size=data.class_size,
            grade_bands=list(data.grade_bands),
            people=list(data.people),
        )
        key = idempotency_key(request, actor, idempotency, data, {"school_code": school_code})
        reply = await placing.place_order(
            db, actor, school_code, order_input, idempotency=Idempotency(key, encode_order, 201)
        )
        return reply_response(reply)

    @get("/", **access(Role.SCHOOL, *STAFF, errors=(404,)))
    async def list_orders(
        self, db: DB, actor: CurrentActor, school_code: PathText, term: FromQuery[UUID | None] = None
    ) -> OrderList:
        """The school's orders (optionally of one term), each with its standing now."""
        found = await views.list_school_orders(db, actor, school_code, term_id=term)
        return OrderList(items=[order_out(v) for v in found])


class OrderController(Controller):
    path = "/api/v1/orders"
    tags = ["orders"]

    @get("/", **access(Role.VENDOR))
    async def received(self, db: DB, actor: CurrentActor) -> OrderList:
        """The orders schools placed with the calling vendor, newest first."""
        return OrderList(items=[order_out(v) for v in await views.list_vendor_orders(db, actor)])

    @get("/{order_id:uuid}", **access(Role.SCHOOL, Role.VENDOR, *STAFF, errors=(404,)))
    async def get_order(self, db: DB, actor: CurrentActor, order_id: FromPath[UUID]) -> OrderOut:
        return order_out(await views.get_order(db, actor, order_id))

    @post("/{order_id:uuid}/transitions", status_code=200, **access(Role.SCHOOL, Role.VENDOR, errors=(404, 409, 422)))
    async def transition(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        order_id: FromPath[UUID],
        data: JSONBody[OrderTransition],
        if_match: IfMatchHeader = None,
        idempotency: IdempotencyHeader = None,
    ) -> Response[OrderOut]:
        """`accept` / `decline` (the vendor, a reason to decline), `cancel` (the school,
        with a reason). 409 `version_conflict` when `version` is stale."""
        key = idempotency_key(request, actor, idempotency, data, {"if_match": if_match})
        reply = await transitions.transition_order(
            db,
            actor,
            order_id,
            action=data.action,
            version=data.version,
            if_match=if_match,
            reason=data.reason,
            idempotency=Idempotency(key, encode_order, 200),
        )
        return reply_response(reply)


class PublicFeeController(Controller):
    path = "/api/v1/public/schools/{school_code:str}/fees"
    tags = ["public"]

    @get("/{term_id:uuid}", **public(errors=(404,)))
    async def fee_list(
        self, db: DB, school_code: PathText, term_id: FromPath[UUID], on: FromQuery[date | None] = None
    ) -> FeeListOut:
        """The school's published fee list for the term (no sign-in): each accepted order's
        item and fee, published — and chargeable — from the day the vendor accepted it
        (§3(2)). `on`: the day to judge `chargeable` on (default today)."""
        found = await fees.public_fee_list(db, school_code, term_id, on=on)
        return FeeListOut(
            school_code=found.school.code,
            school_name=found.school.name,
            term_id=found.term.id,
            term_name=found.term.name,
            starts_on=found.term.starts_on,
            on=found.on,
            items=[FeeRowOut(**vars(r)) for r in found.rows],
        )
