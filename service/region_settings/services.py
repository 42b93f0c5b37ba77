"""Region settings: read with inheritance, change with an audit event.

`effective_settings(session, region_code)` resolves every field from the region, then
its parent, up to the province, then the built-in default, and says where each value
came from. Fields are declared once in `FIELDS` (name, default, validation); adding a
setting means a nullable column on `RegionSettings`, an entry here, and a property on
`EffectiveSettings` — nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import diff, record_event
from service.db import Database
from service.documents import DOC_TYPES
from service.errors import Forbidden, NotFound, raise_problems
from service.region_settings.models import RegionSettings
from service.regions import RegionInfo, regions
from service.security import Actor, Role
from service.timeutil import utcnow
from service.vetting import ALWAYS_MANDATORY, CHECK_TYPES, DEFAULT_VALIDITY_DAYS

DEFAULT_SOURCE = "default"


def _int_range(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            return f"须为 {low} 至 {high} 之间的整数"
        return None

    return check


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "须为 true 或 false"


def _document_types(value: Any) -> str | None:
    if not isinstance(value, list) or any(v not in DOC_TYPES for v in value):
        return "材料类型须为 " + "、".join(DOC_TYPES) + " 之一"
    if len(set(value)) != len(value):
        return "材料类型不能重复"
    return None


def _mandatory_checks(value: Any) -> str | None:
    if not isinstance(value, list) or any(v not in CHECK_TYPES for v in value) or len(set(value)) != len(value):
        return "核查类型须为 " + "、".join(CHECK_TYPES) + " 中的不重复项"
    if not set(value) >= ALWAYS_MANDATORY:
        return "违法犯罪记录查询与性侵违法犯罪信息入职查询为法定必查项，不能取消"
    return None


def _check_validity_days(value: Any) -> str | None:
    if not isinstance(value, dict) or any(k not in CHECK_TYPES for k in value):
        return "须为以核查类型为键的对象"
    if any(not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 3650 for v in value.values()):
        return "有效天数须为 1 至 3650 之间的整数"
    return None


@dataclass(frozen=True)
class SettingField:
    name: str
    default: Any
    check: Callable[[Any], str | None]  # the problem with a (non-null) value, or None
    code: str  # error code when the check fails


FIELDS: dict[str, SettingField] = {
    f.name: f
    for f in (
        # Length of the public notice (公示) in days; 0 = no notice period (as for renewals).
        SettingField("notice_days", 5, _int_range(0, 30), "invalid_notice_days"),
        # False: the county decides (entry_review_county_only); true: the city reviews last.
        SettingField("city_review_required", True, _boolean, "invalid_city_review_required"),
        # Qualification document types an application must reference, present and unexpired.
        SettingField("mandatory_document_types", ("business_license",), _document_types, "invalid_document_types"),
        # How long a whitelist entry is valid after approval.
        SettingField("whitelist_validity_days", 365, _int_range(1, 3650), "invalid_validity_days"),
        # Check types clearance requires; the two queries the law requires cannot be dropped.
        SettingField("mandatory_checks", CHECK_TYPES, _mandatory_checks, "invalid_mandatory_checks"),
        # Days a check result stays valid when the result carries no expiry, per type. The
        # region's object replaces its parent's whole; types it omits keep the default.
        SettingField("check_validity_days", DEFAULT_VALIDITY_DAYS, _check_validity_days, "invalid_check_validity_days"),
        # Ratings: an item's term satisfaction below this percentage opens a re-review
        # (Guangdong: below 80 % the contract ends).
        SettingField("satisfaction_threshold_percent", 80, _int_range(1, 100), "invalid_satisfaction_threshold"),
    )
}


@dataclass(frozen=True)
class EffectiveSettings:
    """The settings in force for a region. `own` holds what the region itself sets
    (None = inherited); `sources` names, per field, the region whose value applies or
    ``"default"``."""

    region_code: str
    values: Mapping[str, Any]
    own: Mapping[str, Any]
    sources: Mapping[str, str]

    @property
    def notice_days(self) -> int:
        return self.values["notice_days"]

    @property
    def city_review_required(self) -> bool:
        return self.values["city_review_required"]

    @property
    def mandatory_document_types(self) -> tuple[str, ...]:
        return tuple(self.values["mandatory_document_types"])

    @property
    def whitelist_validity_days(self) -> int:
        return self.values["whitelist_validity_days"]

    @property
    def mandatory_checks(self) -> frozenset[str]:
        return frozenset(self.values["mandatory_checks"])

    @property
    def satisfaction_threshold_percent(self) -> int:
        return self.values["satisfaction_threshold_percent"]

    @property
    def check_validity_days(self) -> Mapping[str, int]:
        return {**DEFAULT_VALIDITY_DAYS, **self.values["check_validity_days"]}


def _value(row: RegionSettings | None, name: str) -> Any:
    value = getattr(row, name) if row is not None else None
    if isinstance(value, dict):
        return dict(value)
    return tuple(value) if isinstance(value, list) else value


async def effective_settings(session: AsyncSession, region_code: str) -> EffectiveSettings:
    chain = regions().ancestors(region_code)  # the region, its parent, ..., the province
    rows = (await session.exec(select(RegionSettings).where(col(RegionSettings.region_code).in_(chain)))).all()
    return resolve_settings(region_code, {row.region_code: row for row in rows})


async def effective_settings_many(session: AsyncSession, region_codes: Iterable[str]) -> dict[str, EffectiveSettings]:
    """`effective_settings` of several regions from one read of their chains' rows (a
    school's order list names the people of vendors in many regions)."""
    codes = sorted(set(region_codes))
    chains = {code: regions().ancestors(code) for code in codes}
    wanted = sorted({c for chain in chains.values() for c in chain})
    rows = (await session.exec(select(RegionSettings).where(col(RegionSettings.region_code).in_(wanted)))).all()
    by_region = {row.region_code: row for row in rows}
    return {code: resolve_settings(code, by_region) for code in codes}


def resolve_settings(region_code: str, by_region: Mapping[str, Any]) -> EffectiveSettings:
    """The settings in force in `region_code` from stored rows by region code (pure; the
    rows of the region's chain must be among them — more are ignored). Rows are model
    objects or anything with the same attributes (the lookups' cached rows)."""
    chain = regions().ancestors(region_code)
    values, sources = {}, {}
    for name, spec in FIELDS.items():
        values[name], sources[name] = spec.default, DEFAULT_SOURCE
        for code in chain:
            value = _value(by_region.get(code), name)
            if value is not None:
                values[name], sources[name] = value, code
                break
    own = {name: _value(by_region.get(region_code), name) for name in FIELDS}
    return EffectiveSettings(region_code=region_code, values=values, own=own, sources=sources)


def _require_region(region_code: str) -> RegionInfo:
    region = regions().get(region_code)
    if region is None:
        raise NotFound("行政区划不存在或不在本系统服务范围内", code="region_not_found")
    return region


async def read_settings(db: Database, actor: Actor, region_code: str) -> EffectiveSettings:
    """Any signed-in account may read settings: vendors need the notice length and the
    mandatory documents of the region they apply to."""
    _require_region(region_code)
    async with db.transaction() as session:
        return await effective_settings(session, region_code)


def validate_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    problems = []
    for name, value in changes.items():
        spec = FIELDS.get(name)
        if spec is None:
            problems.append({"field": name, "code": "unknown_setting", "message": "未知的设置项"})
            continue
        message = None if value is None else spec.check(value)
        if message:
            problems.append({"field": name, "code": spec.code, "message": message})
    raise_problems(problems)
    return {name: (list(value) if isinstance(value, (list, tuple)) else value) for name, value in changes.items()}


def _authorise(actor: Actor, region_code: str) -> None:
    if actor.role is Role.ADMIN:
        return
    if actor.role is Role.REVIEWER and actor.covers_region(region_code):
        return
    raise Forbidden("只有系统管理员或本级及上级教育部门审核人员可以修改本地区设置", code="out_of_scope")


async def update_settings(
    db: Database, actor: Actor, region_code: str, changes: Mapping[str, Any]
) -> EffectiveSettings:
    """Set the fields named in `changes` (a value sets it, None clears it so the region
    inherits again); fields not named are left as they are."""
    _require_region(region_code)
    _authorise(actor, region_code)
    changes = validate_changes(changes)
    async with db.transaction() as session:
        await session.exec(
            insert(RegionSettings)
            .values(region_code=region_code, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["region_code"])
        )
        row = (
            await session.exec(
                select(RegionSettings).where(RegionSettings.region_code == region_code).with_for_update()
            )
        ).one()
        before = {name: _value(row, name) for name in FIELDS}
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at, row.updated_by = utcnow(), actor.account_id
        session.add(row)
        await session.flush()
        after = {name: _value(row, name) for name in FIELDS}
        changed = diff(before, after)
        if changed:
            await record_event(
                session,
                actor,
                "region_settings:settings:update",
                "region_settings",
                region_code,
                region_code=region_code,
                changes=changed,
            )
        return await effective_settings(session, region_code)
