"""Sign-in throttling: failures counted per keyed hash of a login name and of a client
address, in PostgreSQL so every worker sees the same counts. Past `slow_after` failures
each further failure answers later; past the limit the key is locked for a while."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import run_sql
from service.errors import TooManyRequests


@dataclass(frozen=True)
class SignInPolicy:
    account_limit: int = 5  # failures per login name within the window before it locks
    address_limit: int = 20  # failures per client address (many names from one place)
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)
    slow_after: int = 2  # failures before answers slow down
    delay_seconds: float = 0.5  # doubled per further failure, capped at max_delay
    max_delay: float = 4.0
    session_lifetime: timedelta = timedelta(hours=10)


class AccountLocked(TooManyRequests):
    code = "sign_in_locked"
    message = "登录失败次数过多，请稍后再试"


_COUNT_FAILURE = text("""
    INSERT INTO sign_in_throttle AS t (key, failures, window_started_at)
    VALUES (:key, 1, :now)
    ON CONFLICT (key) DO UPDATE SET
      failures = CASE WHEN t.window_started_at < :window_start THEN 1 ELSE t.failures + 1 END,
      window_started_at = CASE WHEN t.window_started_at < :window_start THEN :now
                               ELSE t.window_started_at END
    RETURNING failures""")


class Throttle:
    """Failure counts per keyed hash, in PostgreSQL so every worker sees the same."""

    def __init__(self, secret: bytes, policy: SignInPolicy) -> None:
        self.secret, self.policy = secret, policy

    def keys(self, login: str, address: str | None) -> dict[str, int]:
        """Throttle key → its failure limit."""

        def keyed(kind: str, value: str) -> str:
            return kind + ":" + hmac.new(self.secret, value.encode(), hashlib.sha256).hexdigest()[:64]

        found = {keyed("login", login.strip().lower()): self.policy.account_limit}
        if address:
            found[keyed("addr", address)] = self.policy.address_limit
        return found

    async def locked_until(self, session: AsyncSession, keys: dict[str, int], now: datetime) -> datetime | None:
        result = await run_sql(
            session,
            text(
                "SELECT max(locked_until) FROM sign_in_throttle WHERE key = ANY(:keys) AND locked_until > :now"
            ).bindparams(keys=list(keys), now=now),
        )
        until: datetime | None = result.scalar()
        return until

    async def fail(self, session: AsyncSession, keys: dict[str, int], now: datetime) -> tuple[int, datetime | None]:
        """Count one failure on every key; the most failures counted, and the lock
        it caused (if any)."""
        worst, locked = 0, None
        window_start = now - self.policy.window
        for key, limit in keys.items():
            counted = _COUNT_FAILURE.bindparams(key=key, now=now, window_start=window_start)
            failures: int = (await run_sql(session, counted)).one()[0]
            if key.startswith("login:"):
                worst = max(worst, failures)
            if failures >= limit:
                locked = now + self.policy.lock_for
                await run_sql(
                    session,
                    text(
                        "UPDATE sign_in_throttle SET locked_until = :until, failures = 0, window_started_at = :now "
                        "WHERE key = :key"
                    ).bindparams(until=locked, now=now, key=key),
                )
        return worst, locked

    async def succeed(self, session: AsyncSession, login_key: str) -> None:
        await run_sql(session, text("DELETE FROM sign_in_throttle WHERE key = :key").bindparams(key=login_key))

    def delay_for(self, failures: int) -> float:
        if failures <= self.policy.slow_after:
            return 0.0
        return min(self.policy.max_delay, self.policy.delay_seconds * 2 ** (failures - self.policy.slow_after - 1))


def locked_error(until: datetime, now: datetime) -> AccountLocked:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return AccountLocked(
        f"登录失败次数过多，已暂时锁定，请 {minutes} 分钟后再试", headers={"Retry-After": str(minutes * 60)}
    )
