"""Browser sessions: who a session cookie belongs to, and ending one.

A session is a random value in a cookie; only its SHA-256 is stored, so revoking the
row signs the browser out in every worker at once and a restart keeps it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from service.accounts.models import Account, ConsoleSession
from service.audit import record_event
from service.db import Database
from service.security import Actor, Role
from service.timeutil import utcnow


@dataclass(frozen=True)
class SessionUser:
    """Who a browser session belongs to: the actor for the services, and what every
    page shows in its header."""

    actor: Actor
    session_id: UUID
    name: str
    login: str
    must_change_password: bool
    school_name: str | None
    school_code: str | None = None


def hash_value(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def actor_of(account: Account) -> Actor:
    return Actor(
        account_id=account.id,
        role=Role(account.role),
        region_code=account.region_code,
        school_id=account.school_id,
        vendor_credit_code=account.vendor_credit_code,
    )


SESSION_USER = """
SELECT a.id, a.role, a.region_code, a.school_id, a.vendor_credit_code, a.name, a.login,
       a.must_change_password, s.name, cs.id, s.code
  FROM console_sessions cs
  JOIN accounts a ON a.id = cs.account_id
  LEFT JOIN schools s ON s.id = a.school_id
 WHERE cs.token_hash = $1 AND cs.revoked_at IS NULL AND cs.expires_at > now() AND a.disabled_at IS NULL
"""


async def session_user(db: Database, token: str | None) -> SessionUser | None:
    """The user behind a session cookie, or None (unknown, ended, expired, disabled)."""
    if not token or len(token) > 100:
        return None
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        row = await conn.fetchrow(SESSION_USER, hash_value(token))
    if row is None:
        return None
    actor = Actor(account_id=row[0], role=Role(row[1]), region_code=row[2], school_id=row[3], vendor_credit_code=row[4])
    return SessionUser(
        actor=actor,
        name=row[5],
        login=row[6],
        must_change_password=row[7],
        school_name=row[8],
        session_id=row[9],
        school_code=row[10],
    )


async def end_sessions(session: AsyncSession, account_id: UUID, keep: UUID | None = None) -> int:
    """Revoke every open session of an account (but `keep`); how many ended."""
    query = (
        update(ConsoleSession)
        .where(col(ConsoleSession.account_id) == account_id, col(ConsoleSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    if keep is not None:
        query = query.where(col(ConsoleSession.id) != keep)
    return (await session.exec(query)).rowcount


async def sign_out(db: Database, token: str | None) -> None:
    if not token:
        return
    async with db.transaction() as session:
        stored = (
            await session.exec(
                select(ConsoleSession).where(
                    ConsoleSession.token_hash == hash_value(token), col(ConsoleSession.revoked_at).is_(None)
                )
            )
        ).first()
        if stored is None:
            return
        stored.revoked_at = utcnow()
        session.add(stored)
        account = await session.get(Account, stored.account_id)
        if account is None:  # the session row's foreign key keeps its account
            raise LookupError("a console session without its account")
        await record_event(
            session,
            actor_of(account),
            "accounts:session:end",
            "console_session",
            stored.id,
            region_code=account.region_code,
        )
