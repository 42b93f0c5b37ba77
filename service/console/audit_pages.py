"""Auditor pages: the event stream with filters, one object's history, the latest
checkpoint with the export bundle, and how to verify offline. All reads are the audit
front door's (service.audit), in the auditor's scope."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from litestar import Request, Response, get
from litestar.response import Stream

import service.audit as audit
from service.console.web import current_user, page, render
from service.errors import InvalidInput, NotFound
from service.security import Role
from service.timeutil import CHINA_TZ
from service.web.deps import DB, AuditSigner
from service.web.params import PathText, QueryText

AUDITORS = (Role.AUDITOR, Role.ADMIN)
PAGE_SIZE = 50
ACTION_GROUPS = [
    ("applications:", "入校申请"),
    ("whitelist:", "白名单"),
    ("personnel:", "人员与核查"),
    ("vendors:", "机构"),
    ("documents:", "资质材料"),
    ("lookup:", "核验"),
    ("accounts:", "账号与登录"),
    ("region_settings:", "区域设置"),
    ("service_items:", "服务项目"),
    ("schools:", "学校"),
    ("orders:", "点单"),
    ("timetables:", "课后服务安排表"),
    ("complaints:", "投诉"),
    ("ratings:", "满意度评价"),
    ("webhooks:", "消息推送"),
]
#: What an auditor reads for an object type; the stored code stays beside it, for the offline check.
OBJECT_LABELS = {
    "account": "账号",
    "application": "入校申请",
    "background_check": "核查结果",
    "certificate": "证书",
    "complaint": "投诉",
    "consent_document": "查询授权",
    "document": "资质材料",
    "engagement": "聘用关系",
    "objection": "异议",
    "order": "点单",
    "person": "人员",
    "receipt": "核验凭证",
    "region_settings": "区域设置",
    "school": "学校",
    "service_item": "服务项目",
    "term": "学期",
    "timetable": "课后服务安排表",
    "vendor": "机构",
    "whitelist_entry": "白名单条目",
}
ROLE_CHOICES = [
    ("reviewer", "审核员"),
    ("school", "学校"),
    ("vendor", "机构"),
    ("auditor", "审计"),
    ("admin", "管理员"),
    ("system", "系统"),
]


def _day(value: str | None, field: str, *, end: bool = False) -> datetime | None:
    """A China calendar day as an instant: its start, or (end) the next day's start."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput.field(field, "invalid_date", "日期格式应为 YYYY-MM-DD") from None
    return datetime.combine(day + timedelta(days=1 if end else 0), time(0), CHINA_TZ)


def _rows(events) -> list[dict]:
    rows = []
    for event in events:
        doc = event.document
        rows.append(
            {
                "seq": event.seq,
                "time": doc.get("time"),
                "action": doc.get("action"),
                "object_type": doc["object"]["type"],
                "object_id": doc["object"]["id"],
                "role": (doc.get("actor") or {}).get("role"),
                "group": next(
                    (name for prefix, name in ACTION_GROUPS if (doc.get("action") or "").startswith(prefix)), ""
                ),
                "object_label": OBJECT_LABELS.get(doc["object"]["type"], doc["object"]["type"]),
                "reason": doc.get("reason"),
                "changes": ", ".join(sorted(doc.get("changes") or {})),
            }
        )
    return rows


@get("/audit", **page(*AUDITORS))
async def events(
    request: Request,
    db: DB,
    action: QueryText = None,
    object_type: QueryText = None,
    object_id: QueryText = None,
    role: QueryText = None,
    since: QueryText = None,
    until: QueryText = None,
    cursor: QueryText = None,
) -> Response:
    """审计事件: the stream in log order, filtered by action, object, actor role, period."""
    chosen = {
        "action": action or "",
        "object_type": object_type or "",
        "object_id": object_id or "",
        "role": role or "",
        "since": since or "",
        "until": until or "",
    }
    errors, rows, next_cursor, status = {}, [], None, 200
    try:
        after = int(cursor) if cursor and cursor.lstrip("-").isdigit() else None
        f = audit.EventFilter(
            object_type=object_type or None,
            object_id=(object_id or "").strip() or None,
            action_prefix=action or None,
            actor_role=role or None,
            since=_day(since, "since"),
            until=_day(until, "until", end=True),
        )
        found, next_cursor = await audit.list_events(
            db, current_user(request).actor, f, after_seq=after, limit=PAGE_SIZE
        )
        rows = _rows(found)
    except InvalidInput as error:
        errors, status = {d["field"]: d["message"] for d in error.details}, 422
    query = "&".join(f"{k}={v}" for k, v in chosen.items() if v)
    return render(
        request,
        "audit/events.html",
        status_code=status,
        title="审计事件",
        rows=rows,
        chosen=chosen,
        errors=errors,
        action_groups=ACTION_GROUPS,
        roles=ROLE_CHOICES,
        role_labels=dict(ROLE_CHOICES),
        next_href=f"/audit?{query}&cursor={next_cursor}" if next_cursor is not None else None,
        crumbs=[{"text": "审计"}, {"text": "审计事件"}],
    )


@get("/audit/objects/{object_type:str}/{object_id:str}", **page(*AUDITORS))
async def object_history(request: Request, db: DB, object_type: PathText, object_id: PathText) -> Response:
    """对象历史: every event of one object as a timeline, newest first, with its state."""
    states = await audit.object_history(db, current_user(request).actor, object_type, object_id)
    return render(
        request,
        "audit/object.html",
        title="对象历史",
        object_type=object_type,
        object_label=OBJECT_LABELS.get(object_type, object_type),
        object_id=object_id,
        states=list(reversed(states)),
        role_labels=dict(ROLE_CHOICES),
        crumbs=[{"text": "审计"}, {"text": "审计事件", "href": "/audit"}, {"text": "对象历史"}],
    )


@get("/audit/checkpoint", **page(*AUDITORS))
async def checkpoint(request: Request, db: DB, signer: AuditSigner) -> Response:
    """最新检查点, the export bundle, and how to verify it offline."""
    try:
        latest = await audit.latest_checkpoint(db, signer)
    except NotFound:
        latest = None
    return render(
        request,
        "audit/checkpoint.html",
        title="检查点与离线核验",
        latest=latest,
        signer=signer,
        crumbs=[{"text": "审计"}, {"text": "检查点与离线核验"}],
    )


@get("/audit/export", **page(*AUDITORS))
async def export(request: Request, db: DB, signer: AuditSigner) -> Response:
    """The NDJSON bundle of the whole log (in scope), as the API's export."""
    lines = await audit.prepare_export(db, signer, current_user(request).actor, 0, None)
    return Stream(
        lines,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="schoolgate-audit.ndjson"'},
    )


ROUTES = [events, object_history, checkpoint, export]
