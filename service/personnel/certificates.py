"""Qualification certificates of a person (teacher, coaching, professional), with their
validity and the activity categories they cover."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import diff, record_event
from service.db import Database
from service.documents import BlobStorage, check_file, document_status, safe_filename
from service.errors import (
    problem,
    raise_problems,
)
from service.idempotency import Idempotency, Reply, run_once
from service.personnel.consents import Upload
from service.personnel.models import (
    CERTIFICATE_TYPES,
    Certificate,
)
from service.personnel.people import _region_of, _require_writer, load_visible_person
from service.security import Actor

CATEGORY_CODES = range(1, 9)  # the notice's eight activity categories


@dataclass(frozen=True)
class CertificateInput:
    cert_type: str
    number: str
    issuer: str
    category_codes: str
    valid_from: date
    valid_until: date | None


def _validate_certificate(data: CertificateInput) -> tuple[CertificateInput, list[int]]:
    problems = []
    if data.cert_type not in CERTIFICATE_TYPES:
        problems.append(
            problem(
                "cert_type", "invalid_cert_type", "证书类型必须是 teacher_qualification、coaching 或 professional 之一"
            )
        )
    for field in ("number", "issuer"):
        value = (getattr(data, field) or "").strip()
        if not value:
            problems.append(problem(field, "required", "此项不能为空"))
        elif len(value) > (100 if field == "number" else 200):
            problems.append(problem(field, "too_long", "内容过长"))
    codes: list[int] = []
    for part in re.split(r"[,，;；\s]+", data.category_codes or ""):
        if part:
            if not part.isdigit() or int(part) not in CATEGORY_CODES:
                problems.append(problem("category_codes", "invalid_category", "活动类别代码应为 1 到 8 之间的数字"))
                break
            codes.append(int(part))
    if not codes and not any(p["field"] == "category_codes" for p in problems):
        problems.append(problem("category_codes", "required", "请填写证书适用的活动类别代码"))
    if data.valid_until is not None and data.valid_until < data.valid_from:
        problems.append(problem("valid_until", "invalid_validity", "有效期截止日期不能早于起始日期"))
    raise_problems(problems)
    return (
        CertificateInput(
            data.cert_type, data.number.strip(), data.issuer.strip(), "", data.valid_from, data.valid_until
        ),
        sorted(set(codes)),
    )


def certificate_status(certificate: Certificate, now: datetime | None = None) -> str:
    return document_status(certificate.valid_from, certificate.valid_until, now)


async def upload_certificate(
    db: Database,
    storage: BlobStorage,
    actor: Actor,
    person_id: UUID,
    upload: Upload,
    data: CertificateInput,
    *,
    idempotency: Idempotency | None = None,
) -> Reply[Certificate]:
    """A qualification certificate with its scan (at most once per idempotency key)."""
    content_type = check_file(upload.content, upload.max_bytes)
    data, codes = _validate_certificate(data)

    async def store(session: AsyncSession) -> Certificate:
        person, engaged = await load_visible_person(session, actor, person_id)
        _require_writer(actor)
        digest = storage.put(upload.content)
        certificate = Certificate(
            person_id=person.id,
            cert_type=data.cert_type,
            number=data.number,
            issuer=data.issuer,
            category_codes=codes,
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            sha256=digest,
            size=len(upload.content),
            content_type=content_type,
            filename=safe_filename(upload.filename),
            uploaded_by=actor.account_id,
        )
        session.add(certificate)
        await session.flush()
        await record_event(
            session,
            actor,
            "personnel:certificate:upload",
            "certificate",
            certificate.id,
            region_code=_region_of(actor, engaged),
            evidence=[digest],
            changes=diff(
                None,
                {
                    "person_id": person.id,
                    "cert_type": data.cert_type,
                    "number": data.number,
                    "issuer": data.issuer,
                    "category_codes": codes,
                    "valid_from": data.valid_from,
                    "valid_until": data.valid_until,
                    "sha256": digest,
                },
            ),
        )
        return certificate

    return await run_once(db, idempotency, store)


async def list_certificates(db: Database, actor: Actor, person_id: UUID) -> list[Certificate]:
    async with db.transaction() as session:
        await load_visible_person(session, actor, person_id)
        query = select(Certificate).where(Certificate.person_id == person_id).order_by(col(Certificate.uploaded_at))
        return list((await session.exec(query)).all())
