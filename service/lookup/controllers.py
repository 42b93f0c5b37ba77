"""HTTP for the school lookups, receipts and the public key."""

from __future__ import annotations

from typing import cast
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from schemas.lookup import (
    PeopleBatchIn,
    PeopleBatchOut,
    PersonLookupIn,
    PersonLookupList,
    PersonLookupOut,
    PersonLookupRecordOut,
    ReceiptOut,
    ServiceKeys,
    VendorLookupOut,
)
from service.errors import NotFound
from service.lookup import people, person_lookups, records, vendors
from service.printing import receipt_pdf
from service.security import Role
from service.web.access import access, public, revalidated
from service.web.deps import DB, AuditSigner, CurrentActor
from service.web.files import pdf_response
from service.web.params import PathText, QueryInstant, QueryText, instant

LOOKERS = (Role.SCHOOL, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


class LookupController(Controller):
    """The hot paths. Handlers take the request only (no named dependencies): Litestar
    resolves two or more dependencies in an anyio task group per request, which cost
    ~20% of a vendor lookup. The database, signer and keyring come from the app state,
    the actor from the guard, through `revalidated`."""

    path = "/api/v1/lookup"
    tags = ["lookup"]

    @get(
        "/vendors/{credit_code:str}",
        **access(*LOOKERS, errors=(422, 429), revalidates_token=True),
        response_description="The vendor's status for the caller's region",
    )
    async def vendor(
        self, request: Request, credit_code: PathText, as_of: QueryInstant = None, region: QueryText = None
    ) -> Response[VendorLookupOut]:
        """Is this vendor whitelisted for my region (now, or `as_of` a past instant)?
        `status`: active | suspended | revoked | expired | not_listed; `services`: the
        items usable in the region. Every call stores a signed receipt (`receipt_id`).
        A code with a bad check character → 422 `invalid_credit_code`. Schools are
        judged for their own region; reviewers, auditors and admins may pass `region`."""
        state = request.app.state
        result = await revalidated(
            request,
            lambda actor, token_hash: vendors.lookup_vendor(
                state.db,
                state.signer,
                actor,
                credit_code,
                as_of=instant(as_of, "as_of"),
                region=region,
                token_hash=token_hash,
            ),
        )
        return Response(result.body, media_type=MediaType.JSON)

    @post(
        "/people",
        status_code=200,
        **access(*LOOKERS, errors=(422, 429), revalidates_token=True),
        response_description="May this person enter a school of the caller's region now?",
    )
    async def person(
        self, request: Request, data: JSONBody[PersonLookupIn], region: QueryText = None
    ) -> Response[PersonLookupOut]:
        """`cleared` (with `valid_until` and the vendors through which the person may
        enter) or `not_cleared` — one shape for every reason, never a check's content.
        A bad ID number → 422 `invalid_id_number`; every call stores a signed receipt."""
        state = request.app.state
        result = await revalidated(
            request,
            lambda actor, token_hash: people.lookup_person(
                state.db, state.signer, state.keyring, actor, data, region=region, token_hash=token_hash
            ),
        )
        return Response(result.body, media_type=MediaType.JSON)

    @post(
        "/people/batch",
        status_code=200,
        **access(*LOOKERS, errors=(422, 429), revalidates_token=True),
        response_description="The answers in the order of the entries, one receipt for the batch",
    )
    async def people_batch(
        self, request: Request, data: JSONBody[PeopleBatchIn], region: QueryText = None
    ) -> Response[PeopleBatchOut]:
        """Up to 500 entries (more → 422 `too_many_entries`), each counted against the
        rate limit. Answers in order, each as the single lookup's; one signed receipt."""
        state = request.app.state
        # The decoded entries carry id_number, name and vendor_credit_code, as PersonQuery does.
        result = await revalidated(
            request,
            lambda actor, token_hash: people.lookup_people(
                state.db, state.signer, state.keyring, actor, data.entries, region=region, token_hash=token_hash
            ),
        )
        return Response(result.body, media_type=MediaType.JSON)


class PersonLookupsController(Controller):
    """The looked-up side: who checked this person (DBS model)."""

    path = "/api/v1/people/{person_id:uuid}/lookups"
    tags = ["lookup"]

    @get("/", **access(Role.VENDOR, Role.REVIEWER, Role.ADMIN, errors=(404,)))
    async def lookups(self, db: DB, actor: CurrentActor, person_id: FromPath[UUID]) -> PersonLookupList:
        """Who looked this person up (school code and name, caller role), when, and the
        result they were told, newest first. The person's vendor and reviewers in scope."""
        records = await person_lookups.person_lookups(db, actor, person_id)
        return PersonLookupList(
            items=[
                PersonLookupRecordOut(
                    at=r.at,
                    kind=r.kind,
                    caller_role=r.caller_role,
                    school_code=r.school_code,
                    school_name=r.school_name,
                    region_code=r.region_code,
                    result=r.result,
                )
                for r in records
            ]
        )


class ReceiptController(Controller):
    path = "/api/v1/receipts"
    tags = ["lookup"]

    @get("/{receipt_ref:str}", **access(*LOOKERS, errors=(404, 503)))
    async def receipt(
        self, db: DB, signer: AuditSigner, actor: CurrentActor, receipt_ref: PathText
    ) -> Response[ReceiptOut]:
        """`/{id}`: the signed receipt — the school that made it, reviewers and auditors
        of its region, admins. `/{id}.pdf`: the same receipt as a PDF/A-3b for the
        school's files, the signed JSON embedded as the associated file `receipt.json`.
        Check either offline with `schoolgate receipts verify FILE`."""
        as_pdf = receipt_ref.endswith(".pdf")
        try:
            receipt_id = UUID(receipt_ref.removesuffix(".pdf"))
        except ValueError:
            raise NotFound("未找到该查询回执", code="receipt_not_found") from None
        if as_pdf:
            # The PDF variant is described above; the schema documents the JSON one.
            pdf = pdf_response(await receipt_pdf(db, signer, actor, receipt_id), f"receipt-{receipt_id}.pdf")
            return cast("Response[ReceiptOut]", pdf)
        return Response(msgspec.convert(await records.get_receipt(db, signer, actor, receipt_id), ReceiptOut))


@get("/api/v1/keys", **public(), tags=["lookup"])
async def service_keys(signer: AuditSigner) -> ServiceKeys:
    """The service's Ed25519 public key: it signs lookup receipts and audit checkpoints."""
    return ServiceKeys(**records.public_keys(signer))
