"""HTTP for the school lookups, receipts and the public key."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from litestar import Controller, MediaType, Response, get
from litestar.params import FromPath, FromQuery

from schemas.lookup import ReceiptOut, ServiceKeys, VendorLookupOut
from service.lookup import services
from service.security.actor import Role
from service.web.access import access, public
from service.web.deps import DB, AuditSigner, CurrentActor

LOOKERS = (Role.SCHOOL, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


class LookupController(Controller):
    path = "/api/v1/lookup"
    tags = ["lookup"]

    @get("/vendors/{credit_code:str}", **access(*LOOKERS, errors=(422, 429)),
         response_description="The vendor's status for the caller's region")
    async def vendor(self, db: DB, signer: AuditSigner, actor: CurrentActor, credit_code: FromPath[str],
                     as_of: FromQuery[datetime | None] = None,
                     region: FromQuery[str | None] = None) -> Response[VendorLookupOut]:
        """Is this vendor whitelisted for my region (now, or `as_of` a past instant)?
        `status`: active | suspended | revoked | expired | not_listed; `services`: the
        items usable in the region. Every call stores a signed receipt (`receipt_id`).
        A code with a bad check character → 422 `invalid_credit_code`. Schools are
        judged for their own region; reviewers, auditors and admins may pass `region`."""
        result = await services.lookup_vendor(db, signer, actor, credit_code, as_of=as_of, region=region)
        return Response(result.body, media_type=MediaType.JSON)


class ReceiptController(Controller):
    path = "/api/v1/receipts"
    tags = ["lookup"]

    @get("/{receipt_id:uuid}", **access(*LOOKERS, errors=(404,)))
    async def receipt(self, db: DB, signer: AuditSigner, actor: CurrentActor,
                      receipt_id: FromPath[UUID]) -> ReceiptOut:
        """The signed receipt: the school that made it, reviewers and auditors of its
        region, admins. Check it offline with `schoolgate receipts verify FILE`."""
        return ReceiptOut(**await services.get_receipt(db, signer, actor, receipt_id))


@get("/api/v1/keys", **public(), tags=["lookup"])
async def service_keys(signer: AuditSigner) -> ServiceKeys:
    """The service's Ed25519 public key: it signs lookup receipts and audit checkpoints."""
    return ServiceKeys(**services.public_keys(signer))
