"""HTTP for a vendor's service items."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from schemas.service_items import ServiceItemCreate, ServiceItemList, ServiceItemOut
from service.idempotency import Idempotency
from service.security import Role
from service.service_items import services
from service.service_items.models import CATEGORIES, ServiceItem
from service.web.access import access
from service.web.deps import DB, CurrentActor
from service.web.idempotency import (
    IdempotencyHeader,
    encode_json,
    idempotency_key,
    reply_response,
)

READERS = (Role.VENDOR, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


def service_item_out(item: ServiceItem) -> ServiceItemOut:
    return ServiceItemOut(
        id=item.id,
        vendor_id=item.vendor_id,
        category_code=item.category_code,
        category_name=CATEGORIES.get(item.category_code, ""),
        activity=item.activity,
        description=item.description,
        grade_bands=list(item.grade_bands),
        fee=item.fee,
        fee_unit=item.fee_unit,
        max_class_size=item.max_class_size,
        venue=item.venue,
        personnel_ids=list(item.personnel_ids),
        created_at=item.created_at,
    )


class ServiceItemController(Controller):
    path = "/api/v1/vendors/{vendor_id:uuid}/service-items"
    tags = ["service items"]

    @post("/", **access(Role.VENDOR, Role.ADMIN, errors=(404, 422)))
    async def create(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        vendor_id: FromPath[UUID],
        data: JSONBody[ServiceItemCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[ServiceItemOut]:
        """Add a service item to the vendor's catalogue. Fee in fen per `fee_unit`;
        send `Idempotency-Key` to make a retry safe."""
        item_input = services.ServiceItemInput(
            category_code=data.category_code,
            activity=data.activity,
            description=data.description,
            grade_bands=list(data.grade_bands),
            fee=data.fee,
            fee_unit=data.fee_unit,
            max_class_size=data.max_class_size,
            venue=data.venue,
            personnel_ids=list(data.personnel_ids),
        )
        key = idempotency_key(request, actor, idempotency, data)
        reply = await services.create_service_item(
            db,
            actor,
            vendor_id,
            item_input,
            idempotency=Idempotency(key, lambda item: encode_json(service_item_out(item)), 201),
        )
        return reply_response(reply)

    @get("/", **access(*READERS, errors=(404,)))
    async def list_items(self, db: DB, actor: CurrentActor, vendor_id: FromPath[UUID]) -> ServiceItemList:
        """The vendor's catalogue, oldest first."""
        items = await services.list_service_items(db, actor, vendor_id)
        return ServiceItemList(items=[service_item_out(item) for item in items])

    @get("/{item_id:uuid}", **access(*READERS, errors=(404,)))
    async def get_item(
        self, db: DB, actor: CurrentActor, vendor_id: FromPath[UUID], item_id: FromPath[UUID]
    ) -> ServiceItemOut:
        return service_item_out(await services.get_service_item(db, actor, vendor_id, item_id))
