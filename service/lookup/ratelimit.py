"""Per-account lookup rate limit, shared by every worker through PostgreSQL.

Fixed 60-second windows keyed by (account, window start). The receipt writer's
function (`lookup_store_receipts`, migration 0011) counts and decides in one
statement, in the same transaction as the receipt:

    INSERT ... VALUES (account, window, n) ON CONFLICT DO UPDATE SET n = w.n + n
    WHERE w.n + n <= limit RETURNING n

so a request that would pass the limit changes nothing (a refused batch of 500 does
not eat the quota of smaller requests) and two workers can never both take the last
slot (the row lock serialises them). The key is the account id from the bearer token
and nothing else the client sends: a forged `X-Forwarded-For` changes nothing. The
window start comes from this process's clock (UTC, whole minutes since the epoch); old
windows are purged by the lifespan job (`purge_windows`).

This module holds the limit, the window arithmetic, the refusal and the purge.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

from service.db import Database
from service.errors import TooManyRequests

WINDOW_SECONDS = 60
DEFAULT_PER_MINUTE = 600
KEEP_WINDOWS = timedelta(minutes=5)

_configured = {"per_minute": DEFAULT_PER_MINUTE}


def configure(per_minute: int) -> None:
    """Set this process's limit (create_app does it from SCHOOLGATE_LOOKUP_RATE_PER_MINUTE)."""
    if per_minute < 1:
        raise ValueError("the lookup rate limit must be at least 1 per minute")
    _configured["per_minute"] = per_minute


def per_minute() -> int:
    return _configured["per_minute"]


def window(now: float | None = None) -> tuple[datetime, int]:
    """The current window's start and the whole seconds until it ends (≥ 1)."""
    now = time.time() if now is None else now
    start = math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS
    return datetime.fromtimestamp(start, UTC), max(1, math.ceil(start + WINDOW_SECONDS - now))


def refusal(retry_after: int, limit: int) -> TooManyRequests:
    return TooManyRequests(
        f"查询过于频繁：每分钟最多 {limit} 次（批量查询按条计），请 {retry_after} 秒后再试",
        code="rate_limited",
        headers={"Retry-After": str(retry_after)},
        details=[
            {
                "field": None,
                "code": "rate_limited",
                "message": "超过每分钟查询次数上限",
                "limit_per_minute": limit,
                "retry_after_seconds": retry_after,
            }
        ],
    )


async def purge_windows(db: Database, now: float | None = None) -> int:
    """Forget windows that ended more than a few minutes ago."""
    start, _ = window(now)
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        status = await conn.execute("DELETE FROM lookup_rate_windows WHERE window_start < $1", start - KEEP_WINDOWS)
    return int(status.split()[-1])
