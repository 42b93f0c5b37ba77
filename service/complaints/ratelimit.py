"""The public complaint form's rate limit: per client address and per school, in
PostgreSQL so that every worker shares the count (ARCHITECTURE.md, "Scale path").

Fixed one-hour windows keyed by (key, window start), counted in the same transaction
as the complaint: `INSERT … ON CONFLICT DO UPDATE SET n = n + 1 WHERE n + 1 <= limit`,
so a refused submission changes nothing (its transaction rolls back) and two workers
can never both take the last slot (the row lock serialises them). The address is kept
only as a keyed hash (the personal-data index key, domain separated), never in plain.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from service.errors import TooManyRequests
from service.security import Keyring

WINDOW_SECONDS = 3600
DEFAULTS = {"per_address": 5, "per_school": 30}
KEEP = timedelta(days=1)
ADDRESS_DOMAIN = "schoolgate.complaints.address\x00"

_configured = dict(DEFAULTS)

_TAKE = text(
    "INSERT INTO public_rate_windows AS w (key, window_start, n) VALUES (:key, :start, 1) "
    "ON CONFLICT (key, window_start) DO UPDATE SET n = w.n + 1 WHERE w.n + 1 <= :limit RETURNING n"
)
_PURGE = text("DELETE FROM public_rate_windows WHERE window_start < :before")


def configure(*, per_address: int | None = None, per_school: int | None = None) -> dict[str, int]:
    """Set this process's limits (submissions per hour); returns the previous ones."""
    previous = dict(_configured)
    for name, value in (("per_address", per_address), ("per_school", per_school)):
        if value is not None:
            if value < 1:
                raise ValueError(f"{name} must be at least 1")
            _configured[name] = value
    return previous


def limits() -> dict[str, int]:
    return dict(_configured)


def _window(now: datetime) -> tuple[datetime, int]:
    epoch = now.timestamp()
    start = math.floor(epoch / WINDOW_SECONDS) * WINDOW_SECONDS
    return datetime.fromtimestamp(start, UTC), max(1, math.ceil(start + WINDOW_SECONDS - epoch))


def address_key(keyring: Keyring, address: str | None) -> str:
    return "addr:" + keyring.blind_index(ADDRESS_DOMAIN + (address or "unknown"))


async def take(session: AsyncSession, keyring: Keyring, *, address: str | None, school_key: str, now: datetime) -> None:
    """Count one submission from this address to this school, or refuse it (429)."""
    start, retry_after = _window(now)
    # sqlmodel types exec() for select/update/delete only; a text() statement runs the same
    # way (its execute() is deprecated), hence the call-overload ignores below.
    await session.exec(_PURGE.bindparams(before=start - KEEP))  # type: ignore[call-overload]
    for key, name, message in (
        (address_key(keyring, address), "per_address", "同一网络地址提交投诉过于频繁"),
        ("school:" + school_key, "per_school", "该校投诉提交过于频繁"),
    ):
        limit = _configured[name]
        taken = (await session.exec(_TAKE.bindparams(key=key, start=start, limit=limit))).first()  # type: ignore[call-overload]
        if taken is None:
            raise TooManyRequests(
                f"{message}：每小时最多 {limit} 件，请 {retry_after} 秒后再试",
                code="rate_limited",
                headers={"Retry-After": str(retry_after)},
                details=[
                    {
                        "field": None,
                        "code": "rate_limited",
                        "message": message,
                        "limit": name,
                        "limit_per_hour": limit,
                        "retry_after_seconds": retry_after,
                    }
                ],
            )
