"""Background-check records: validated, recorded under a consent, audited, read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service import timeutil
from service.audit import build_event, diff, record_event, record_events
from service.db import Database
from service.errors import (
    Conflict,
    InvalidInput,
    problem,
    raise_problems,
)
from service.idempotency import Idempotency, Reply, run_once
from service.personnel.models import (
    CHECK_TYPES,
    RESULTS,
    BackgroundCheck,
    ConsentDocument,
)
from service.personnel.people import load_visible_person
from service.security import Actor
from service.webhooks import enqueue_standing_change


@dataclass(frozen=True)
class CheckInput:
    check_type: str
    result: str
    query_date: date
    reference: str
    issuing_authority: str
    valid_until: date | None
    consent_document_id: UUID | None


def validate_check_fields(
    check_type: str,
    result: str,
    query_date: date | None,
    reference: str,
    issuing_authority: str,
    valid_until: date | None,
    today: date,
) -> list[dict]:
    """The rules every check record meets, recorded one by one or imported."""
    problems = []
    if check_type not in CHECK_TYPES:
        problems.append(problem("check_type", "invalid_check_type", "查询类型无效"))
    if result not in RESULTS:
        problems.append(problem("result", "invalid_result", "查询结果必须是 clear、adverse 或 pending 之一"))
    if query_date is not None and query_date > today:
        problems.append(problem("query_date", "query_date_in_future", "查询日期不能晚于今天"))
    if not reference:
        problems.append(problem("reference", "required", "查询编号不能为空"))
    elif len(reference) > 100:
        problems.append(problem("reference", "too_long", "查询编号不能超过 100 个字符"))
    if not issuing_authority:
        problems.append(problem("issuing_authority", "required", "出具机关不能为空"))
    elif len(issuing_authority) > 200:
        problems.append(problem("issuing_authority", "too_long", "出具机关不能超过 200 个字符"))
    if valid_until is not None and query_date is not None and valid_until < query_date:
        problems.append(problem("valid_until", "invalid_validity", "有效期截止日期不能早于查询日期"))
    return problems


async def require_consent(
    session: AsyncSession, actor: Actor, consent_id: UUID | None, person_id: UUID | None
) -> ConsentDocument:
    """The consent a check is made under: the person's own signed consent, or an
    authorisation the bureau holds for a region the reviewer covers."""
    if consent_id is None:
        raise InvalidInput.field(
            "consent_document_id", "consent_required", "须提供本人签署的授权书或机关授权文件后方可记录查询结果"
        )
    consent = await session.get(ConsentDocument, consent_id)
    usable = consent is not None and (
        (consent.kind == "person_consent" and person_id is not None and consent.person_id == person_id)
        or (consent.kind == "bureau_authorisation" and actor.covers_region(consent.region_code))
    )
    if consent is None or not usable:
        raise InvalidInput.field(
            "consent_document_id", "invalid_consent_document", "授权文件不存在，或不适用于该人员/本辖区"
        )
    return consent


def check_audit_changes(check: BackgroundCheck) -> dict:
    return diff(
        None,
        {
            "person_id": check.person_id,
            "check_type": check.check_type,
            "result": check.result,
            "query_date": check.query_date,
            "reference": check.reference,
            "issuing_authority": check.issuing_authority,
            "valid_until": check.valid_until,
            "consent_document_id": check.consent_document_id,
        },
    )


async def record_check(
    db: Database, actor: Actor, person_id: UUID, data: CheckInput, *, idempotency: Idempotency | None = None
) -> Reply[BackgroundCheck]:
    """Record a check result under a consent (at most once per idempotency key)."""
    reference = (data.reference or "").strip()
    authority = (data.issuing_authority or "").strip()
    today = timeutil.today_in_china(timeutil.utcnow())
    raise_problems(
        validate_check_fields(
            data.check_type, data.result, data.query_date, reference, authority, data.valid_until, today
        )
    )

    async def record(session: AsyncSession) -> BackgroundCheck:
        person, _ = await load_visible_person(session, actor, person_id)
        consent = await require_consent(session, actor, data.consent_document_id, person.id)
        check = BackgroundCheck(
            person_id=person.id,
            check_type=data.check_type,
            result=data.result,
            query_date=data.query_date,
            reference=reference,
            issuing_authority=authority,
            valid_until=data.valid_until,
            consent_document_id=consent.id,
            recorded_by=actor.account_id,
        )
        session.add(check)
        await session.flush()
        await record_event(
            session,
            actor,
            "personnel:check:record",
            "background_check",
            check.id,
            region_code=actor.region_code,
            changes=check_audit_changes(check),
            evidence=[consent.sha256],
        )
        await enqueue_standing_change(session, person_ids=[person.id], cause="personnel:check:record")
        return check

    try:
        return await run_once(db, idempotency, record)
    except IntegrityError as error:
        if "uq_background_checks_type_reference" in str(error.orig):
            raise Conflict(
                "该查询编号已登记",
                code="duplicate_reference",
                details=[problem("reference", "duplicate_reference", "该查询类型下此查询编号已登记")],
            ) from None
        raise


async def read_checks(db: Database, actor: Actor, person_id: UUID) -> list[BackgroundCheck]:
    """Check records with their content. Each record read is an audit event."""
    async with db.transaction() as session:
        person, _ = await load_visible_person(session, actor, person_id)
        query = (
            select(BackgroundCheck)
            .where(BackgroundCheck.person_id == person.id)
            .order_by(col(BackgroundCheck.query_date).desc(), col(BackgroundCheck.recorded_at).desc())
        )
        checks = list((await session.exec(query)).all())
        await record_events(
            session,
            [
                build_event(
                    actor,
                    "personnel:check:read",
                    "background_check",
                    check.id,
                    region_code=actor.region_code,
                    changes={},
                )
                for check in checks
            ],
        )
        return checks
