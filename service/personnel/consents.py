"""Consent documents: a person's own consent and a bureau's authorisation to query, the
files behind them and behind certificates, each read audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import diff, record_event
from service.db import Database
from service.documents import BlobStorage, check_file, safe_filename
from service.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    problem,
    raise_problems,
)
from service.idempotency import Idempotency, Reply, run_once
from service.personnel.models import (
    Certificate,
    ConsentDocument,
)
from service.personnel.people import _region_of, _require_writer, load_visible_person
from service.regions import regions
from service.security import Actor


@dataclass(frozen=True)
class Upload:
    content: bytes
    filename: str | None
    max_bytes: int


async def upload_person_consent(
    db: Database,
    storage: BlobStorage,
    actor: Actor,
    person_id: UUID,
    upload: Upload,
    *,
    title: str | None,
    signed_on: date | None,
    idempotency: Idempotency | None = None,
) -> Reply[ConsentDocument]:
    """The person's signed consent (at most once per idempotency key)."""
    content_type = check_file(upload.content, upload.max_bytes)
    title = (title or "").strip() or "个人信息查询授权书"
    if len(title) > 200:
        raise InvalidInput.field("title", "too_long", "标题不能超过 200 个字符")

    async def store(session: AsyncSession) -> ConsentDocument:
        person, engaged = await load_visible_person(session, actor, person_id)
        _require_writer(actor)
        digest = storage.put(upload.content)
        consent = ConsentDocument(
            kind="person_consent",
            person_id=person.id,
            title=title,
            signed_on=signed_on,
            sha256=digest,
            size=len(upload.content),
            content_type=content_type,
            filename=safe_filename(upload.filename),
            uploaded_by=actor.account_id,
        )
        session.add(consent)
        await session.flush()
        await record_event(
            session,
            actor,
            "personnel:consent:upload",
            "consent_document",
            consent.id,
            region_code=_region_of(actor, engaged),
            evidence=[digest],
            changes=diff(
                None,
                {
                    "kind": consent.kind,
                    "person_id": person.id,
                    "title": title,
                    "signed_on": signed_on,
                    "sha256": digest,
                },
            ),
        )
        return consent

    return await run_once(db, idempotency, store)


async def upload_authorisation(
    db: Database,
    storage: BlobStorage,
    actor: Actor,
    upload: Upload,
    *,
    title: str | None,
    region_code: str | None,
    signed_on: date | None,
    idempotency: Idempotency | None = None,
) -> Reply[ConsentDocument]:
    """An authorisation the bureau holds for a batch query (the import's consent), at
    most once per idempotency key."""
    content_type = check_file(upload.content, upload.max_bytes)
    title = (title or "").strip()
    problems = []
    if not title:
        problems.append(problem("title", "required", "请填写授权文件名称（如公安机关批量查询授权函）"))
    elif len(title) > 200:
        problems.append(problem("title", "too_long", "标题不能超过 200 个字符"))
    region_code = (region_code or "").strip() or actor.region_code
    if region_code not in regions():
        problems.append(problem("region_code", "unknown_region", "行政区划代码不存在或不在本系统服务范围内"))
    raise_problems(problems)
    if not actor.covers_region(region_code):
        raise Forbidden("只能为本辖区上传授权文件", code="out_of_scope")

    async def store(session: AsyncSession) -> ConsentDocument:
        digest = storage.put(upload.content)
        consent = ConsentDocument(
            kind="bureau_authorisation",
            region_code=region_code,
            title=title,
            signed_on=signed_on,
            sha256=digest,
            size=len(upload.content),
            content_type=content_type,
            filename=safe_filename(upload.filename),
            uploaded_by=actor.account_id,
        )
        session.add(consent)
        await session.flush()
        await record_event(
            session,
            actor,
            "personnel:consent:upload",
            "consent_document",
            consent.id,
            region_code=region_code,
            evidence=[digest],
            changes=diff(None, {"kind": consent.kind, "title": title, "signed_on": signed_on, "sha256": digest}),
        )
        return consent

    return await run_once(db, idempotency, store)


async def list_consents(db: Database, actor: Actor, person_id: UUID) -> list[ConsentDocument]:
    async with db.transaction() as session:
        await load_visible_person(session, actor, person_id)
        query = (
            select(ConsentDocument)
            .where(ConsentDocument.person_id == person_id)
            .order_by(col(ConsentDocument.uploaded_at))
        )
        return list((await session.exec(query)).all())


async def list_authorisations(db: Database, actor: Actor, *, limit: int = 50) -> list[ConsentDocument]:
    """The bureau authorisations usable by `actor` (those of regions it covers), newest
    first: what an import or a check recorded by hand may be made under."""
    scope = actor.scope_regions()
    query = select(ConsentDocument).where(ConsentDocument.kind == "bureau_authorisation")
    if scope is not None:
        query = query.where(col(ConsentDocument.region_code).in_(scope))
    query = query.order_by(col(ConsentDocument.uploaded_at).desc()).limit(limit)
    async with db.transaction() as session:
        return list((await session.exec(query)).all())


async def read_consent_file(
    db: Database, storage: BlobStorage, actor: Actor, person_id: UUID, consent_id: UUID
) -> tuple[ConsentDocument, bytes]:
    """A person's signed consent (it shows their identity and signature)."""
    return await _read_person_file(
        db,
        storage,
        actor,
        person_id,
        ConsentDocument,
        consent_id,
        action="personnel:consent:read",
        object_type="consent_document",
        missing=NotFound("未找到该授权书", code="consent_not_found"),
    )


async def read_certificate_file(
    db: Database, storage: BlobStorage, actor: Actor, person_id: UUID, certificate_id: UUID
) -> tuple[Certificate, bytes]:
    """A certificate's scan (it shows the holder's identity)."""
    return await _read_person_file(
        db,
        storage,
        actor,
        person_id,
        Certificate,
        certificate_id,
        action="personnel:certificate:read",
        object_type="certificate",
        missing=NotFound("未找到该证书", code="certificate_not_found"),
    )


async def _read_person_file(
    db: Database,
    storage: BlobStorage,
    actor: Actor,
    person_id: UUID,
    model,
    record_id: UUID,
    *,
    action: str,
    object_type: str,
    missing: NotFound,
):
    """A file held for a person, for whoever may see the person; each read is an audit event."""
    async with db.transaction() as session:
        person, engaged = await load_visible_person(session, actor, person_id)
        record = await session.get(model, record_id)
        if record is None or record.person_id != person.id:
            raise missing
        await _record_file_read(session, actor, action, object_type, record, _region_of(actor, engaged))
    return record, storage.get(record.sha256)


async def read_authorisation_file(
    db: Database, storage: BlobStorage, actor: Actor, consent_id: UUID
) -> tuple[ConsentDocument, bytes]:
    """A bureau authorisation, for the reviewers and auditors of its region; each read audited."""
    async with db.transaction() as session:
        consent = await session.get(ConsentDocument, consent_id)
        if (
            consent is None
            or consent.kind != "bureau_authorisation"
            or not (actor.is_admin or actor.covers_region(consent.region_code))
        ):
            raise NotFound("未找到该授权文件", code="consent_not_found")
        await _record_file_read(
            session, actor, "personnel:consent:read", "consent_document", consent, consent.region_code
        )
    return consent, storage.get(consent.sha256)


async def _record_file_read(
    session: AsyncSession,
    actor: Actor,
    action: str,
    object_type: str,
    record: ConsentDocument | Certificate,
    region_code: str | None,
) -> None:
    await record_event(
        session, actor, action, object_type, record.id, region_code=region_code, evidence=[record.sha256]
    )
