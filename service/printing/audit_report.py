"""The audit report for auditors: events in order, in Chinese, with the export bundle inside.

`?object=type:id` (one object's trail) or `?region=&from=&to=` (a region's events between
two China dates). Events are read through the auditor's scope (`audit.queries`), only
those sealed in the latest checkpoint; the report prints that checkpoint's size and
root hash and embeds the export bundle of the events' range (`audit-bundle.ndjson`,
made by the audit domain's own export), so `schoolgate audit verify report.pdf`
checks the report offline. Events in that range outside the auditor's scope travel as
hashes only, as in any export.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from service.audit import EventFilter, Signer, latest_checkpoint, list_events, prepare_export
from service.db import Database
from service.errors import InvalidInput, raise_problems
from service.printing import qr, words
from service.printing.engine import Attachment, Job
from service.printing.rendering import check_size, render
from service.printing.services import record_download
from service.regions import regions
from service.security import Actor
from service.timeutil import CHINA_TZ, utcnow
from workflows.entry_review import ACTION_LABELS, STATE_LABELS

PAGE = 1000
MAX_BUNDLE_EVENTS = 200_000
OBJECTS = {
    "account": "账号",
    "login": "登录",
    "password": "密码",
    "session": "会话",
    "token": "令牌",
    "application": "入校申请",
    "objection": "异议",
    "document": "资质材料",
    "letter": "决定书",
    "pdf": "文档",
    "order": "点单",
    "term": "学期",
    "bar": "禁入",
    "certificate": "证书",
    "check": "核查记录",
    "consent": "授权书",
    "engagement": "聘用",
    "id_number": "身份证号码",
    "import": "核查结果导入",
    "person": "人员",
    "settings": "区域设置",
    "school": "学校",
    "item": "服务项目",
    "timetable": "课后服务安排表",
    "vendor": "机构",
    "entry": "白名单条目",
    "request": "白名单调整申请",
}
VERBS = {
    "create": "创建",
    "set": "设置",
    "change": "修改",
    "reset": "重置",
    "end": "结束",
    "issue": "签发",
    "revoke": "撤销",
    "edit": "修改",
    "dismiss": "驳回",
    "file": "提出",
    "upload": "上传",
    "download": "下载",
    "place": "提交",
    "lift_confirm": "确认解除",
    "lift_request": "申请解除",
    "lift_decline": "拒绝解除",
    "lift_withdraw": "撤回解除申请",
    "read": "查阅",
    "import": "导入",
    "record": "记录",
    "queue": "提交导入",
    "update": "更新",
    "save": "保存",
    "register": "注册",
    "reinstate": "恢复",
    "suspend": "暂停",
    "confirm": "确认",
    "decline": "拒绝",
    "renew": "续期",
    "publish": "发布",
    **{str(k): v for k, v in ACTION_LABELS.items()},
}
FIELDS = {
    "stage": "阶段",
    "version": "版本",
    "status": "状态",
    "valid_until": "有效期至",
    "suspended_until": "暂停至",
    "ban_until": "禁止申请至",
    "name": "名称",
    "fee": "收费",
    "region_code": "区域",
    "entry_ids": "条目",
    "whitelist_entries": "白名单条目",
    "notice": "公示",
    "number": "编号",
    "document": "文档",
    "result": "结果",
    "address": "地址",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "credit_code": "统一社会信用代码",
    "legal_representative": "法定代表人",
    "org_type": "组织类型",
    "public_welfare_pledge": "公益承诺",
    "doc_type": "材料类型",
    "sha256": "文件哈希",
    "valid_from": "有效期自",
    "vendor_id": "机构编号",
    "issuer": "发证机关",
    "activity": "活动",
    "category_code": "类别",
    "grade_bands": "学段",
    "fee_unit": "收费单位",
    "check_type": "核查类型",
    "query_date": "查询日期",
    "role": "岗位",
    "start_date": "起始日期",
    "id_number": "身份证号码",
    "subject": "对象",
    "audit_event": "决定事件",
    "receipt": "回执",
    "school": "学校",
    "scope": "范围",
}
VALUE_LIMIT = 40


def _action_words(action: str) -> str:
    parts = action.split(":")
    if len(parts) != 3:
        return action
    _, obj, verb = parts
    return f"{OBJECTS.get(obj, obj)}：{VERBS.get(verb, verb)}"


def _value_words(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str) and value in STATE_LABELS:
        return STATE_LABELS[value]
    if isinstance(value, (dict, list)):
        text = (
            "…"
            if not value
            else (
                "、".join(map(str, value))
                if isinstance(value, list)
                else "；".join(f"{k}={v}" for k, v in value.items())
            )
        )
    else:
        text = str(value)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def change_words(changes: dict[str, Any]) -> list[str]:
    """Each changed field in one line: `状态：在白名单 → 暂停`."""
    lines = []
    for field, change in sorted(changes.items()):
        label = FIELDS.get(field, field)
        if isinstance(change, dict) and ("before" in change or "after" in change):
            lines.append(f"{label}：{_value_words(change.get('before'))} → {_value_words(change.get('after'))}")
        else:
            lines.append(f"{label}：{_value_words(change)}")
    return lines


def _day(value: str | None, field: str, problems: list[dict]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        problems.append({"field": field, "code": "invalid_date", "message": "日期格式应为 2026-09-01"})
        return None
    if parsed.tzinfo is None:  # a China date (or local time): midnight China time
        parsed = parsed.replace(tzinfo=CHINA_TZ)
    return parsed


def _scope(object_ref: str | None, region: str | None, start: str | None, end: str | None):
    problems: list[dict] = []
    object_type = object_id = None
    if object_ref:
        object_type, _, object_id = object_ref.partition(":")
        if not object_type or not object_id:
            problems.append(
                {"field": "object", "code": "invalid_object", "message": "object 格式应为 类型:编号，如 application:…"}
            )
    elif not region:
        problems.append({"field": "object", "code": "scope_required", "message": "须指定 object，或 region 与时间范围"})
    if region and region not in regions():
        problems.append(
            {"field": "region", "code": "unknown_region", "message": "行政区划代码不存在或不在本系统服务范围内"}
        )
    since, until = _day(start, "from", problems), _day(end, "to", problems)
    if until is not None and end and len(end) == 10:  # a whole day: up to its end
        until = datetime.combine(date.fromisoformat(end) + timedelta(days=1), time(), CHINA_TZ)
    if since and until and since >= until:
        problems.append({"field": "to", "code": "invalid_range", "message": "结束日期须晚于开始日期"})
    raise_problems(problems)
    return object_type, object_id, since, until


async def _events(db: Database, actor: Actor, f: EventFilter, region: str | None, sealed: int):
    wanted = set(regions().descendants(region)) if region else None
    out, cursor = [], None
    while True:
        page, cursor = await list_events(db, actor, f, after_seq=cursor, limit=PAGE)
        for event in page:
            if event.seq < sealed and (wanted is None or event.region_code in wanted):
                out.append(event)
                check_size(len(out), "object" if f.object_type else "region")
        if cursor is None:
            return out


async def report_pdf(
    db: Database,
    signer: Signer,
    actor: Actor,
    *,
    object_ref: str | None,
    region: str | None,
    start: str | None,
    end: str | None,
) -> bytes:
    object_type, object_id, since, until = _scope(object_ref, region, start, end)
    head = await latest_checkpoint(db, signer)
    events = await _events(db, actor, EventFilter(object_type, object_id, None, None, since, until), region, head.size)
    if events and events[-1].seq + 1 - events[0].seq > MAX_BUNDLE_EVENTS:
        raise InvalidInput(
            "报告范围内的审计事件过多，请缩小时间范围",
            code="document_too_large",
            details=[{"field": "to", "code": "document_too_large", "message": "请缩小时间范围"}],
        )
    low, high = (events[0].seq, events[-1].seq + 1) if events else (head.size, head.size)
    bundle = b"".join([line async for line in await prepare_export(db, signer, actor, low, high)])
    now = utcnow()
    rows = []
    for event in events:
        doc = event.document
        rows.append(
            {
                "seq": event.seq,
                "time": doc["time"],
                "role": words.actor_role(doc["actor"].get("role"), doc.get("region")),
                "action": _action_words(doc["action"]),
                "object": f"{doc['object']['type']}",
                "region": words.region_name(doc.get("region")) if doc.get("region") else "—",
                "changes": change_words(doc.get("changes") or {}),
                "reason": doc.get("reason"),
            }
        )
    scope = (
        (f"对象 {object_type}:{object_id}" if object_type else f"区域 {words.region_path(region)}")
        + (f"，{words.cn_datetime(since)} 起" if since else "")
        + (f"，至 {words.cn_datetime(until)}" if until else "")
    )
    bureau = words.bureau(actor.region_code) if actor.region_code else "校外机构进校园白名单管理系统"
    root = head.root_hash.hex()
    context = {
        "bureau": bureau,
        "at": now,
        "scope": scope,
        "rows": rows,
        "size": head.size,
        "root": root,
        "low": low,
        "high": high,
        "origin": signer.name,
        "verify": {
            "qr": qr.qr_data_url(f"schoolgate:audit?size={head.size}&root={root}"),
            "sha256": root,
            "lines": [
                f"所列事件均已收录于审计日志检查点（日志共 {head.size} 条，签名方 {signer.name}）；下列为该检查点的根哈希。",
                f"本报告内嵌审计导出包（附件 audit-bundle.ndjson，序号 {low} 至 {high - 1 if high > low else low}）。"
                "离线核验：schoolgate audit verify 本报告.pdf --public-key keys.json"
                "（keys.json 为 GET /api/v1/audit/keys 的内容）。",
            ],
        },
    }
    job = Job(
        "audit_report.html",
        context,
        title="审计报告",
        author=bureau,
        created=now,
        attachments=(Attachment("audit-bundle.ndjson", bundle, "审计导出包（可离线核验）"),),
    )
    pdf = await render(job)
    await record_download(
        db,
        actor,
        "audit_report",
        "audit_report",
        f"{low}-{high}",
        region_code=region or actor.region_code,
        details={"scope": {"before": None, "after": object_ref or region}},
    )
    return pdf
