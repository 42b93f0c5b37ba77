"""Accounts and tokens. A token is random, shown once, stored only as its SHA-256."""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import time
from dataclasses import dataclass
from uuid import UUID

from sqlmodel import col, select

from service.accounts.models import Account, ApiToken
from service.accounts.passwords import hash_password, validate_login, validate_password
from service.audit import record_event
from service.db import Database
from service.errors import InvalidInput, NotFound
from service.identifiers import InvalidIdentifier, validate_credit_code
from service.regions import regions
from service.schools import School
from service.security import Actor, Role
from service.timeutil import utcnow

TOKEN_PREFIX = "sg_"
SCHOOL_CODE = re.compile(r"^\d{10}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewAccount:
    account: Account
    token: str


def _require_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput.field(
            "role", "unknown_role", "角色必须是 vendor、school、reviewer、auditor 或 admin 之一"
        ) from None


async def create_account(
    db: Database,
    actor: Actor,
    *,
    role: str,
    name: str,
    region_code: str | None = None,
    school_code: str | None = None,
    school_name: str | None = None,
    vendor_credit_code: str | None = None,
    login: str | None = None,
    password: str | None = None,
) -> NewAccount:
    """Create an account bound to its scope and issue its first token.

    A school account names its 10-digit school code and region; the school is created
    when it is not yet known, so bureaus can onboard schools from the command line.
    With `login`, the account can sign in to the console; an initial `password` given
    here must be changed at the first sign-in.
    """
    login = validate_login(login) if login is not None else None
    password_hash = None
    if password is not None:
        if login is None:
            raise InvalidInput.field("password", "login_required", "设置密码前须指定登录名")
        password_hash = await hash_password(validate_password(password, login))
    role_value = _require_role(role)
    name = (name or "").strip()
    if not name:
        raise InvalidInput.field("name", "required", "名称不能为空")
    scope = _scope_for(role_value, region_code, school_code, vendor_credit_code)
    async with db.transaction() as session:
        school_id = None
        if role_value is Role.SCHOOL:
            school_id = await _ensure_school(session, actor, school_code, school_name or name, scope["region_code"])
        if login is not None and (await session.exec(select(Account.id).where(Account.login == login))).first():
            raise InvalidInput.field("login", "login_taken", "该登录名已被使用")
        account = Account(
            name=name,
            role=role_value.value,
            school_id=school_id,
            login=login,
            password_hash=password_hash,
            must_change_password=password_hash is not None,
            **scope,
        )
        session.add(account)
        await session.flush()
        token = new_token()
        session.add(ApiToken(account_id=account.id, token_hash=hash_token(token)))
        await record_event(
            session,
            actor,
            "accounts:account:create",
            "account",
            account.id,
            region_code=account.region_code,
            changes={
                "role": {"before": None, "after": account.role},
                "region_code": {"before": None, "after": account.region_code},
            },
        )
    return NewAccount(account=account, token=token)


def _scope_for(role: Role, region_code: str | None, school_code: str | None, credit_code: str | None) -> dict:
    if role is Role.VENDOR:
        if not credit_code:
            raise InvalidInput.field("vendor", "required", "机构账号必须绑定统一社会信用代码")
        try:
            return {"vendor_credit_code": validate_credit_code(credit_code).code, "region_code": None}
        except InvalidIdentifier as error:
            raise InvalidInput.field("vendor", error.code, error.message) from None
    if role is Role.ADMIN:
        return {"vendor_credit_code": None, "region_code": None}
    region = regions().require(region_code, "region")
    if role is Role.SCHOOL and (not school_code or not SCHOOL_CODE.match(school_code)):
        raise InvalidInput.field("school", "invalid_school_code", "学校标识码应为 10 位数字")
    return {"vendor_credit_code": None, "region_code": region.code}


async def _ensure_school(session, actor: Actor, code: str | None, name: str, region_code: str | None) -> UUID:
    assert code is not None and region_code is not None  # a school account's scope has both (checked before)
    school = (await session.exec(select(School).where(School.code == code))).first()
    if school is not None:
        if school.region_code != region_code:
            raise InvalidInput.field("region", "school_region_mismatch", "该学校已登记在其他行政区划")
        return school.id
    school = School(code=code, name=name, region_code=region_code)
    session.add(school)
    await session.flush()
    await record_event(
        session,
        actor,
        "schools:school:create",
        "school",
        school.id,
        region_code=region_code,
        changes={"code": {"before": None, "after": code}},
    )
    return school.id


async def issue_token(db: Database, actor: Actor, account_id: UUID) -> str:
    """A further token for an existing account (shown once, like the first)."""
    token = new_token()
    async with db.transaction() as session:
        if await session.get(Account, account_id) is None:
            raise NotFound("账号不存在", code="account_not_found")
        stored = ApiToken(account_id=account_id, token_hash=hash_token(token))
        session.add(stored)
        await session.flush()
        await record_event(
            session,
            actor,
            "accounts:token:issue",
            "api_token",
            stored.id,
            changes={"account_id": {"before": None, "after": account_id}},
        )
    return token


AUTHENTICATE = """
SELECT a.id, a.role, a.region_code, a.school_id, a.vendor_credit_code
  FROM api_tokens t JOIN accounts a ON a.id = t.account_id
 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.disabled_at IS NULL
"""


async def authenticate(db: Database, token: str) -> Actor | None:
    """The actor behind a bearer token, or None for unknown and revoked tokens.

    Every authenticated request runs this, so it is one raw asyncpg query on the
    hot-path pool (the ORM costs ~3× the Python per query; STACK_NOTES). Not cached:
    a revoked token is refused by the next request in every worker. (The lookups use
    `authenticate_cached`, whose answer their receipt statement re-validates.)"""
    token_hash = hash_token(token)
    actor = await _authenticate_hash(db, token_hash)
    if actor is not None:
        _token_cache(db).put(token_hash, actor)
    return actor


async def _authenticate_hash(db: Database, token_hash: str) -> Actor | None:
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        row = await conn.fetchrow(AUTHENTICATE, token_hash)
    if row is None:
        return None
    return Actor(account_id=row[0], role=Role(row[1]), region_code=row[2], school_id=row[3], vendor_credit_code=row[4])


class TokenCache:
    """Per process: token hash → the actor it authenticated, for a bounded time.

    Only for callers that re-validate the token in PostgreSQL in the same statement
    that makes their work durable (the lookups: `lookup_store_receipts` checks the
    token is unrevoked and still belongs to exactly this account, role and scope, and
    refuses the lookup otherwise). So a revoked token is refused by the next lookup in
    every worker, cache or not; the cache only saves the separate round trip."""

    TTL = 60.0
    MAX = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Actor, float]] = {}

    def get(self, token_hash: str) -> Actor | None:
        found = self._entries.get(token_hash)
        if found is None:
            return None
        if found[1] < time.monotonic():
            self._entries.pop(token_hash, None)
            return None
        return found[0]

    def put(self, token_hash: str, actor: Actor) -> None:
        if len(self._entries) >= self.MAX:
            self._entries.clear()
        self._entries[token_hash] = (actor, time.monotonic() + self.TTL * (0.75 + random.random() / 2))

    def forget(self, token_hash: str) -> None:
        self._entries.pop(token_hash, None)


def _token_cache(db: Database) -> TokenCache:
    found = db.local.get("accounts.token_cache")
    if found is None:
        found = db.local["accounts.token_cache"] = TokenCache()
    return found


@dataclass(frozen=True)
class Authenticated:
    actor: Actor
    token_hash: str
    from_cache: bool  # the caller must re-validate the token before its work counts


async def authenticate_cached(db: Database, token: str) -> Authenticated | None:
    """As `authenticate`, but may answer from this process's cache without a round
    trip. Only for handlers that re-validate `token_hash` in PostgreSQL before their
    answer leaves (see TokenCache); `from_cache` says whether they must."""
    token_hash = hash_token(token)
    cache = _token_cache(db)
    actor = cache.get(token_hash)
    if actor is not None:
        return Authenticated(actor, token_hash, True)
    actor = await _authenticate_hash(db, token_hash)
    if actor is None:
        return None
    cache.put(token_hash, actor)
    return Authenticated(actor, token_hash, False)


async def still_authenticated(db: Database, token_hash: str, actor: Actor) -> bool:
    """Re-validate a cached token (for answers that store no receipt, e.g. a 422): the
    token is unrevoked and authenticates exactly `actor`. Forgets it otherwise."""
    current = await _authenticate_hash(db, token_hash)
    if current != actor:
        _token_cache(db).forget(token_hash)
        return False
    return True


def forget_token(db: Database, token_hash: str) -> None:
    _token_cache(db).forget(token_hash)


async def revoke_token(db: Database, actor: Actor, token: str) -> None:
    """Revoke a token. Non-admins may revoke only their own tokens."""
    async with db.transaction() as session:
        query = select(ApiToken).where(ApiToken.token_hash == hash_token(token), col(ApiToken.revoked_at).is_(None))
        if not actor.is_admin:
            query = query.where(ApiToken.account_id == actor.account_id)
        stored = (await session.exec(query.with_for_update())).first()
        if stored is None:
            raise NotFound("令牌不存在或已撤销", code="token_not_found")
        stored.revoked_at = utcnow()
        session.add(stored)
        await record_event(
            session,
            actor,
            "accounts:token:revoke",
            "api_token",
            stored.id,
            changes={"revoked": {"before": False, "after": True}},
        )


async def account_names(session, account_ids) -> dict[UUID, str]:
    """Display names of accounts (reviewers named in a stage history)."""
    ids = [i for i in dict.fromkeys(account_ids) if i is not None]
    if not ids:
        return {}
    rows = (await session.exec(select(Account.id, Account.name).where(col(Account.id).in_(ids)))).all()
    return {row[0]: row[1] for row in rows}


async def account_regions(session, account_ids) -> dict[UUID, str | None]:
    """The region each account acts for (a decision's deciding bureau), by id."""
    ids = [i for i in dict.fromkeys(account_ids) if i is not None]
    if not ids:
        return {}
    rows = (await session.exec(select(Account.id, Account.region_code).where(col(Account.id).in_(ids)))).all()
    return {row[0]: row[1] for row in rows}


async def accounts_to_notify(session, vendor_credit_code: str, region_code: str) -> list[tuple[UUID, str]]:
    """(account id, role) of the vendor's accounts and of the reviewers whose region
    covers `region_code` — who is told that something of the vendor ends (reminders)."""
    covering = list(regions().ancestors(region_code))
    query = (
        select(Account.id, Account.role)
        .where(
            col(Account.disabled_at).is_(None),
            ((col(Account.role) == "vendor") & (col(Account.vendor_credit_code) == vendor_credit_code))
            | ((col(Account.role) == "reviewer") & col(Account.region_code).in_(covering)),
        )
        .order_by(col(Account.id))
    )
    return [(row[0], row[1]) for row in (await session.exec(query)).all()]
