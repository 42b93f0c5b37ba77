"""Console sign-in: a login name and a password open a browser session.

Failed sign-ins are counted by the throttle (keyed hashes, nothing personal stored or
logged); a locked name or address is refused before the password is looked at.
Passwords live in passwords.py, sessions in sessions.py, account upkeep in
account_admin.py.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime

from service.accounts.account_admin import account_by_login
from service.accounts.models import ConsoleSession
from service.accounts.passwords import verify_password
from service.accounts.sessions import actor_of, hash_value
from service.accounts.throttle import Throttle, locked_error
from service.audit import record_event
from service.db import Database
from service.errors import InvalidInput, Unauthenticated
from service.timeutil import utcnow

SIGN_IN_FAILED = "登录名或密码错误"


@dataclass(frozen=True)
class SignedIn:
    token: str
    must_change_password: bool


async def sign_in(
    db: Database,
    throttle: Throttle,
    login: str | None,
    password: str | None,
    address: str | None,
    now: datetime | None = None,
) -> SignedIn:
    """Check a login name and password; open a session. Refusals never say whether
    the login name exists. A locked name or address is refused before the password is
    looked at."""
    now = now or utcnow()
    login, password = (login or "").strip(), password or ""
    if not login or not password:
        raise InvalidInput.field("login" if not login else "password", "required", "请输入登录名和密码")
    keys = throttle.keys(login, address)
    async with db.transaction() as session:
        until = await throttle.locked_until(session, keys, now)
    if until is not None:
        raise locked_error(until, now)
    async with db.transaction() as session:
        account = await account_by_login(session, login)
    # Checked even for an unknown or disabled name (against a dummy hash): same time.
    usable_hash = account.password_hash if account is not None and account.disabled_at is None else None
    verified = await verify_password(usable_hash, password)
    if account is None or not verified:
        async with db.transaction() as session:
            failures, locked = await throttle.fail(session, keys, now)
        if locked is not None:
            raise locked_error(locked, now)
        await asyncio.sleep(throttle.delay_for(failures))
        raise Unauthenticated(SIGN_IN_FAILED, code="sign_in_failed")
    token = secrets.token_urlsafe(32)
    async with db.transaction() as session:
        await throttle.succeed(session, next(iter(keys)))
        stored = ConsoleSession(
            account_id=account.id,
            token_hash=hash_value(token),
            expires_at=now + throttle.policy.session_lifetime,
            created_at=now,
        )
        session.add(stored)
        await session.flush()
        await record_event(
            session,
            actor_of(account),
            "accounts:session:create",
            "console_session",
            stored.id,
            region_code=account.region_code,
        )
    return SignedIn(token=token, must_change_password=account.must_change_password)
