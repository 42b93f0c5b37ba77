"""Services the notice says are free (§3(2)): "学生弹性上学、在校午休等纳入学校日常教育教学
管理的服务，不得向家长收取任何费用". An item offering one of them can carry no fee; the
service-item catalogue is the one place a fee is set (orders copy the entry's fee and
timetable sessions carry none), so the rule is checked there."""

from __future__ import annotations

import re

#: The free services and the spellings that name them (whitespace ignored).
FREE_SERVICES: dict[str, tuple[str, ...]] = {
    "弹性上学": ("弹性上学", "弹性到校", "弹性入校"),
    "在校午休": ("在校午休", "午休", "午间休息", "午睡"),
}

_SPACE = re.compile(r"\s+")


def free_service_named(activity: str) -> str | None:
    """The free service an item's activity names, or None."""
    compact = _SPACE.sub("", activity or "")
    for service, spellings in FREE_SERVICES.items():
        if any(s in compact for s in spellings):
            return service
    return None
