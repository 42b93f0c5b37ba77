"""Looking after console accounts: passwords (set by an admin, changed by their owner),
login names, disabling, listing. Every change is audited in its own transaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from service.accounts.models import Account, ApiToken
from service.accounts.passwords import hash_password, validate_login, validate_password, verify_password
from service.accounts.sessions import SessionUser, end_sessions
from service.audit import record_event
from service.db import Database
from service.errors import Forbidden, InvalidInput, NotFound
from service.security import Actor
from service.timeutil import utcnow


async def account_by_login(session: AsyncSession, login: str, *, lock: bool = False) -> Account | None:
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
        account = await account_by_login(session, login, lock=True)
        if account is None:
            raise NotFound("账号不存在", code="account_not_found")
        _store_password(session, account, password_hash, must_change)
        ended = await end_sessions(session, account.id)
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
        if account is None or not await verify_password(account.password_hash, current):
            raise InvalidInput.field("current_password", "wrong_password", "当前密码不正确")
        had_to_change = account.must_change_password
        _store_password(session, account, await hash_password(new), False)
        await end_sessions(session, account.id, keep=user.session_id)
        await record_event(
            session,
            user.actor,
            "accounts:password:change",
            "account",
            account.id,
            changes={"must_change_password": {"before": had_to_change, "after": False}},
        )


def _store_password(session: AsyncSession, account: Account, password_hash: str, must_change: bool) -> None:
    account.password_hash = password_hash
    account.must_change_password = must_change
    account.password_changed_at = utcnow()
    session.add(account)


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
        changes: dict[str, dict[str, Any]] = {"disabled": {"before": before, "after": disabled}}
        if disabled:
            changes["sessions_ended"] = {"before": None, "after": await end_sessions(session, account.id)}
            await session.exec(
                update(ApiToken)
                .where(col(ApiToken.account_id) == account.id, col(ApiToken.revoked_at).is_(None))
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
        taken = await account_by_login(session, login)
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
        account = await account_by_login(session, (login or "").strip())
    if account is None:
        raise NotFound("账号不存在", code="account_not_found")
    return account.id


async def list_accounts(db: Database, actor: Actor) -> list[Account]:
    if not actor.is_admin:
        raise Forbidden("只有管理员可以管理账号", code="admin_only")
    async with db.transaction() as session:
        return list((await session.exec(select(Account).order_by(col(Account.role), col(Account.name)))).all())
