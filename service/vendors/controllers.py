"""HTTP for vendors: translate JSON to plain arguments and back, nothing more."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from schemas.vendors import VendorCreate, VendorOut, VendorPage
from service.idempotency import Idempotency
from service.security import Role
from service.vendors import services
from service.vendors.models import Vendor
from service.web.access import access
from service.web.deps import DB, CurrentActor
from service.web.idempotency import IdempotencyHeader, encode_json, idempotency_key, reply_response
from service.web.params import QueryText

READERS = (Role.VENDOR, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


def vendor_out(vendor: Vendor, warnings: tuple[str, ...] = ()) -> VendorOut:
    return VendorOut(
        id=vendor.id,
        credit_code=vendor.credit_code,
        name=vendor.name,
        org_type=vendor.org_type,
        region_code=vendor.region_code,
        address=vendor.address,
        contact_name=vendor.contact_name,
        contact_phone=vendor.contact_phone,
        legal_representative=vendor.legal_representative,
        public_welfare_pledge=vendor.public_welfare_pledge,
        created_at=vendor.created_at,
        warnings=list(warnings),
    )


class VendorController(Controller):
    path = "/api/v1/vendors"
    tags = ["vendors"]

    @post("/", **access(Role.VENDOR, Role.REVIEWER, Role.ADMIN, errors=(409, 422)))
    async def register(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        data: JSONBody[VendorCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[VendorOut]:
        """Register a vendor. A vendor account registers its own credit code; a reviewer
        one in its region. `warnings` lists non-fatal findings (organisation-code check).
        Send `Idempotency-Key` to make a retry safe."""
        key = idempotency_key(request, actor, idempotency, data)
        reply = await services.register_vendor(
            db,
            actor,
            services.VendorInput(
                credit_code=data.credit_code,
                name=data.name,
                org_type=data.org_type,
                region_code=data.region_code,
                address=data.address,
                contact_name=data.contact_name,
                contact_phone=data.contact_phone,
                legal_representative=data.legal_representative,
                public_welfare_pledge=data.public_welfare_pledge,
            ),
            idempotency=Idempotency(key, lambda done: encode_json(vendor_out(done.vendor, done.warnings)), 201),
        )
        return reply_response(reply)

    @get("/", **access(Role.REVIEWER, Role.AUDITOR, Role.ADMIN, errors=(422,)))
    async def list_vendors(
        self,
        db: DB,
        actor: CurrentActor,
        region: QueryText = None,
        org_type: QueryText = None,
        q: QueryText = None,
        cursor: QueryText = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> VendorPage:
        """Vendors in the caller's region (and below), oldest first."""
        page = await services.list_vendors(
            db, actor, region_code=region, org_type=org_type, q=q, limit=limit, cursor=cursor
        )
        return VendorPage(items=[vendor_out(v) for v in page.items], next_cursor=page.next_cursor)

    @get("/{vendor_id:uuid}", **access(*READERS, errors=(404,)))
    async def get_vendor(self, db: DB, actor: CurrentActor, vendor_id: FromPath[UUID]) -> VendorOut:
        return vendor_out(await services.get_vendor(db, actor, vendor_id))
