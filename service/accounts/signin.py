"""Console sign-in: passwords (argon2id), browser sessions in PostgreSQL, throttling.

A session is a random value in a cookie; only its SHA-256 is stored, so revoking the
row signs the browser out in every worker at once and a restart keeps it. Failed
sign-ins are counted per login name and per client address, both as keyed hashes
(nothing personal is stored or logged): past `slow_after` failures each further
failure answers later, past the limit the key is locked for a while.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import text
from sqlmodel import select, update

from service.accounts.models import Account, ApiToken, ConsoleSession
from service.audit import record_event
from service.db import Database
from service.errors import Forbidden, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from service.security import Actor, Role
from service.timeutil import utcnow

HASHER = PasswordHasher()  # argon2id with the library's current recommended cost
# Verified when the login name is unknown, so both answers take the same time.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
LOGIN_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
PASSWORD_MIN, PASSWORD_MAX = 10, 128
SIGN_IN_FAILED = "登录名或密码错误"


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


@dataclass(frozen=True)
class SignedIn:
    token: str
    must_change_password: bool


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


class AccountLocked(TooManyRequests):
    code = "sign_in_locked"
    message = "登录失败次数过多，请稍后再试"


def hash_value(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def validate_login(login: str | None) -> str:
    login = (login or "").strip()
    if not LOGIN_PATTERN.match(login):
        raise InvalidInput.field(
            "login", "invalid_login", "登录名为 3–64 位字母、数字、点、下划线或连字符，以字母或数字开头"
        )
    return login


def validate_password(password: str | None, login: str | None = None) -> str:
    password = password or ""
    if len(password) < PASSWORD_MIN or len(password) > PASSWORD_MAX:
        raise InvalidInput.field("password", "weak_password", f"密码长度须为 {PASSWORD_MIN}–{PASSWORD_MAX} 个字符")
    if login and password.lower() == login.lower():
        raise InvalidInput.field("password", "weak_password", "密码不能与登录名相同")
    if len(set(password)) < 4:
        raise InvalidInput.field("password", "weak_password", "密码过于简单，请混合使用不同字符")
    return password


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def _verify(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


# ------------------------------------------------------------------ passwords


async def _account_by_login(session, login: str, *, lock: bool = False) -> Account | None:
    query = select(Account).where(Account.login == login)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def set_password(db: Database, actor: Actor, login: str, password: str, *, must_change: bool) -> Account:
    """Set an account's password (the command line, or an admin's reset). A reset
    password must be changed at the next sign-in; every open session ends."""
    if not actor.is_admin:
        raise Forbidden("只有管理员可以重置密码", code="admin_only")
    login = validate_login(login)
    password = validate_password(password, login)
    password_hash = await hash_password(password)
    async with db.transaction() as session:
        account = await _account_by_login(session, login, lock=True)
        if account is None:
            raise NotFound("账号不存在", code="account_not_found")
        await _store_password(session, account, password_hash, must_change)
        ended = await _end_sessions(session, account.id)
        await record_event(
            session,
            actor,
            "accounts:password:reset",
            "account",
            account.id,
            changes={
                "must_change_password": {"before": None, "after": must_change},
                "sessions_ended": {"before": None, "after": ended},
            },
        )
    return account


async def change_own_password(db: Database, user: SessionUser, current: str, new: str) -> None:
    """The signed-in user replaces their password (required after a reset). Other
    sessions of the account end; this one stays."""
    new = validate_password(new, user.login)
    if new == current:
        raise InvalidInput.field("new_password", "password_unchanged", "新密码不能与当前密码相同")
    async with db.transaction() as session:
        account = await session.get(Account, user.actor.account_id, with_for_update=True)
        if account is None or not await _verify(account.password_hash, current):
            raise InvalidInput.field("current_password", "wrong_password", "当前密码不正确")
        await _store_password(session, account, await hash_password(new), False)
        await _end_sessions(session, account.id, keep=user.session_id)
        await record_event(
            session,
            user.actor,
            "accounts:password:change",
            "account",
            account.id,
            changes={"must_change_password": {"before": account.must_change_password, "after": False}},
        )


async def _store_password(session, account: Account, password_hash: str, must_change: bool) -> None:
    account.password_hash = password_hash
    account.must_change_password = must_change
    account.password_changed_at = utcnow()
    session.add(account)


async def _end_sessions(session, account_id: UUID, keep: UUID | None = None) -> int:
    query = (
        update(ConsoleSession)
        .where(ConsoleSession.account_id == account_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if keep is not None:
        query = query.where(ConsoleSession.id != keep)
    return (await session.exec(query)).rowcount


async def set_disabled(db: Database, actor: Actor, account_id: UUID, disabled: bool) -> Account:
    """Disable (or enable again) an account. Disabling ends its sessions and revokes
    its API tokens, so it is refused everywhere at once."""
    if not actor.is_admin:
        raise Forbidden("只有管理员可以停用账号", code="admin_only")
    if disabled and account_id == actor.account_id:
        raise InvalidInput.field("account", "cannot_disable_self", "不能停用自己的账号")
    async with db.transaction() as session:
        account = await session.get(Account, account_id, with_for_update=True)
        if account is None:
            raise NotFound("账号不存在", code="account_not_found")
        before = account.disabled_at is not None
        account.disabled_at = utcnow() if disabled else None
        session.add(account)
        changes = {"disabled": {"before": before, "after": disabled}}
        if disabled:
            changes["sessions_ended"] = {"before": None, "after": await _end_sessions(session, account.id)}
            await session.exec(
                update(ApiToken)
                .where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        await record_event(
            session,
            actor,
            "accounts:account:" + ("disable" if disabled else "enable"),
            "account",
            account.id,
            region_code=account.region_code,
            changes=changes,
        )
    return account


async def assign_login(db: Database, actor: Actor, account_id: UUID, login: str) -> None:
    """Give an existing account (made before console sign-in, or by token only) a login name."""
    if not actor.is_admin:
        raise Forbidden("只有管理员可以设置登录名", code="admin_only")
    login = validate_login(login)
    async with db.transaction() as session:
        account = await session.get(Account, account_id, with_for_update=True)
        if account is None:
            raise NotFound("账号不存在", code="account_not_found")
        taken = await _account_by_login(session, login)
        if taken is not None and taken.id != account.id:
            raise InvalidInput.field("login", "login_taken", "该登录名已被使用")
        before, account.login = account.login, login
        session.add(account)
        await record_event(
            session,
            actor,
            "accounts:login:set",
            "account",
            account.id,
            changes={"login": {"before": before, "after": login}},
        )


async def account_id_by_login(db: Database, login: str) -> UUID:
    async with db.transaction() as session:
        account = await _account_by_login(session, (login or "").strip())
    if account is None:
        raise NotFound("账号不存在", code="account_not_found")
    return account.id


async def list_accounts(db: Database, actor: Actor) -> list[Account]:
    if not actor.is_admin:
        raise Forbidden("只有管理员可以管理账号", code="admin_only")
    async with db.transaction() as session:
        return list((await session.exec(select(Account).order_by(Account.role, Account.name))).all())


# -------------------------------------------------------------- throttling


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

    async def locked_until(self, session, keys: dict[str, int], now: datetime) -> datetime | None:
        rows = (
            await session.exec(
                text(
                    "SELECT max(locked_until) FROM sign_in_throttle WHERE key = ANY(:keys) AND locked_until > :now"
                ).bindparams(keys=list(keys), now=now)
            )
        ).scalar()
        return rows

    async def fail(self, session, keys: dict[str, int], now: datetime) -> tuple[int, datetime | None]:
        """Count one failure on every key; the most failures counted, and the lock
        it caused (if any)."""
        worst, locked = 0, None
        window_start = now - self.policy.window
        for key, limit in keys.items():
            row = (
                await session.exec(
                    text("""
                INSERT INTO sign_in_throttle AS t (key, failures, window_started_at)
                VALUES (:key, 1, :now)
                ON CONFLICT (key) DO UPDATE SET
                  failures = CASE WHEN t.window_started_at < :window_start THEN 1 ELSE t.failures + 1 END,
                  window_started_at = CASE WHEN t.window_started_at < :window_start THEN :now
                                           ELSE t.window_started_at END
                RETURNING failures""").bindparams(key=key, now=now, window_start=window_start)
                )
            ).one()
            failures = row[0]
            if key.startswith("login:"):
                worst = max(worst, failures)
            if failures >= limit:
                locked = now + self.policy.lock_for
                await session.exec(
                    text(
                        "UPDATE sign_in_throttle SET locked_until = :until, failures = 0, window_started_at = :now "
                        "WHERE key = :key"
                    ).bindparams(until=locked, now=now, key=key)
                )
        return worst, locked

    async def succeed(self, session, login_key: str) -> None:
        await session.exec(text("DELETE FROM sign_in_throttle WHERE key = :key").bindparams(key=login_key))

    def delay_for(self, failures: int) -> float:
        if failures <= self.policy.slow_after:
            return 0.0
        return min(self.policy.max_delay, self.policy.delay_seconds * 2 ** (failures - self.policy.slow_after - 1))


def _locked_error(until: datetime, now: datetime) -> AccountLocked:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return AccountLocked(
        f"登录失败次数过多，已暂时锁定，请 {minutes} 分钟后再试", headers={"Retry-After": str(minutes * 60)}
    )


# ---------------------------------------------------------------- sessions


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
        raise _locked_error(until, now)
    async with db.transaction() as session:
        account = await _account_by_login(session, login)
    usable = account is not None and account.disabled_at is None
    if not await _verify(account.password_hash if usable else None, password):
        async with db.transaction() as session:
            failures, locked = await throttle.fail(session, keys, now)
        if locked is not None:
            raise _locked_error(locked, now)
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
            _actor_of(account),
            "accounts:session:create",
            "console_session",
            stored.id,
            region_code=account.region_code,
        )
    return SignedIn(token=token, must_change_password=account.must_change_password)


def _actor_of(account: Account) -> Actor:
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


async def sign_out(db: Database, token: str | None) -> None:
    if not token:
        return
    async with db.transaction() as session:
        stored = (
            await session.exec(
                select(ConsoleSession).where(
                    ConsoleSession.token_hash == hash_value(token), ConsoleSession.revoked_at.is_(None)
                )
            )
        ).first()
        if stored is None:
            return
        stored.revoked_at = utcnow()
        session.add(stored)
        account = await session.get(Account, stored.account_id)
        await record_event(
            session,
            _actor_of(account),
            "accounts:session:end",
            "console_session",
            stored.id,
            region_code=account.region_code,
        )
