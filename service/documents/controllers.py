"""HTTP for qualification documents (multipart upload, metadata, download)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody

from schemas.documents import DocumentList, DocumentOut
from schemas.text import Text
from service.documents import services
from service.documents.models import Document
from service.idempotency import Idempotency
from service.security import Role
from service.web.access import access
from service.web.deps import DB, AppSettings, CurrentActor, Storage
from service.web.files import file_response
from service.web.forms import form_date
from service.web.idempotency import IdempotencyHeader, encode_json, form_payload, idempotency_key, reply_response

READERS = (Role.VENDOR, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


@dataclass
class DocumentForm:
    file: UploadFile
    doc_type: Text
    number: Text
    issuer: Text
    valid_from: Text
    valid_until: Text


def document_out(document: Document) -> DocumentOut:
    return DocumentOut(
        id=document.id,
        vendor_id=document.vendor_id,
        doc_type=document.doc_type,
        number=document.number,
        issuer=document.issuer,
        valid_from=document.valid_from,
        valid_until=document.valid_until,
        sha256=document.sha256,
        size=document.size,
        content_type=document.content_type,
        filename=document.filename,
        uploaded_at=document.uploaded_at,
        status=services.document_status(document.valid_from, document.valid_until),
    )


class DocumentController(Controller):
    path = "/api/v1/vendors/{vendor_id:uuid}/documents"
    tags = ["documents"]

    @post("/", **access(Role.VENDOR, Role.REVIEWER, Role.ADMIN, errors=(404, 413, 415, 422)))
    async def upload(
        self,
        request: Request,
        db: DB,
        storage: Storage,
        settings: AppSettings,
        actor: CurrentActor,
        vendor_id: FromPath[UUID],
        data: MultipartBody[DocumentForm],
        idempotency: IdempotencyHeader = None,
    ) -> Response[DocumentOut]:
        """Upload a PDF, JPEG or PNG (recognised by content) with its metadata. Send
        `Idempotency-Key` to make a retry safe (the file and every field are compared)."""
        content = await data.file.read(settings.max_upload_bytes + 1)
        key = idempotency_key(request, actor, idempotency, form_payload(data, hashlib.sha256(content).hexdigest()))
        reply = await services.upload_document(
            db,
            storage,
            actor,
            vendor_id,
            content=content,
            filename=data.file.filename,
            max_bytes=settings.max_upload_bytes,
            data=services.DocumentInput(
                doc_type=data.doc_type,
                number=data.number,
                issuer=data.issuer,
                valid_from=form_date(data.valid_from, "valid_from"),
                valid_until=form_date(data.valid_until, "valid_until"),
            ),
            idempotency=Idempotency(key, lambda document: encode_json(document_out(document)), 201),
        )
        return reply_response(reply)

    @get("/", **access(*READERS, errors=(404,)))
    async def list_documents(self, db: DB, actor: CurrentActor, vendor_id: FromPath[UUID]) -> DocumentList:
        return DocumentList(items=[document_out(d) for d in await services.list_documents(db, actor, vendor_id)])

    @get("/{document_id:uuid}", **access(*READERS, errors=(404,)))
    async def get_document(
        self, db: DB, actor: CurrentActor, vendor_id: FromPath[UUID], document_id: FromPath[UUID]
    ) -> DocumentOut:
        return document_out(await services.get_document(db, actor, vendor_id, document_id))

    @get("/{document_id:uuid}/file", **access(*READERS, errors=(404,)), media_type="application/octet-stream")
    async def download(
        self, db: DB, storage: Storage, actor: CurrentActor, vendor_id: FromPath[UUID], document_id: FromPath[UUID]
    ) -> Response[bytes]:
        document, content = await services.read_document_file(db, storage, actor, vendor_id, document_id)
        return file_response(
            content, filename=document.filename, content_type=document.content_type, sha256=document.sha256
        )
