"""What a reviewer may do to whitelist entries, and the checks on a request to do it
before any row is read: the actions, the statuses each applies to, the input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from service.errors import problem, raise_problems
from service.reason import clean_reason
from service.regions import regions
from service.timeutil import today_in_china
from service.whitelist.status import ACTIVE, REVOKED, SUSPENDED

ACTIONS = ("suspend", "reinstate", "revoke", "renew")
#: The actions a second reviewer must confirm (four eyes); the others apply at once.
CONFIRMED = ("revoke", "reinstate")
REASON_LIMIT = 2000
#: Derived status (now) an entry must have for each action.
ELIGIBLE = {
    "suspend": frozenset({ACTIVE, "expired"}),
    "renew": frozenset({ACTIVE, SUSPENDED, "expired"}),
    "revoke": frozenset({ACTIVE, SUSPENDED, "expired"}),
    "reinstate": frozenset({SUSPENDED, REVOKED}),
}
TARGET_STATUS = {"suspend": SUSPENDED, "renew": None, "revoke": REVOKED, "reinstate": ACTIVE}


@dataclass(frozen=True)
class ActionInput:
    action: str
    reason: str | None
    entry_ids: list[UUID] | None = None
    vendor_id: UUID | None = None
    region_code: str | None = None
    until: datetime | None = None  # suspend: ends by itself at this instant
    ban_until: date | None = None  # revoke: no new application in the region before this China date
    valid_until: datetime | None = None  # renew: new validity end (default: the region's validity from now)


@dataclass(frozen=True)
class CheckedAction(ActionInput):
    """An input that passed `validate_action`: its reason cleaned, and given."""

    reason: str


def validate_action(data: ActionInput, now: datetime) -> CheckedAction:
    """Every problem of the input at once (422), or the input with its reason cleaned."""
    problems: list[dict] = []
    if data.action not in ACTIONS:
        problems.append(problem("action", "unknown_action", "操作须为 suspend、reinstate、revoke 或 renew"))
    reason = clean_reason(data.reason, required=True, limit=REASON_LIMIT, problems=problems)
    problems += _target_problems(data) + _timing_problems(data, now)
    raise_problems(problems)
    return CheckedAction(
        data.action,
        reason or "",  # never empty here: a missing reason is one of the problems raised above
        data.entry_ids,
        data.vendor_id,
        data.region_code,
        data.until,
        data.ban_until,
        data.valid_until,
    )


def _target_problems(data: ActionInput) -> list[dict]:
    """The entries named one by one, or a vendor's (optionally within a region)."""
    problems: list[dict] = []
    if data.entry_ids is not None and data.vendor_id is not None:
        problems.append(problem("entry_ids", "ambiguous_target", "entry_ids 与 vendor_id 只能提供其一"))
    elif data.entry_ids is None and data.vendor_id is None:
        problems.append(problem("entry_ids", "target_required", "请提供 entry_ids（指定条目）或 vendor_id（整个机构）"))
    elif data.entry_ids is not None:
        if not data.entry_ids:
            problems.append(problem("entry_ids", "target_required", "至少指定一个白名单条目"))
        elif len(set(data.entry_ids)) != len(data.entry_ids):
            problems.append(problem("entry_ids", "duplicate_entry", "白名单条目重复"))
        if data.region_code is not None:
            problems.append(problem("region_code", "field_not_allowed", "region_code 只能与 vendor_id 一起使用"))
    if data.region_code is not None and data.region_code not in regions():
        problems.append(problem("region_code", "unknown_region", "行政区划代码不存在或不在本系统服务范围内"))
    return problems


def _timing_problems(data: ActionInput, now: datetime) -> list[dict]:
    """The instants and dates that only some actions take, each in the future."""
    problems: list[dict] = []
    if data.until is not None:
        if data.action != "suspend":
            problems.append(problem("until", "field_not_allowed", "只有暂停可以指定结束时间"))
        elif data.until.tzinfo is None or data.until <= now:
            problems.append(problem("until", "invalid_until", "暂停结束时间须为带时区的将来时刻"))
    if data.ban_until is not None and data.action != "revoke":
        problems.append(problem("ban_until", "field_not_allowed", "只有撤销可以指定禁止再次申请的日期"))
    if data.action == "revoke":
        if data.ban_until is None:
            problems.append(problem("ban_until", "ban_until_required", "撤销须指定禁止再次申请的截止日期"))
        elif data.ban_until <= today_in_china(now):
            problems.append(problem("ban_until", "invalid_ban_until", "禁止再次申请的截止日期须晚于今天"))
    if data.valid_until is not None:
        if data.action != "renew":
            problems.append(problem("valid_until", "field_not_allowed", "只有续期可以指定新的有效期"))
        elif data.valid_until.tzinfo is None or data.valid_until <= now:
            problems.append(problem("valid_until", "invalid_valid_until", "新的有效期截止时间须为带时区的将来时刻"))
    return problems
