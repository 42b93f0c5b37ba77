"""Uploading and reading qualification documents, scoped through the vendor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import record_event
from service.db import Database
from service.documents.filetypes import sniff
from service.documents.models import DOC_TYPES, Document
from service.documents.storage import BlobStorage
from service.errors import (
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    raise_problems,
)
from service.idempotency import Idempotency, Reply, run_once
from service.security import Actor
from service.timeutil import EXPIRING_WITHIN, today_in_china
from service.vendors import load_vendor_record, load_visible_vendor


@dataclass(frozen=True)
class DocumentInput:
    doc_type: str
    number: str
    issuer: str
    valid_from: date
    valid_until: date


def document_status(valid_from: date, valid_until: date | None, now: datetime | None = None) -> str:
    """not_yet_valid | valid | expiring (within 30 days) | expired, from the dates alone.

    `valid_from` and `valid_until` are the first and last valid days in China (None:
    no end); validity begins and ends at midnight there, whatever the server's clock
    zone, with no batch job involved. The same rule as the whitelist's
    (`whitelist.state.document_counts`).
    """
    today = today_in_china(now)
    if today < valid_from:
        return "not_yet_valid"
    if valid_until is None:
        return "valid"
    if today > valid_until:
        return "expired"
    if valid_until - today <= EXPIRING_WITHIN:
        return "expiring"
    return "valid"


def _validate(data: DocumentInput) -> DocumentInput:
    problems = []
    if data.doc_type not in DOC_TYPES:
        problems.append({"field": "doc_type", "code": "invalid_doc_type", "message": "材料类型无效"})
    for field in ("number", "issuer"):
        if not (getattr(data, field) or "").strip():
            problems.append({"field": field, "code": "required", "message": "此项不能为空"})
    if data.valid_until < data.valid_from:
        problems.append(
            {"field": "valid_until", "code": "invalid_validity", "message": "有效期截止日期不能早于起始日期"}
        )
    raise_problems(problems)
    return DocumentInput(data.doc_type, data.number.strip(), data.issuer.strip(), data.valid_from, data.valid_until)


def check_file(content: bytes, max_bytes: int) -> str:
    """The upload checks every stored file passes (size, non-empty, PDF/JPEG/PNG by
    content); returns the recognised content type. Personnel scans reuse them."""
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"文件不能超过 {max_bytes // (1024 * 1024)} MB", code="file_too_large")
    if not content:
        raise InvalidInput.field("file", "empty_file", "上传的文件为空")
    kind = sniff(content)
    if kind is None:
        raise UnsupportedMediaType(code="unsupported_file_type")
    return kind[0]


async def upload_document(
    db: Database,
    storage: BlobStorage,
    actor: Actor,
    vendor_id: UUID,
    *,
    content: bytes,
    filename: str,
    data: DocumentInput,
    max_bytes: int,
    idempotency: Idempotency | None = None,
) -> Reply[Document]:
    """Store the file and its metadata (at most once per idempotency key: a replay
    stores nothing, not even the bytes)."""
    content_type = check_file(content, max_bytes)
    data = _validate(data)

    async def upload(session: AsyncSession) -> Document:
        vendor = await load_visible_vendor(session, actor, vendor_id)
        # Bytes go to storage before the row commits: a failed commit leaves only an
        # unreferenced blob, never a row pointing at a missing file.
        digest = storage.put(content)
        document = Document(
            vendor_id=vendor.id,
            doc_type=data.doc_type,
            number=data.number,
            issuer=data.issuer,
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            sha256=digest,
            size=len(content),
            content_type=content_type,
            filename=safe_filename(filename),
            uploaded_by=actor.account_id,
        )
        session.add(document)
        await session.flush()
        await record_event(
            session,
            actor,
            "documents:document:upload",
            "document",
            document.id,
            region_code=vendor.region_code,
            evidence=[digest],
            changes={
                k: {"before": None, "after": v}
                for k, v in {
                    "vendor_id": vendor.id,
                    "doc_type": data.doc_type,
                    "number": data.number,
                    "valid_from": data.valid_from,
                    "valid_until": data.valid_until,
                    "sha256": digest,
                }.items()
            },
        )
        return document

    return await run_once(db, idempotency, upload)


def safe_filename(filename: str | None) -> str:
    """The client's file name, without path or control characters, for display only."""
    name = (filename or "document").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"\r\n')
    return name[:200] or "document"


async def list_documents(db: Database, actor: Actor, vendor_id: UUID) -> list[Document]:
    async with db.transaction() as session:
        await load_visible_vendor(session, actor, vendor_id)
        query = select(Document).where(Document.vendor_id == vendor_id).order_by(col(Document.uploaded_at))
        return list((await session.exec(query)).all())


async def get_document(db: Database, actor: Actor, vendor_id: UUID, document_id: UUID) -> Document:
    async with db.transaction() as session:
        return await load_vendor_record(
            session, actor, vendor_id, Document, document_id, NotFound("未找到该材料", code="document_not_found")
        )


async def read_document_file(
    db: Database, storage: BlobStorage, actor: Actor, vendor_id: UUID, document_id: UUID
) -> tuple[Document, bytes]:
    document = await get_document(db, actor, vendor_id, document_id)
    return document, storage.get(document.sha256)


async def documents_by_ids(session, document_ids) -> dict[UUID, Document]:
    """Documents by id, unscoped (callers check the owning vendor themselves)."""
    ids = list(dict.fromkeys(document_ids))
    if not ids:
        return {}
    rows = (await session.exec(select(Document).where(col(Document.id).in_(ids)))).all()
    return {row.id: row for row in rows}


@dataclass(frozen=True)
class EndingDocument:
    vendor_id: UUID
    doc_type: str
    last_day: date


async def documents_ending(session, vendor_ids: list[UUID], today: date) -> list[EndingDocument]:
    """Per vendor and type, the latest document's last day when it falls within 30 days
    of `today` (a newer document of the type replaces an ending one), soonest first."""
    if not vendor_ids:
        return []
    latest = (
        select(Document.vendor_id, Document.doc_type, func.max(Document.valid_until).label("last_day"))
        .where(col(Document.vendor_id).in_(vendor_ids))
        .group_by(col(Document.vendor_id), col(Document.doc_type))
        .subquery()
    )
    query = (
        select(latest.c.vendor_id, latest.c.doc_type, latest.c.last_day)
        .where(latest.c.last_day >= today, latest.c.last_day <= today + EXPIRING_WITHIN)
        .order_by(latest.c.last_day, latest.c.vendor_id)
    )
    return [EndingDocument(*row) for row in (await session.exec(query)).all()]


@dataclass(frozen=True)
class DocumentEndingOn:
    document_id: UUID
    vendor_id: UUID
    doc_type: str
    last_day: date


async def documents_ending_on(session, days: list[date]) -> list[DocumentEndingOn]:
    """Per vendor and type, the latest document when its last valid day is one of `days`
    (a newer document of the type replaces an ending one; for the reminders)."""
    if not days:
        return []
    latest = (
        select(col(Document.id), col(Document.vendor_id), col(Document.doc_type), col(Document.valid_until))
        .ext(distinct_on(col(Document.vendor_id), col(Document.doc_type)))
        .order_by(
            col(Document.vendor_id),
            col(Document.doc_type),
            col(Document.valid_until).desc(),
            col(Document.uploaded_at).desc(),
        )
        .subquery()
    )
    query = select(latest.c.id, latest.c.vendor_id, latest.c.doc_type, latest.c.valid_until).where(
        latest.c.valid_until.in_(days)
    )
    return [DocumentEndingOn(*row) for row in (await session.exec(query)).all()]
