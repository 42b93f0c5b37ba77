"""How documents write dates, money, categories, roles and bureaus (CONSOLE.md, "Words and numbers").

Pure functions over plain values: the renderer's Jinja filters and the document
builders both use them, so a letter and a list say a thing the same way.
"""

from __future__ import annotations

from datetime import date, datetime

from service.regions import regions
from service.service_items import CATEGORIES, GRADE_BANDS
from service.timeutil import CHINA_TZ

FEE_WORDS = {"per_session": "每课时", "per_term": "每学期"}
LEVEL_ROLE = {"county": "县级审核员", "city": "市级审核员", "province": "省级审核员"}
ROLE_WORDS = {"school": "学校", "vendor": "机构", "auditor": "审计", "admin": "系统管理员", "system": "系统"}
# The province's one-character abbreviation, as its own document numbers use it.
PROVINCE_SHORT = {"360000": "赣"}
REGION_SUFFIXES = ("自治县", "省", "市", "区", "县")


def _as_datetime(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def cn_date(value: date | datetime | str | None) -> str:
    """`2026年9月1日` (an instant is read in China time)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(CHINA_TZ).date()
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: datetime | str | None) -> str:
    """`2026年9月1日 15:40`, China time."""
    if value is None or value == "":
        return "—"
    local = _as_datetime(value).astimezone(CHINA_TZ)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def last_valid_day(until: datetime | str | None) -> str:
    """An instant a validity ends at (midnight after its last day, China time) as the
    last day it still holds: what a person reads as "valid until"."""
    if until is None or until == "":
        return "—"
    local = _as_datetime(until).astimezone(CHINA_TZ)
    day = local.date()
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        day = date.fromordinal(day.toordinal() - 1)
    return cn_date(day)


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d} 元"


def fee(fen: int, unit: str) -> str:
    """`每课时 15.00 元`; a free item says so."""
    if unit == "free" or fen == 0:
        return "免费"
    return f"{FEE_WORDS.get(unit, '')} {yuan(fen)}".strip()


def category(code: int) -> str:
    return CATEGORIES.get(code, str(code))


def grade_bands(bands) -> str:
    return "、".join(GRADE_BANDS.get(b, b) for b in bands)


def region_name(code: str | None) -> str:
    info = regions().get(code) if code else None
    return info.name if info else (code or "—")


def region_path(code: str | None) -> str:
    """`江西省南昌市东湖区`: a region with the regions above it."""
    if not code or code not in regions():
        return code or "—"
    chain = list(reversed(regions().ancestors(code)))
    return "".join(region_name(c) for c in chain)


def bureau(code: str | None) -> str:
    """The education authority of a region: 江西省教育厅, 南昌市教育局, 东湖区教育局."""
    info = regions().get(code) if code else None
    if info is None:
        return "教育行政部门"
    return info.name + ("教育厅" if info.level == "province" else "教育局")


def region_short(code: str) -> str:
    """The region's name without its level (东湖区 → 东湖), for document numbers."""
    if code in PROVINCE_SHORT:
        return PROVINCE_SHORT[code]
    name = region_name(code)
    for suffix in REGION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def document_number(region_code: str, year: int, seq: int, kind: str = "白") -> str:
    """`东湖教白〔2026〕17号`."""
    return f"{region_short(region_code)}教{kind}〔{year}〕{seq}号"


def actor_role(role: str | None, region_code: str | None = None) -> str:
    """The acting role in words; a reviewer by the level of the region they act for."""
    if role == "reviewer":
        info = regions().get(region_code) if region_code else None
        return LEVEL_ROLE.get(info.level if info else "", "审核员")
    return ROLE_WORDS.get(role or "", role or "—")


FILTERS = {
    "cn_date": cn_date,
    "cn_datetime": cn_datetime,
    "last_valid_day": last_valid_day,
    "fee": fee,
    "yuan": yuan,
    "category": category,
    "grade_bands": grade_bands,
    "region_name": region_name,
    "region_path": region_path,
    "bureau": bureau,
    "actor_role": actor_role,
}
