"""How the console writes dates, money, durations, IDs and statuses (docs/console.md).

Pure functions, registered as Jinja filters; the PDFs may use the same words."""

from __future__ import annotations

from datetime import date, datetime

from markupsafe import Markup

from service.documents import document_status as _document_status
from service.regions import regions
from service.service_items import CATEGORIES, GRADE_BANDS
from service.timeutil import CHINA_TZ

FEE_UNITS = {"per_session": "每课时", "per_term": "每学期", "free": "免费"}
DOC_TYPES = {
    "business_license": "营业执照",
    "school_permit": "办学许可证",
    "non_enterprise_registration": "民办非企业单位登记证书",
    "other": "其他材料",
}
CHECK_TYPES = {
    "criminal_record": "违法犯罪记录查询",
    "sexual_offence_entry_query": "性侵违法犯罪信息入职查询",
    "health_certificate": "健康证明",
    "conduct_reference": "师德/品德考察",
    "mental_health": "心理健康评估",
}
LEVEL_LABELS = {"county": "县级审核员", "city": "市级审核员", "province": "省级审核员"}
ROLE_LABELS = {"school": "学校", "vendor": "机构", "auditor": "审计", "admin": "管理员", "reviewer": "审核员"}

# One palette (CONSOLE.md): meaning -> css class. The chip always carries its text too.
CHIP_CLASS = {
    "green": "chip-green",
    "amber": "chip-amber",
    "orange": "chip-orange",
    "red": "chip-red",
    "grey": "chip-grey",
}
STATUS_CHIPS = {
    # whitelist statuses
    "active": ("在白名单", "green"),
    "suspended": ("暂停", "orange"),
    "revoked": ("已撤销", "red"),
    "expired": ("已过期", "grey"),
    "not_listed": ("未列入", "grey"),
    "lapsed": ("已过期", "grey"),
    "superseded": ("已替换", "grey"),
    # people
    "cleared": ("可以入校", "green"),
    "not_cleared": ("未通过核验", "red"),
    "pending": ("待核查", "amber"),
    # documents
    "valid": ("正常", "green"),
    "expiring": ("即将到期", "amber"),
    "not_yet_valid": ("未生效", "amber"),
    # application stages
    "draft": ("草稿", "grey"),
    "submitted": ("审核中", "amber"),
    "preliminary_review": ("审核中", "amber"),
    "verification": ("审核中", "amber"),
    "final_review": ("审核中", "amber"),
    "public_notice": ("公示中", "amber"),
    "objection_review": ("异议处理中", "orange"),
    "returned": ("退回修改", "orange"),
    "approved": ("已通过", "green"),
    "rejected": ("未通过", "red"),
    "withdrawn": ("已撤回", "grey"),
    # requests
    "confirmed": ("已确认", "green"),
    "declined": ("已拒绝", "red"),
    "open": ("待处理", "amber"),
    "upheld": ("异议成立", "red"),
    "dismissed": ("异议不成立", "grey"),
    "closed": ("已关闭", "grey"),
    "clear": ("无异常", "green"),
    "adverse": ("有不良记录", "red"),
    # orders: their state, and their standing now
    "placed": ("待机构确认", "amber"),
    "accepted": ("机构已接单", "green"),
    "cancelled": ("已取消", "grey"),
    "in_force": ("正常", "green"),
    "at_risk": ("存在风险", "amber"),
    "blocked": ("受阻", "orange"),
    # complaints (upheld / dismissed carry the workflow's own words)
    "received": ("已受理", "amber"),
    "investigating": ("调查中", "amber"),
    # timetables
    "filed": ("已备案", "amber"),
    "published": ("已公布", "green"),
}


def _parsed(value: date | datetime | str | None) -> date | datetime | None:
    """ISO text (as in a signed answer) to a date or an instant."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return None
    return value


def cn_date(value: date | datetime | str | None) -> str:
    parsed = _parsed(value)
    if parsed is None:
        return "—"
    if isinstance(parsed, datetime):
        parsed = parsed.astimezone(CHINA_TZ).date()
    return f"{parsed.year}年{parsed.month}月{parsed.day}日"


def cn_datetime(value: datetime | str | None) -> str:
    parsed = _parsed(value)
    if parsed is None:
        return "—"
    if not isinstance(parsed, datetime):  # ISO text without a time: the day alone
        return cn_date(parsed)
    local = parsed.astimezone(CHINA_TZ)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def duration(seconds: int | float | None) -> str:
    """`3 天`, `5 小时`, `12 分钟`: the largest unit that is at least one."""
    seconds = int(seconds or 0)
    if seconds >= 86400:
        return f"{seconds // 86400} 天"
    if seconds >= 3600:
        return f"{seconds // 3600} 小时"
    return f"{max(1, seconds // 60)} 分钟"


def money(fen: int | None, unit: str | None = None) -> str:
    """Fees are stored in fen: 3000 -> `30.00 元 每课时`."""
    if unit == "free" or (fen == 0 and unit in (None, "free")):
        return "免费"
    if fen is None:
        return "—"
    text = f"{fen // 100}.{fen % 100:02d} 元"
    return f"{text} {FEE_UNITS.get(unit, unit)}" if unit else text


def region_name(code: str | None) -> str:
    if not code:
        return "—"
    info = regions().get(code)
    return info.name if info else code


def category(code: int | None) -> str:
    return CATEGORIES.get(code, "—") if code is not None else "—"


def grades(bands) -> str:
    return "、".join(GRADE_BANDS.get(b, b) for b in bands or []) or "—"


def label(value: str | None, table: dict[str, str]) -> str:
    return table.get(value or "", value or "—")


def chip(status: str | None, text: str | None = None) -> dict[str, str]:
    words, colour = STATUS_CHIPS.get(status or "", (status or "—", "grey"))
    return {"text": text or words, "cls": CHIP_CLASS[colour]}


def chip_html(status: str | None, text: str | None = None) -> Markup:
    found = chip(status, text)
    return Markup('<span class="chip {}">{}</span>').format(found["cls"], found["text"])


def role_label(role: str, region_code: str | None) -> str:
    if role == "reviewer":
        info = regions().get(region_code) if region_code else None
        return LEVEL_LABELS.get(info.level if info else "", "审核员")
    return ROLE_LABELS.get(role, role)


def percent(share: float | None) -> str:
    """0.625 -> `63%` (as the timetable's problems write it)."""
    return "—" if share is None else f"{share:.0%}"


FILTERS = {
    "percent": percent,
    "cn_date": cn_date,
    "cn_datetime": cn_datetime,
    "duration": duration,
    "money": money,
    "region_name": region_name,
    "category": category,
    "grades": grades,
    "doc_type": lambda v: label(v, DOC_TYPES),
    "check_type": lambda v: label(v, CHECK_TYPES),
}


def document_status(document) -> str:
    """valid | expiring | expired | not_yet_valid, now (the documents domain's rule)."""
    return _document_status(document.valid_from, document.valid_until)
