"""Decision letters (决定书): one per decision a vendor receives, made from its audit event.

The letter says only what the decision's audit event says (action, time, acting role,
reason, the changes), set beside the vendor and items the decision was about. It is
issued once, the first time it is asked for: a document number unique per region and
China year (`东湖教白〔2026〕17号`, the region being the deciding bureau's) and a random
verification code are stored with the event's id, so every later copy is the same file.

The verification code resolves at `GET /api/v1/public/letters/{code}`, which says
whether the letter exists and whether its decision still stands: a later decision on
the same application or entry (or, for an admission, on an entry it created) makes it
`changed` (已变更), or `revoked` (已撤销) when that later decision is a revocation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlmodel import select

from service.accounts import account_regions
from service.applications import get_application
from service.audit import StoredEvent, event_by_id, events_of_objects, leaf_hash, record_event
from service.db import Database
from service.errors import NotFound
from service.numbering import next_number
from service.printing import qr, words
from service.printing.engine import Attachment, Job
from service.printing.models import DecisionLetter
from service.security import Actor
from service.service_items import items_by_ids
from service.timeutil import CHINA_TZ
from service.vendors import vendors_by_ids
from service.whitelist import get_entry

APPLICATION_DECISIONS = {
    "applications:application:conclude_notice": "admission",
    "applications:application:reject": "rejection",
    "applications:application:return": "return",
}
ENTRY_DECISIONS = {
    "whitelist:entry:suspend": "suspension",
    "whitelist:entry:revoke": "revocation",
    "whitelist:entry:reinstate": "reinstatement",
}
APPROVE = "applications:application:approve"
TITLES = {
    "admission": "准予纳入课后服务第三方机构白名单决定书",
    "rejection": "不予纳入课后服务第三方机构白名单决定书",
    "return": "进校园服务申请退回补正通知书",
    "suspension": "暂停白名单资格决定书",
    "revocation": "撤销白名单资格决定书",
    "reinstatement": "恢复白名单资格决定书",
}
POLICY = "《江西省教育厅关于进一步提升义务教育学校课后服务水平的通知》（赣教基字〔2023〕38号）"
CLAUSES = {
    "admission": "第二条第（二）项关于遴选资质合规、信誉良好、质量较高的第三方机构，建立白名单的规定",
    "rejection": "第二条第（二）项关于建立第三方机构进校园遴选审核机制的规定",
    "return": "第二条第（二）项关于建立第三方机构进校园遴选审核机制的规定",
    "suspension": "第二条第（二）项关于白名单日常监管和动态调整机制的规定",
    "revocation": "第二条第（二）项关于白名单日常监管和动态调整机制的规定",
    "reinstatement": "第二条第（二）项关于白名单日常监管和动态调整机制的规定",
}
STATUS_WORDS = {"in_force": "有效", "changed": "已变更", "revoked": "已撤销"}
VERIFY_PATH = "/api/v1/public/letters/"


def _not_found() -> NotFound:
    return NotFound("尚无可出具的决定书", code="letter_not_found")


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(raw: str) -> str:
    return raw.replace("-", "").replace(" ", "").upper()


async def _authority(session, event: StoredEvent, approve: StoredEvent | None) -> tuple[str, str]:
    """The deciding bureau's region and the acting role. The notice's end is the
    system's act: the decision it completes is the approval before it."""
    deciding = approve if event.action.endswith(":conclude_notice") and approve is not None else event
    doc = deciding.document
    account = doc["actor"].get("account_id")
    region = (await account_regions(session, [UUID(account)])).get(UUID(account)) if account else None
    region = region or doc.get("region") or "360000"
    return region, words.actor_role(doc["actor"].get("role"), region)


async def _issue(
    session,
    actor: Actor,
    event: StoredEvent,
    kind: str,
    subject_type: str,
    subject_id: UUID,
    vendor_id: UUID,
    region_code: str,
) -> DecisionLetter:
    """The letter of `event`, issued now if it never was (numbers are taken under a
    lock on the event, so two first requests never use two numbers)."""
    await session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=event.id))
    found = (await session.exec(select(DecisionLetter).where(DecisionLetter.audit_event_id == event.id))).first()
    if found is not None:
        return found
    year = event.occurred_at.astimezone(CHINA_TZ).year
    seq = await next_number(session, "letter", region_code, year)
    letter = DecisionLetter(
        audit_event_id=event.id,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        vendor_id=vendor_id,
        region_code=region_code,
        year=year,
        seq=seq,
        number=words.document_number(region_code, year, seq),
        verification_code=secrets.token_hex(8).upper(),
    )
    session.add(letter)
    await session.flush()
    await record_event(
        session,
        actor,
        "documents:letter:issue",
        "decision_letter",
        letter.id,
        region_code=region_code,
        changes={
            "number": {"before": None, "after": letter.number},
            "audit_event": {"before": None, "after": event.id},
            "subject": {"before": None, "after": f"{subject_type}:{subject_id}"},
        },
    )
    return letter


@dataclass(frozen=True)
class Standing:
    status: str  # in_force | changed | revoked
    later_action: str | None = None
    later_at: datetime | None = None


async def standing(session, letter: DecisionLetter) -> Standing:
    """Does the letter's decision still stand? Any later decision on its subject (for an
    admission: on the entries it created too) changes it."""
    if letter.subject_type == "application":
        later = [
            e
            for e in await events_of_objects(
                session, "application", [str(letter.subject_id)], list(APPLICATION_DECISIONS)
            )
            if e.id > letter.audit_event_id
        ]
        if letter.kind == "admission":
            event = await event_by_id(session, letter.audit_event_id)
            created = [str(i) for i in _value(event.document["changes"], "whitelist_entries") or []] if event else []
            later += [
                e
                for e in await events_of_objects(session, "whitelist_entry", created, list(ENTRY_DECISIONS))
                if e.id > letter.audit_event_id
            ]
    else:
        later = [
            e
            for e in await events_of_objects(
                session, "whitelist_entry", [str(letter.subject_id)], list(ENTRY_DECISIONS)
            )
            if e.id > letter.audit_event_id
        ]
    if not later:
        return Standing("in_force")
    first = min(later, key=lambda e: e.id)
    revoked = any(e.action == "whitelist:entry:revoke" for e in later) or any(
        e.action == "applications:application:reject" for e in later
    )
    return Standing("revoked" if revoked else "changed", first.action, first.occurred_at)


# ------------------------------------------------------------------ building letters


def _item_row(item, region_code: str, fee: int | None = None, fee_unit: str | None = None) -> dict[str, Any]:
    return {
        "category": words.category(item.category_code),
        "activity": item.activity,
        "grades": words.grade_bands(item.grade_bands),
        "fee": words.fee(item.fee if fee is None else fee, fee_unit or item.fee_unit),
        "region": words.region_name(region_code),
    }


def _value(changes: dict[str, Any], field: str) -> Any:
    """A field of an event's changes: `{"before", "after"}` pairs give the after value;
    an effect's own facts (an admission's entries, its end of validity) are plain."""
    value = changes.get(field)
    if isinstance(value, dict) and "after" in value:
        return value["after"]
    return value


def _decision_text(kind: str, region: str, changes: dict[str, Any]) -> str:
    after = {k: _value(changes, k) for k in changes}
    if kind == "admission":
        until = f"，有效期至{words.last_valid_day(after['valid_until'])}" if after.get("valid_until") else ""
        return f"经审核并公示期满无异议，决定将你单位下列服务项目纳入{region}课后服务第三方机构白名单{until}。"
    if kind == "rejection":
        return "经审核，你单位的进校园服务申请不符合条件，决定不予纳入白名单。"
    if kind == "return":
        return "经审查，你单位的申请材料需要补正，现予退回。请按下列意见修改后重新提交。"
    if kind == "suspension":
        until = f"，至{words.cn_datetime(after['suspended_until'])}止" if after.get("suspended_until") else ""
        return f"决定暂停你单位下列服务项目在{region}的白名单资格{until}。暂停期间不得进校提供该项服务。"
    if kind == "revocation":
        ban = f"在{words.cn_date(after['ban_until'])}前不得在本区域再次申请。" if after.get("ban_until") else ""
        return f"决定撤销你单位下列服务项目在{region}的白名单资格。{ban}"
    return f"决定恢复你单位下列服务项目在{region}的白名单资格。"


def _job(
    letter: DecisionLetter,
    event: StoredEvent,
    vendor,
    items: list[dict],
    role: str,
    subject_region: str,
    approve: StoredEvent | None = None,
) -> Job:
    doc = event.document
    # An admission takes effect when the notice ends; its reasons are the approval's.
    reason = doc.get("reason") or (approve.document.get("reason") if approve is not None else None)
    bureau = words.bureau(letter.region_code)
    code = format_code(letter.verification_code)
    context = {
        "bureau": bureau,
        "number": letter.number,
        "title": TITLES[letter.kind],
        "kind": letter.kind,
        "vendor_name": vendor.name,
        "credit_code": vendor.credit_code,
        "items": items,
        "decision": _decision_text(letter.kind, words.region_path(subject_region), doc.get("changes") or {}),
        "reason": reason,
        "clause": POLICY + CLAUSES[letter.kind],
        "role": role,
        "decided_at": doc["time"],
        "code": code,
        "verify": {
            "qr": qr.qr_data_url(VERIFY_PATH + letter.verification_code),
            "sha256": leaf_hash(event.canonical).hex(),
            "lines": [
                f"核验码：{code}。扫码或访问 GET {VERIFY_PATH}{letter.verification_code} 可查验本决定书是否存在、是否仍然有效。",
                "本决定书据审计日志中的决定事件生成（附件 decision-event.json），下列为该事件在审计日志中的叶哈希。",
            ],
        },
    }
    return Job(
        "letter.html",
        context,
        title=TITLES[letter.kind],
        author=bureau,
        created=event.occurred_at,
        attachments=(Attachment("decision-event.json", event.canonical, "决定事件（审计日志原文）"),),
    )


async def application_letter(db: Database, actor: Actor, application_id: UUID) -> Job:
    """The letter of the application's latest decision a vendor receives (404 when none,
    or when the application is not the caller's to see)."""
    view = await get_application(db, actor, application_id)
    async with db.transaction() as session:
        events = await events_of_objects(
            session, "application", [str(application_id)], [*APPLICATION_DECISIONS, APPROVE]
        )
        decisions = [e for e in events if e.action in APPLICATION_DECISIONS]
        if not decisions:
            raise _not_found()
        event = decisions[-1]
        approvals = [e for e in events if e.action == APPROVE and e.id < event.id]
        approve = approvals[-1] if approvals and event.action.endswith(":conclude_notice") else None
        region, role = await _authority(session, event, approve)
        letter = await _issue(
            session,
            actor,
            event,
            APPLICATION_DECISIONS[event.action],
            "application",
            application_id,
            view.vendor.id,
            region,
        )
    app = view.application
    items = [_item_row(item, app.region_code) for item in view.items]
    return _job(letter, event, view.vendor, items, role, app.region_code, approve)


async def entry_letter(db: Database, actor: Actor, entry_id: UUID) -> Job:
    """The letter of the entry's latest suspension, revocation or reinstatement."""
    view = await get_entry(db, actor, entry_id)
    entry = view.entry
    async with db.transaction() as session:
        events = await events_of_objects(session, "whitelist_entry", [str(entry_id)], list(ENTRY_DECISIONS))
        if not events:
            raise _not_found()
        event = events[-1]
        region, role = await _authority(session, event, None)
        letter = await _issue(
            session, actor, event, ENTRY_DECISIONS[event.action], "whitelist_entry", entry_id, entry.vendor_id, region
        )
        vendor = (await vendors_by_ids(session, [entry.vendor_id]))[entry.vendor_id]
        item = (await items_by_ids(session, [entry.service_item_id]))[entry.service_item_id]
    return _job(
        letter, event, vendor, [_item_row(item, entry.region_code, entry.fee, entry.fee_unit)], role, entry.region_code
    )


async def verify_code(db: Database, raw_code: str) -> dict[str, Any]:
    """What the public may know of a letter from its code: that it exists, its number,
    kind, vendor, dates, and whether it still stands. Nothing personal."""
    code = normalise_code(raw_code)
    async with db.transaction() as session:
        letter = (
            (await session.exec(select(DecisionLetter).where(DecisionLetter.verification_code == code))).first()
            if 0 < len(code) <= 32
            else None
        )
        if letter is None:
            raise NotFound("核验码不存在，该决定书无法核验", code="letter_not_found")
        vendor = (await vendors_by_ids(session, [letter.vendor_id]))[letter.vendor_id]
        event = await event_by_id(session, letter.audit_event_id)
        stands = await standing(session, letter)
    return {
        "exists": True,
        "number": letter.number,
        "kind": letter.kind,
        "title": TITLES[letter.kind],
        "vendor_name": vendor.name,
        "vendor_credit_code": vendor.credit_code,
        "issuing_bureau": words.bureau(letter.region_code),
        "decided_at": event.document["time"] if event else None,
        "issued_at": letter.issued_at.isoformat(),
        "status": stands.status,
        "status_text": STATUS_WORDS[stands.status],
        "later_decision": {
            "action": stands.later_action,
            "at": stands.later_at.isoformat() if stands.later_at else None,
        }
        if stands.later_action
        else None,
        "decision_event_leaf_hash": leaf_hash(event.canonical).hex() if event else None,
    }
