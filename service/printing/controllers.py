"""HTTP for the documents: PDFs and the signed JSON of published lists.

Each handler turns the request into a call of a domain's front door and a builder here,
renders the job in the render pool, and answers the bytes. It decides nothing.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, MediaType, Response, get
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, QueryParameter

from schemas.documents import SignedList
from schemas.text import LINE_PATTERN
from service.printing import letters, lists
from service.printing.audit_report import report_pdf
from service.printing.rendering import render
from service.printing.roster import roster_pdf
from service.security import Role
from service.timeutil import utcnow
from service.web.access import access, public
from service.web.deps import DB, AuditSigner, CurrentActor
from service.web.files import PDF, pdf_response, published_response
from service.web.params import PathText, QueryText

LETTER_READERS = (Role.VENDOR, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
IfNoneMatch = Annotated[
    str | None, HeaderParameter(name="If-None-Match", required=False, description="entity tags the client holds")
]


def signed_list(description: str) -> dict:
    """Route arguments for a signed list: its bytes are served as stored, so the
    handler's `bytes` says nothing of their shape; the schema is stated here."""
    spec = public(errors=(422,))
    spec["responses"][200] = ResponseSpec(data_container=SignedList, description=description)
    return spec


class PublicDocumentsController(Controller):
    """The bureau's published lists, for anyone (no login)."""

    path = "/api/v1/public"
    tags = ["documents"]

    @get(
        "/whitelist.pdf",
        **public(errors=(422, 503)),
        media_type=PDF,
        response_description="课后服务第三方机构白名单 (PDF/A-3b)",
    )
    async def whitelist_pdf(
        self,
        db: DB,
        signer: AuditSigner,
        region: QueryText = None,
        category: FromQuery[int | None] = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[bytes]:
        """The whitelist publication: entries usable now, grouped by the notice's eight
        categories, with the signed JSON embedded (associated file `whitelist.json`) and
        its SHA-256 printed. Rendered once per publication and kept until the list
        changes (docs/documents.md): while another worker renders it, 503
        `render_in_progress` with `Retry-After`. `ETag`, and 304 for a matching
        `If-None-Match`. Unknown region or category → 422; too many rows → 422
        `document_too_large`; a render over its time limit → 503."""
        found = await lists.whitelist_pdf(db, signer, region=region, category=category, now=utcnow())
        return published_response(
            found.body, etag=found.etag, if_none_match=if_none_match, media_type=PDF, filename="whitelist.pdf"
        )

    @get("/whitelist.json", **signed_list("The signed whitelist publication"))
    async def whitelist_json(
        self,
        db: DB,
        signer: AuditSigner,
        region: QueryText = None,
        category: FromQuery[int | None] = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[bytes]:
        """The list the PDF prints, signed (Ed25519 over `schoolgate signed list v1\\n` +
        `canonical`); `sha256` is the hash the PDF prints. The same publication (and
        `as_of`, the instant it was first published) is served until the list changes;
        `ETag`, and 304 for a matching `If-None-Match`."""
        found = await lists.whitelist_served(db, signer, region=region, category=category, now=utcnow())
        return published_response(found.body, etag=found.etag, if_none_match=if_none_match, media_type=MediaType.JSON)

    @get("/notices.pdf", **public(errors=(422, 503)), media_type=PDF, response_description="公示期名单 (PDF/A-3b)")
    async def notices_pdf(
        self, db: DB, signer: AuditSigner, region: QueryText = None, if_none_match: IfNoneMatch = None
    ) -> Response[bytes]:
        """Applications in public notice: vendor, items, the end of the notice period (or
        paused for an objection), and how to object. Rendered once per publication, like
        the whitelist's, with the same `ETag` and 304."""
        found = await lists.notices_pdf(db, signer, region=region, now=utcnow())
        return published_response(
            found.body, etag=found.etag, if_none_match=if_none_match, media_type=PDF, filename="notices.pdf"
        )

    @get("/notices.json", **signed_list("The signed notice board"))
    async def notices_json(
        self, db: DB, signer: AuditSigner, region: QueryText = None, if_none_match: IfNoneMatch = None
    ) -> Response[bytes]:
        found = await lists.notices_served(db, signer, region=region, now=utcnow())
        return published_response(found.body, etag=found.etag, if_none_match=if_none_match, media_type=MediaType.JSON)

    @get("/letters/{code:str}", **public(errors=(404,)), response_description="Does this letter exist and stand?")
    async def verify_letter(self, db: DB, code: PathText) -> Response[dict]:
        """The verification code printed on a decision letter (dashes optional): its
        number, kind, vendor, bureau and dates, and `status` — `in_force` (有效), or
        `changed` (已变更) / `revoked` (已撤销) after a later decision. Unknown → 404."""
        return Response(await letters.verify_code(db, code), media_type=MediaType.JSON)


class LetterController(Controller):
    """Decision letters: the vendor's own, and reviewers, auditors and admins in scope."""

    tags = ["documents"]

    @get(
        "/api/v1/applications/{application_id:uuid}/letter.pdf",
        **access(*LETTER_READERS, errors=(404, 503)),
        media_type=PDF,
        response_description="The letter of the application's latest decision (PDF/A-3b)",
    )
    async def application_letter(self, db: DB, actor: CurrentActor, application_id: FromPath[UUID]) -> Response[bytes]:
        """Admission (the notice concluded), rejection or return for revision: the latest
        of them. Issued once with its document number and verification code; the same
        file every time. 404 when there is none yet, or the application is not in scope."""
        job = await letters.application_letter(db, actor, application_id)
        return pdf_response(await render(job), "letter.pdf")

    @get(
        "/api/v1/whitelist/entries/{entry_id:uuid}/letter.pdf",
        **access(*LETTER_READERS, errors=(404, 503)),
        media_type=PDF,
        response_description="The letter of the entry's latest whitelist action (PDF/A-3b)",
    )
    async def entry_letter(self, db: DB, actor: CurrentActor, entry_id: FromPath[UUID]) -> Response[bytes]:
        """Suspension, revocation or reinstatement of a whitelist entry: the latest."""
        job = await letters.entry_letter(db, actor, entry_id)
        return pdf_response(await render(job), "letter.pdf")


class RosterController(Controller):
    tags = ["documents"]

    @get(
        "/api/v1/vendors/{vendor_id:uuid}/people.pdf",
        **access(Role.SCHOOL, Role.REVIEWER, Role.AUDITOR, Role.ADMIN, errors=(404, 422, 429, 503)),
        media_type=PDF,
        response_description="进校人员核验名单 (PDF/A-3b) with its own receipt",
    )
    async def people_pdf(
        self, db: DB, signer: AuditSigner, actor: CurrentActor, vendor_id: FromPath[UUID], school: QueryText = None
    ) -> Response[bytes]:
        """The vendor's current people for the gate of `school` (its 10-digit code):
        masked ID number, name, role, clearance and until when. A school in another
        region than the caller's → 404. Each sheet is a signed receipt (kind `roster`,
        counted against the lookup rate limit); its download is an audit event."""
        return pdf_response(await roster_pdf(db, signer, actor, vendor_id, school), "people.pdf")


class AuditReportController(Controller):
    tags = ["documents"]

    @get(
        "/api/v1/audit/report.pdf",
        **access(Role.AUDITOR, Role.ADMIN, errors=(404, 422, 503)),
        media_type=PDF,
        response_description="审计报告 (PDF/A-3b) with the export bundle attached",
    )
    async def report(
        self,
        db: DB,
        signer: AuditSigner,
        actor: CurrentActor,
        object: QueryText = None,
        region: QueryText = None,
        start: Annotated[str | None, QueryParameter(name="from", pattern=LINE_PATTERN)] = None,
        end: Annotated[str | None, QueryParameter(name="to", pattern=LINE_PATTERN)] = None,
    ) -> Response[bytes]:
        """`?object=type:id` or `?region=&from=&to=` (China dates, or instants): the
        events in log order with actor role, action and changes in Chinese, the
        checkpoint that includes them and its root hash, and the export bundle of their
        range attached — `schoolgate audit verify report.pdf` checks it offline."""
        return pdf_response(
            await report_pdf(db, signer, actor, object_ref=object, region=region, start=start, end=end),
            "audit-report.pdf",
        )
