"""An order's standing, derived when read from the whitelist and the named people (pure).

  `blocked`  — the item is not active on the whitelist of the school's region
               (suspended, revoked, expired, not listed), or a named person may not
               enter schools for the vendor now;
  `at_risk`  — otherwise, when the entry's validity, the vendor's mandatory documents or
               a named person's clearance ends within 30 days;
  `in_force` — otherwise.

An order no longer open (declined, cancelled) is `closed`. Each reason names its cause
in words: what, whom (a masked name) and until when, never the content of a check.
Nothing is stored, so a revocation or the end of a clearance shows on the next read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from service.personnel import EntryClearance
from service.timeutil import CHINA_TZ, EXPIRING_WITHIN, today_in_china
from service.whitelist import ItemOnWhitelist

IN_FORCE, AT_RISK, BLOCKED, CLOSED = "in_force", "at_risk", "blocked", "closed"

ITEM_BLOCKS = {
    "suspended": "该服务项目在本地区白名单中已被暂停",
    "revoked": "该服务项目已被移出本地区白名单",
    "expired": "该服务项目的白名单有效期已届满或机构资质材料已过期",
    "not_listed": "该服务项目未列入本地区白名单",
}


@dataclass(frozen=True)
class Standing:
    standing: str
    reasons: list[dict] = field(default_factory=list)


def _reason(code: str, message: str, **extra) -> dict:
    return {"code": code, "message": message} | {k: v for k, v in extra.items() if v is not None}


def _last_day(instant: datetime) -> date:
    """The last China day before an end instant (entries end at an instant)."""
    return (instant.astimezone(CHINA_TZ) - timedelta(microseconds=1)).date()


def standing(open_order: bool, item: ItemOnWhitelist, people: Iterable[EntryClearance], now: datetime) -> Standing:
    if not open_order:
        return Standing(CLOSED)
    people = list(people)
    blocks = []
    if item.status != "active":
        blocks.append(_reason(f"item_{item.status}", ITEM_BLOCKS[item.status]))
    for person in people:
        if not person.cleared:
            blocks.append(
                _reason(
                    "person_not_cleared",
                    f"授课人员 {person.masked_name} 目前不符合入校条件",
                    person_id=str(person.person_id),
                )
            )
    if blocks:
        return Standing(BLOCKED, blocks)
    horizon = today_in_china(now) + EXPIRING_WITHIN
    risks = []
    if item.entry_valid_until is not None and _last_day(item.entry_valid_until) <= horizon:
        day = _last_day(item.entry_valid_until)
        risks.append(_reason("entry_ending", f"该服务项目的白名单有效期至 {day.isoformat()}", until=day.isoformat()))
    if item.documents_until is not None and item.documents_until <= horizon:
        day = item.documents_until
        risks.append(_reason("documents_ending", f"机构资质材料有效期至 {day.isoformat()}", until=day.isoformat()))
    for person in people:
        if person.cleared_until is not None and person.cleared_until <= horizon:
            last = person.cleared_until.isoformat()
            risks.append(
                _reason(
                    "clearance_ending",
                    f"授课人员 {person.masked_name} 的入校核验有效期至 {last}",
                    person_id=str(person.person_id),
                    until=last,
                )
            )
    return Standing(AT_RISK, risks) if risks else Standing(IN_FORCE)
