"""Time in one place: aware UTC instants everywhere, China Standard Time for display."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")
# A document or check within this of its last valid day is shown as expiring.
EXPIRING_WITHIN = timedelta(days=30)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def today_in_china(now: datetime | None = None) -> date:
    """Validity dates on certificates are calendar dates in China."""
    return (now or utcnow()).astimezone(CHINA_TZ).date()
