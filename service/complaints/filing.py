"""Filing a complaint about a school (§3(3)), and a case's public status.

- Signed in (`file_complaint`): a school about itself, a vendor's account about a school
  (naming only its own orders), an inspector (auditor account) about a school in scope.
- The public form (`file_public_complaint`): no account, rate limited per client address
  and per school (service/complaints/ratelimit.py); the answer is the case code, the one
  thing a parent needs to follow the case (`public_status`: the state, nothing personal).

Both take an optional idempotency key (service/idempotency): a retried or double-submitted
filing answers the first one's reply and files nothing, and a replay takes no rate-limit
slot (it is answered before the work, and so before the count).

Filing is one audit event in the same transaction. Descriptions are never logged.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.complaints import PublicComplaintCreated, PublicComplaintStatus
from service.audit import record_event
from service.complaints import ratelimit
from service.complaints.models import CATEGORIES, Complaint
from service.complaints.views import ComplaintView, view_of
from service.db import Database
from service.errors import Forbidden, InvalidInput, NotFound, problem, raise_problems
from service.idempotency import Idempotency, Reply, run_once
from service.orders import order_facts
from service.schools import School, school_by_code, visible_school
from service.security import Actor, Keyring, Role
from service.timeutil import utcnow
from workflows.complaint import COMPLAINT, RECEIVED

DESCRIPTION_LIMIT = 2000
PUBLIC_SCOPE = "public_complaint"  # whose keys a parent's filing is remembered under (no account)
# Crockford's base32 without I, L, O, U: read aloud and typed on a phone without confusion.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class ComplaintInput:
    category: str
    description: str
    order_id: UUID | None = None
    person_id: UUID | None = None


def new_case_code() -> str:
    """`TS-XXXX-XXXX-XXXX`: 60 random bits, unguessable, easy to read out."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"TS-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_case_code(code: str) -> str:
    compact = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if compact.startswith("TS"):
        compact = compact[2:]
    return f"TS-{compact[:4]}-{compact[4:8]}-{compact[8:]}" if len(compact) == 12 else ""


def _validate(data: ComplaintInput, *, public: bool) -> ComplaintInput:
    problems: list[dict] = []
    if data.category not in CATEGORIES:
        problems.append(
            problem(
                "category",
                "unknown_category",
                "投诉类别须为：" + "、".join(f"{code}（{label}）" for code, label in CATEGORIES.items()),
            )
        )
    description = (data.description or "").strip()
    if not description:
        problems.append(problem("description", "required", "请描述投诉的情况"))
    elif len(description) > DESCRIPTION_LIMIT:
        problems.append(problem("description", "too_long", f"情况描述不能超过 {DESCRIPTION_LIMIT} 个字符"))
    if data.person_id is not None and data.order_id is None:
        problems.append(problem("person_id", "order_required", "投诉具体人员时，请同时指明其授课的订单（order_id）"))
    if public and data.person_id is not None:
        problems.append(problem("person_id", "field_not_allowed", "公开投诉表单不能指定人员，请在描述中说明"))
    raise_problems(problems)
    return ComplaintInput(data.category, description, data.order_id, data.person_id)


async def _subject(session: AsyncSession, actor: Actor | None, school: School, data: ComplaintInput) -> dict:
    """The order, item, vendor and person the complaint names — each checked to belong."""
    if data.order_id is None:
        return {}
    facts = await order_facts(session, data.order_id)
    own_vendor = (
        actor is None
        or actor.role is not Role.VENDOR
        or (facts is not None and await _vendor_code(session, facts.vendor_id) == actor.vendor_credit_code)
    )
    if facts is None or facts.school_id != school.id or not own_vendor:
        raise InvalidInput.field("order_id", "order_not_found", "该校没有这笔订单")
    if data.person_id is not None and data.person_id not in facts.people:
        raise InvalidInput.field("person_id", "person_not_on_order", "该人员不是这笔订单的授课人员")
    return {
        "order_id": facts.order_id,
        "service_item_id": facts.service_item_id,
        "vendor_id": facts.vendor_id,
        "person_id": data.person_id,
    }


async def _vendor_code(session: AsyncSession, vendor_id: UUID) -> str | None:
    from service.vendors import vendors_by_ids  # the vendors front door has no export yet

    found = (await vendors_by_ids(session, [vendor_id])).get(vendor_id)
    return found.credit_code if found else None


def _source(actor: Actor) -> str:
    return {Role.SCHOOL: "school", Role.VENDOR: "vendor", Role.AUDITOR: "inspector"}[actor.role]


async def _school_for(session: AsyncSession, actor: Actor, school_code: str) -> School:
    if actor.role is Role.VENDOR:  # a vendor's staff may complain about any school they serve
        school = await school_by_code(session, school_code)
        if school is None:
            raise NotFound("未找到该学校", code="school_not_found")
        return school
    if actor.role not in (Role.SCHOOL, Role.AUDITOR):
        raise Forbidden("只有学校、机构和督学账号可以提交投诉", code="role_forbidden")
    return await visible_school(session, actor, school_code)


async def _store(
    session: AsyncSession, actor: Actor, school: School, data: ComplaintInput, subject: dict, source: str, now: datetime
) -> Complaint:
    complaint = Complaint(
        case_code=new_case_code(),
        school_id=school.id,
        region_code=school.region_code,
        category=data.category,
        description=data.description,
        source=source,
        filed_by=actor.account_id,
        state=RECEIVED,
        created_at=now,
        updated_at=now,
        **subject,
    )
    session.add(complaint)
    await session.flush()
    # The description stays out of the audit document: it may hold personal data.
    await record_event(
        session,
        actor,
        "complaints:complaint:file",
        "complaint",
        complaint.id,
        region_code=school.region_code,
        changes={
            k: {"before": None, "after": v}
            for k, v in {
                "state": RECEIVED,
                "category": data.category,
                "source": source,
                "school_id": school.id,
                **{k: v for k, v in subject.items() if v is not None},
            }.items()
        },
    )
    return complaint


async def file_complaint(
    db: Database,
    actor: Actor,
    school_code: str,
    data: ComplaintInput,
    *,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[ComplaintView]:
    """A signed-in school, vendor or inspector files a complaint about a school (at most
    once per idempotency key)."""
    now = now or utcnow()
    data = _validate(data, public=False)

    async def work(session: AsyncSession) -> ComplaintView:
        school = await _school_for(session, actor, school_code)
        subject = await _subject(session, actor, school, data)
        complaint = await _store(session, actor, school, data, subject, _source(actor), now)
        return await view_of(session, actor, complaint, school.code)

    return await run_once(db, idempotency, work)


def public_created(complaint: Complaint) -> PublicComplaintCreated:
    """The answer to a parent's filing: the case code and where to follow it."""
    return PublicComplaintCreated(
        case_code=complaint.case_code,
        state=complaint.state,
        state_label=COMPLAINT.state_label(complaint.state),
        status_url=f"/api/v1/public/complaints/{complaint.case_code}",
    )


async def file_public_complaint(
    db: Database,
    keyring: Keyring,
    school_code: str,
    data: ComplaintInput,
    *,
    client_address: str | None,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Reply[PublicComplaintCreated]:
    """A parent (no account) files a complaint through the school's public form (at most
    once per public idempotency key)."""
    now = now or utcnow()
    data = _validate(data, public=True)

    async def work(session: AsyncSession) -> PublicComplaintCreated:
        school = await school_by_code(session, school_code)
        if school is None:
            raise NotFound("未找到该学校", code="school_not_found")
        subject = await _subject(session, None, school, data)
        await ratelimit.take(session, keyring, address=client_address, school_key=str(school.id), now=now)
        # No account: the service records the case itself (system actor), its source `public`.
        return public_created(await _store(session, Actor.system(), school, data, subject, "public", now))

    return await run_once(db, idempotency, work)


async def public_form_school(db: Database, school_code: str) -> School:
    """The school a parent's public form is for (404 `school_not_found`, as the filing)."""
    async with db.transaction() as session:
        school = await school_by_code(session, school_code)
    if school is None:
        raise NotFound("未找到该学校", code="school_not_found")
    return school


async def public_status(db: Database, case_code: str) -> PublicComplaintStatus:
    """The state of a case by its code: nothing about the school, the people or the text."""
    code = normalise_case_code(case_code)
    async with db.transaction() as session:
        complaint = (await session.exec(select(Complaint).where(Complaint.case_code == code))).first() if code else None
    if complaint is None:
        raise NotFound("未找到该投诉编号", code="case_not_found")
    return PublicComplaintStatus(
        case_code=complaint.case_code,
        state=complaint.state,
        state_label=COMPLAINT.state_label(complaint.state),
        category=complaint.category,
        category_label=CATEGORIES[complaint.category],
        received_at=complaint.created_at,
        updated_at=complaint.updated_at,
    )
