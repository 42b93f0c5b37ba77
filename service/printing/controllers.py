"""HTTP for the documents: PDFs and the signed JSON of published lists.

Each handler turns the request into a call of a domain's front door and a builder here,
renders the job in the render pool, and answers the bytes. It decides nothing.
"""

from __future__ import annotations

from litestar import Controller, MediaType, Response, get
from litestar.params import FromQuery

from service.printing import lists, render
from service.timeutil import utcnow
from service.web.access import public
from service.web.deps import DB, AuditSigner
from service.web.params import QueryText

PDF = "application/pdf"


def pdf_response(content: bytes, filename: str) -> Response[bytes]:
    return Response(content, media_type=PDF, headers={
        "Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"})


class PublicDocumentsController(Controller):
    """The bureau's published lists, for anyone (no login)."""

    path = "/api/v1/public"
    tags = ["documents"]

    @get("/whitelist.pdf", **public(errors=(422, 503)), media_type=PDF,
         response_description="课后服务第三方机构白名单 (PDF/A-3b)")
    async def whitelist_pdf(self, db: DB, signer: AuditSigner, region: QueryText = None,
                            category: FromQuery[int | None] = None) -> Response[bytes]:
        """The whitelist publication: entries usable now, grouped by the notice's eight
        categories, with the signed JSON embedded (associated file `whitelist.json`) and
        its SHA-256 printed. Unknown region or category → 422; too many rows → 422
        `document_too_large`; a render over its time limit → 503."""
        published = await lists.whitelist(db, signer, region=region, category=category, now=utcnow())
        return pdf_response(await render(published.job), "whitelist.pdf")

    @get("/whitelist.json", **public(errors=(422,)), response_description="The signed whitelist publication")
    async def whitelist_json(self, db: DB, signer: AuditSigner, region: QueryText = None,
                             category: FromQuery[int | None] = None) -> Response[dict]:
        """The list the PDF prints, signed (Ed25519 over `schoolgate signed list v1\\n` +
        `canonical`); `sha256` is the hash the PDF prints."""
        published = await lists.whitelist(db, signer, region=region, category=category, now=utcnow())
        return Response(published.served, media_type=MediaType.JSON)

    @get("/notices.pdf", **public(errors=(422, 503)), media_type=PDF,
         response_description="公示期名单 (PDF/A-3b)")
    async def notices_pdf(self, db: DB, signer: AuditSigner, region: QueryText = None) -> Response[bytes]:
        """Applications in public notice: vendor, items, the end of the notice period (or
        paused for an objection), and how to object."""
        published = await lists.notices(db, signer, region=region, now=utcnow())
        return pdf_response(await render(published.job), "notices.pdf")

    @get("/notices.json", **public(errors=(422,)), response_description="The signed notice board")
    async def notices_json(self, db: DB, signer: AuditSigner, region: QueryText = None) -> Response[dict]:
        published = await lists.notices(db, signer, region=region, now=utcnow())
        return Response(published.served, media_type=MediaType.JSON)
