"""Handling complaints (§3(3)): the bureau's decisions through the workflow table
(workflows/complaint.py), evidence files, and the person-level suspension pending an
investigation. Filing is in `filing`, reading in `views`.

- Handling (`transition_complaint`): reviewers in scope. Upholding a serious complaint
  opens a whitelist suspension request of the item or the vendor
  (`service.whitelist.request_suspension`), still waiting for four eyes. Dismissing lifts
  the person-level suspensions the complaint opened.
- `suspend_person_entry`: a reviewer suspends, pending the investigation, the entry of the
  person the complaint names, everywhere (`service.personnel.suspend_person`).

Every step is one audit event in the same transaction. Descriptions are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from service.applications import parse_version
from service.audit import record_event
from service.complaints.models import Complaint, ComplaintEvidence
from service.complaints.views import ComplaintView, handler_tags, load_complaint, view_of
from service.db import Database
from service.documents import BlobStorage, check_file, safe_filename
from service.errors import Conflict, Forbidden, InvalidInput
from service.personnel import lift_suspensions, suspend_person
from service.reason import clean_reason
from service.security import Actor
from service.timeutil import utcnow
from service.versioning import check_version
from service.whitelist import request_suspension
from workflows import REASON_FACT, REASON_REQUIRED, allowed_actions, decide
from workflows.complaint import COMPLAINT, OPEN_STATES

REASON_LIMIT = 2000
SUSPEND_TARGETS = ("item", "vendor")


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
    complaint = await load_complaint(session, actor, complaint_id, lock=True)
    _check_version(complaint, version)
    tags = handler_tags(actor, complaint)
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
    return await view_of(session, actor, complaint)


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
    if not handler_tags(actor, complaint):
        raise Forbidden("只有辖区内的审核人员可以办理投诉", code="reviewer_only")


async def suspend_person_entry(
    db: Database, actor: Actor, complaint_id: UUID, *, now: datetime | None = None
) -> ComplaintView:
    """Suspend, pending the investigation, the entry everywhere of the person the complaint names."""
    now = now or utcnow()
    async with db.transaction() as session:
        complaint = await load_complaint(session, actor, complaint_id, lock=True)
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
        return await view_of(session, actor, complaint)


async def lift_person_entry(
    db: Database, actor: Actor, complaint_id: UUID, reason: str | None, *, now: datetime | None = None
) -> ComplaintView:
    """Lift the suspension this complaint opened (e.g. after an upheld complaint was dealt with)."""
    now = now or utcnow()
    cleaned = clean_reason(reason, required=True, limit=REASON_LIMIT) or ""
    async with db.transaction() as session:
        complaint = await load_complaint(session, actor, complaint_id, lock=True)
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
        return await view_of(session, actor, complaint)


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
        complaint = await load_complaint(session, actor, complaint_id, lock=True)
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
        return await view_of(session, actor, complaint)
