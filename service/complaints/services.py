"""Complaints about schools' after-school services (§3(3)): filing, the public form and
its case code, the bureau's handling through the workflow table, evidence files, and the
person-level suspension pending an investigation.

- Signed in (`file_complaint`): a school about itself, a vendor's account about a school
  (naming only its own orders), an inspector (auditor account) about a school in scope.
- The public form (`file_public_complaint`): no account, rate limited per client address
  and per school (service/complaints/ratelimit.py); the answer is the case code, the one
  thing a parent needs to follow the case (`public_status`: the state, nothing personal).
- Handling (`transition_complaint`): reviewers in scope, through workflows/complaint.py.
  Upholding a serious complaint opens a whitelist suspension request of the item or the
  vendor (`service.whitelist.request_suspension`), still waiting for four eyes.
  Dismissing lifts the person-level suspensions the complaint opened.
- `suspend_person_entry`: a reviewer suspends, pending the investigation, the entry of the
  person the complaint names, everywhere (`service.personnel.suspend_person`).

Every step is one audit event in the same transaction. Descriptions are never logged.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.complaints import PublicComplaintStatus
from service.applications import parse_version
from service.audit import record_event
from service.complaints import ratelimit
from service.complaints.models import CATEGORIES, Complaint, ComplaintEvidence
from service.db import Database
from service.documents import BlobStorage, check_file, safe_filename
from service.errors import Conflict, Forbidden, InvalidInput, NotFound, problem, raise_problems
from service.four_eyes import request_tags
from service.orders import order_facts
from service.personnel import lift_suspensions, suspend_person, suspended_among
from service.reason import clean_reason
from service.schools import School, school_by_code, visible_school
from service.security import Actor, Keyring, Role
from service.timeutil import utcnow
from service.versioning import check_version
from service.whitelist import WhitelistActionRequest, request_suspension
from workflows import REASON_FACT, REASON_REQUIRED, allowed_actions, decide
from workflows.complaint import COMPLAINT, OPEN_STATES, RECEIVED

DESCRIPTION_LIMIT = 2000
REASON_LIMIT = 2000
STAFF = (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
SUSPEND_TARGETS = ("item", "vendor")
# Crockford's base32 without I, L, O, U: read aloud and typed on a phone without confusion.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class ComplaintInput:
    category: str
    description: str
    order_id: UUID | None = None
    person_id: UUID | None = None


@dataclass(frozen=True)
class ComplaintView:
    complaint: Complaint
    school_code: str
    evidence: list[ComplaintEvidence]
    suspension_request: WhitelistActionRequest | None
    person_suspended: bool
    allowed_actions: list[str] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return COMPLAINT.state_label(self.complaint.state)


def new_case_code() -> str:
    """`TS-XXXX-XXXX-XXXX`: 60 random bits, unguessable, easy to read out."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"TS-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_case_code(code: str) -> str:
    compact = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if compact.startswith("TS"):
        compact = compact[2:]
    return f"TS-{compact[:4]}-{compact[4:8]}-{compact[8:]}" if len(compact) == 12 else ""


# -------------------------------------------------------------------- filing


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
    db: Database, actor: Actor, school_code: str, data: ComplaintInput, *, now: datetime | None = None
) -> ComplaintView:
    """A signed-in school, vendor or inspector files a complaint about a school."""
    now = now or utcnow()
    data = _validate(data, public=False)
    async with db.transaction() as session:
        school = await _school_for(session, actor, school_code)
        subject = await _subject(session, actor, school, data)
        complaint = await _store(session, actor, school, data, subject, _source(actor), now)
        return await _view(session, actor, complaint, school.code)


async def file_public_complaint(
    db: Database,
    keyring: Keyring,
    school_code: str,
    data: ComplaintInput,
    *,
    client_address: str | None,
    now: datetime | None = None,
) -> Complaint:
    """A parent (no account) files a complaint through the school's public form."""
    now = now or utcnow()
    data = _validate(data, public=True)
    async with db.transaction() as session:
        school = await school_by_code(session, school_code)
        if school is None:
            raise NotFound("未找到该学校", code="school_not_found")
        subject = await _subject(session, None, school, data)
        await ratelimit.take(session, keyring, address=client_address, school_key=str(school.id), now=now)
        # No account: the service records the case itself (system actor), its source `public`.
        return await _store(session, Actor.system(), school, data, subject, "public", now)


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


# -------------------------------------------------------------------- reading


def _tags(actor: Actor, complaint: Complaint) -> frozenset[str]:
    return request_tags(actor, None) if actor.covers_region(complaint.region_code) else frozenset()


def _visible(actor: Actor, complaint: Complaint) -> bool:
    staff = actor.role in STAFF and actor.covers_region(complaint.region_code)
    return staff or (complaint.filed_by is not None and complaint.filed_by == actor.account_id)


async def _load(session: AsyncSession, actor: Actor, complaint_id: UUID, *, lock: bool = False) -> Complaint:
    query = select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    complaint = (await session.exec(query)).first()
    if complaint is None or not _visible(actor, complaint):
        raise NotFound("未找到该投诉", code="complaint_not_found")
    return complaint


async def _view(
    session: AsyncSession, actor: Actor, complaint: Complaint, school_code: str | None = None
) -> ComplaintView:
    if school_code is None:
        school_code = (await session.exec(select(School.code).where(School.id == complaint.school_id))).one()
    evidence = (
        await session.exec(
            select(ComplaintEvidence)
            .where(ComplaintEvidence.complaint_id == complaint.id)
            .order_by(col(ComplaintEvidence.created_at))
        )
    ).all()
    request = (
        await session.exec(
            select(WhitelistActionRequest)
            .where(WhitelistActionRequest.complaint_id == complaint.id)
            .order_by(col(WhitelistActionRequest.requested_at).desc())
        )
    ).first()
    suspended = complaint.person_id is not None and complaint.person_id in await suspended_among(
        session, [complaint.person_id]
    )
    return ComplaintView(
        complaint,
        school_code,
        list(evidence),
        request,
        suspended,
        allowed_actions(COMPLAINT, complaint.state, _tags(actor, complaint)),
    )


async def get_complaint(db: Database, actor: Actor, complaint_id: UUID) -> ComplaintView:
    async with db.transaction() as session:
        return await _view(session, actor, await _load(session, actor, complaint_id))


async def list_complaints(
    db: Database, actor: Actor, *, region_code: str | None = None, state: str | None = None
) -> list[ComplaintView]:
    """The complaints about schools of a region in scope (default: the caller's), oldest first."""
    if actor.role not in STAFF:
        raise Forbidden("只有教育行政部门可以查看投诉列表", code="role_forbidden")
    if state is not None and state not in COMPLAINT.states:
        raise InvalidInput.field("state", "invalid_state", "状态须为 " + "、".join(COMPLAINT.states))
    async with db.transaction() as session:
        query = select(Complaint).order_by(col(Complaint.created_at), col(Complaint.id)).limit(500)
        region = region_code or actor.region_code
        if region is not None:
            if not actor.covers_region(region):
                raise NotFound("行政区划不在权限范围内", code="region_not_found")
            from service.regions import regions  # the directory is shared, not a domain

            query = query.where(col(Complaint.region_code).in_(regions().descendants(region)))
        elif not actor.is_admin:
            return []
        if state is not None:
            query = query.where(Complaint.state == state)
        return [await _view(session, actor, c) for c in (await session.exec(query)).all()]


@dataclass(frozen=True)
class OpenComplaint:
    """An open case as the bureau's dashboard shows it (nothing personal)."""

    complaint_id: UUID
    case_code: str
    school_id: UUID
    category: str
    state: str
    received_at: datetime
    age_days: int


async def open_complaints_by_age(
    session: AsyncSession, region_codes: Sequence[str], now: datetime
) -> list[OpenComplaint]:
    """Every received or investigating complaint about the schools of these regions,
    oldest first, with its age in whole days at `now` (for the dashboard)."""
    rows = (
        await session.exec(
            select(Complaint)
            .where(col(Complaint.region_code).in_(list(region_codes)), col(Complaint.state).in_(list(OPEN_STATES)))
            .order_by(col(Complaint.created_at), col(Complaint.id))
        )
    ).all()
    return [
        OpenComplaint(c.id, c.case_code, c.school_id, c.category, c.state, c.created_at, (now - c.created_at).days)
        for c in rows
    ]


# -------------------------------------------------------------------- handling


def _check_version(complaint: Complaint, version: int | None) -> None:
    check_version(
        version,
        complaint.version,
        state=complaint.state,
        required="请在请求体的 version 字段或 If-Match 请求头中提供投诉的当前版本号",
        conflict="投诉已被他人处理（当前版本 {current}），请刷新后重新操作",
    )


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str | None = None
    serious: bool = False  # uphold: a serious breach, the whitelist suspension is requested
    suspend: str | None = None  # uphold + serious: "item" (default when one is named) or "vendor"


def _check_decision(complaint: Complaint, data: Decision) -> str | None:
    """What to suspend for an upheld serious complaint (None: nothing)."""
    if data.action != "uphold":
        if data.serious or data.suspend:
            raise InvalidInput.field("serious", "field_not_allowed", "只有认定属实时才能认定情节严重")
        return None
    if data.suspend is not None and data.suspend not in SUSPEND_TARGETS:
        raise InvalidInput.field("suspend", "invalid_suspend_target", "暂停对象须为 item（服务项目）或 vendor（机构）")
    if not data.serious:
        if data.suspend is not None:
            raise InvalidInput.field("suspend", "field_not_allowed", "只有情节严重时才申请暂停")
        return None
    target = data.suspend or ("item" if complaint.service_item_id else "vendor")
    if complaint.vendor_id is None or (target == "item" and complaint.service_item_id is None):
        raise InvalidInput.field(
            "suspend",
            "nothing_to_suspend",
            "该投诉未指明订单，无法申请暂停服务项目或机构；请认定属实后在白名单中另行处理",
        )
    return target


async def _transition(
    session: AsyncSession, actor: Actor, complaint_id: UUID, data: Decision, version: int | None, now: datetime
) -> ComplaintView:
    if data.action not in COMPLAINT.actions:
        raise InvalidInput.field("action", "unknown_action", "未知的操作：" + "、".join(COMPLAINT.actions))
    complaint = await _load(session, actor, complaint_id, lock=True)
    _check_version(complaint, version)
    tags = _tags(actor, complaint)
    decision = decide(COMPLAINT, complaint.state, data.action, tags, {REASON_FACT: data.reason})
    if not decision.allowed:
        if decision.code == REASON_REQUIRED:
            raise InvalidInput.field("reason", "reason_required", decision.message or "")
        raise Conflict(
            decision.message,
            code="transition_not_allowed",
            details=[
                {
                    "field": "action",
                    "code": "transition_not_allowed",
                    "message": decision.message,
                    "state": complaint.state,
                    "allowed_actions": allowed_actions(COMPLAINT, complaint.state, tags),
                }
            ],
        )
    target = _check_decision(complaint, data)
    before = {"state": complaint.state, "version": complaint.version}
    assert decision.target is not None  # an allowed decision names its target state
    complaint.state, complaint.version, complaint.updated_at = decision.target, complaint.version + 1, now
    if decision.target in COMPLAINT.final_states:
        complaint.decision_reason, complaint.decided_by, complaint.decided_at = data.reason, actor.account_id, now
        complaint.serious = data.serious
    session.add(complaint)
    changes = {
        "state": {"before": before["state"], "after": complaint.state},
        "version": {"before": before["version"], "after": complaint.version},
    }
    if decision.target in COMPLAINT.final_states:
        changes["serious"] = {"before": None, "after": data.serious}
    await record_event(
        session,
        actor,
        f"complaints:complaint:{data.action}",
        "complaint",
        complaint.id,
        region_code=complaint.region_code,
        reason=data.reason,
        changes=changes,
    )
    await session.flush()
    for effect in decision.effects:
        await EFFECTS[effect](session, actor, complaint, data, target, now)
    return await _view(session, actor, complaint)


async def _request_suspension(
    session: AsyncSession, actor: Actor, complaint: Complaint, data: Decision, target: str | None, now: datetime
) -> None:
    if target is None or complaint.vendor_id is None:
        return
    await request_suspension(
        session,
        actor,
        vendor_id=complaint.vendor_id,
        region_code=complaint.region_code,
        service_item_id=complaint.service_item_id if target == "item" else None,
        reason=f"投诉 {complaint.case_code} 经调查属实（情节严重）：{data.reason}",
        complaint_id=complaint.id,
        now=now,
    )


async def _lift_person_suspension(
    session: AsyncSession, actor: Actor, complaint: Complaint, data: Decision, target: str | None, now: datetime
) -> None:
    await lift_suspensions(
        session,
        actor,
        complaint_id=complaint.id,
        case_code=complaint.case_code,
        region_code=complaint.region_code,
        reason="投诉不成立，恢复入校",
        now=now,
    )


#: The service's handler of every effect the table names (a test holds them together).
EFFECTS = {"request_suspension": _request_suspension, "lift_person_suspension": _lift_person_suspension}


async def transition_complaint(
    db: Database,
    actor: Actor,
    complaint_id: UUID,
    data: Decision,
    *,
    version: int | None = None,
    if_match: str | None = None,
    now: datetime | None = None,
) -> ComplaintView:
    """`investigate`, `uphold` (with `serious` and `suspend`), `dismiss` — a reviewer in scope."""
    now = now or utcnow()
    version = parse_version(version, if_match)
    data = Decision(data.action, clean_reason(data.reason, limit=REASON_LIMIT), data.serious, data.suspend)
    async with db.transaction() as session:
        return await _transition(session, actor, complaint_id, data, version, now)


def _reviewer_in_scope(actor: Actor, complaint: Complaint) -> None:
    if not _tags(actor, complaint):
        raise Forbidden("只有辖区内的审核人员可以办理投诉", code="reviewer_only")


async def suspend_person_entry(
    db: Database, actor: Actor, complaint_id: UUID, *, now: datetime | None = None
) -> ComplaintView:
    """Suspend, pending the investigation, the entry everywhere of the person the complaint names."""
    now = now or utcnow()
    async with db.transaction() as session:
        complaint = await _load(session, actor, complaint_id, lock=True)
        _reviewer_in_scope(actor, complaint)
        if complaint.person_id is None:
            raise InvalidInput.field("person_id", "no_person_named", "该投诉未指明具体人员")
        if complaint.state not in OPEN_STATES:
            raise Conflict("投诉已办结，不能再暂停人员入校", code="complaint_closed")
        await suspend_person(
            session,
            actor,
            complaint.person_id,
            complaint_id=complaint.id,
            case_code=complaint.case_code,
            region_code=complaint.region_code,
            now=now,
        )
        return await _view(session, actor, complaint)


async def lift_person_entry(
    db: Database, actor: Actor, complaint_id: UUID, reason: str | None, *, now: datetime | None = None
) -> ComplaintView:
    """Lift the suspension this complaint opened (e.g. after an upheld complaint was dealt with)."""
    now = now or utcnow()
    cleaned = clean_reason(reason, required=True, limit=REASON_LIMIT) or ""
    async with db.transaction() as session:
        complaint = await _load(session, actor, complaint_id, lock=True)
        _reviewer_in_scope(actor, complaint)
        lifted = await lift_suspensions(
            session,
            actor,
            complaint_id=complaint.id,
            case_code=complaint.case_code,
            region_code=complaint.region_code,
            reason=cleaned,
            now=now,
        )
        if not lifted:
            raise Conflict("该投诉没有正在生效的人员暂停", code="no_open_suspension")
        return await _view(session, actor, complaint)


async def add_evidence(
    db: Database,
    storage: BlobStorage,
    actor: Actor,
    complaint_id: UUID,
    *,
    content: bytes,
    filename: str | None,
    max_bytes: int,
    now: datetime | None = None,
) -> ComplaintView:
    """Attach an evidence file (PDF, JPEG or PNG, the documents' checks) to an open case."""
    now = now or utcnow()
    content_type = check_file(content, max_bytes)
    async with db.transaction() as session:
        complaint = await _load(session, actor, complaint_id, lock=True)
        _reviewer_in_scope(actor, complaint)
        if complaint.state not in OPEN_STATES:
            raise Conflict("投诉已办结，不能再添加证据", code="complaint_closed")
        digest = storage.put(content)  # before the row commits: never a row without its file
        evidence = ComplaintEvidence(
            complaint_id=complaint.id,
            sha256=digest,
            size=len(content),
            content_type=content_type,
            filename=safe_filename(filename),
            uploaded_by=actor.account_id,
            created_at=now,
        )
        session.add(evidence)
        await session.flush()
        await record_event(
            session,
            actor,
            "complaints:evidence:add",
            "complaint",
            complaint.id,
            region_code=complaint.region_code,
            evidence=[digest],
            changes={"evidence": {"before": None, "after": {"id": evidence.id, "sha256": digest}}},
        )
        return await _view(session, actor, complaint)
