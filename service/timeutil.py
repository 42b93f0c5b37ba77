"""Time in one place: aware UTC instants everywhere, China Standard Time for display."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")
# A document or check within this of its last valid day is shown as expiring.
EXPIRING_WITHIN = timedelta(days=30)


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_in_china(now: datetime | None = None) -> date:
    """Validity dates on certificates are calendar dates in China."""
    return (now or utcnow()).astimezone(CHINA_TZ).date()


_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(:([0-5][0-9]))?")


def parse_clock(value: str | time | None) -> time | None:
    """A wall-clock time as people write it ("15:40", or "15:40:00"), or None if it is not one."""
    if isinstance(value, time):
        return value
    match = _CLOCK.fullmatch(value or "")
    return time(int(match[1]), int(match[2]), int(match[4] or 0)) if match else None
