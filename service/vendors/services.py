"""Vendor registration and reads, each scoped to the actor."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.text import nfc
from service.audit import diff, record_event
from service.db import Database
from service.errors import Conflict, Forbidden, NotFound, raise_problems
from service.idempotency import Idempotency, Reply, run_once
from service.identifiers import InvalidIdentifier, is_phone, validate_credit_code
from service.pagination import Page, decode_cursor, encode_cursor
from service.privacy import mask_name, mask_phone
from service.regions import regions
from service.security import Actor, Role
from service.vendors.models import ORG_TYPES, Vendor


class _VendorOwned(Protocol):
    vendor_id: UUID


Owned = TypeVar("Owned", bound=_VendorOwned)  # a model with a vendor_id

TEXT_LIMITS = {"name": 200, "address": 300, "contact_name": 100, "legal_representative": 100}


@dataclass(frozen=True)
class VendorInput:
    credit_code: str
    name: str
    org_type: str
    region_code: str
    address: str
    contact_name: str
    contact_phone: str
    legal_representative: str
    public_welfare_pledge: bool


@dataclass(frozen=True)
class Registered:
    vendor: Vendor
    warnings: tuple[str, ...]


def _validate(data: VendorInput) -> tuple[VendorInput, tuple[str, ...]]:
    """Every problem at once, each naming its field, so a form can show them all."""
    problems: list[dict] = []
    cleaned: dict[str, Any] = {k: nfc(v.strip()) if isinstance(v, str) else v for k, v in asdict(data).items()}
    warnings: tuple[str, ...] = ()
    try:
        check = validate_credit_code(data.credit_code)
        cleaned["credit_code"], warnings = check.code, check.warnings
    except InvalidIdentifier as error:
        problems.append({"field": "credit_code", "code": error.code, "message": error.message})
    for field, limit in TEXT_LIMITS.items():
        if not cleaned[field]:
            problems.append({"field": field, "code": "required", "message": "此项不能为空"})
        elif len(cleaned[field]) > limit:
            problems.append({"field": field, "code": "too_long", "message": f"不能超过 {limit} 个字符"})
    if cleaned["org_type"] not in ORG_TYPES:
        problems.append({"field": "org_type", "code": "invalid_org_type", "message": "机构类型无效"})
    if cleaned["region_code"] not in regions():
        problems.append(
            {"field": "region_code", "code": "unknown_region", "message": "行政区划代码不存在或不在本系统服务范围内"}
        )
    if not is_phone(cleaned["contact_phone"] or ""):
        problems.append({"field": "contact_phone", "code": "invalid_phone", "message": "联系电话格式不正确"})
    if cleaned["public_welfare_pledge"] is not True:
        problems.append(
            {"field": "public_welfare_pledge", "code": "pledge_required", "message": "须承诺坚持公益性原则方可登记"}
        )
    raise_problems(problems)
    return VendorInput(**cleaned), warnings


def audit_view(vendor: Vendor) -> dict:
    """What the audit trail keeps of a vendor: personal fields masked."""
    view = vendor.model_dump(exclude={"created_at", "created_by", "id"})
    view["contact_name"] = mask_name(vendor.contact_name)
    view["legal_representative"] = mask_name(vendor.legal_representative)
    view["contact_phone"] = mask_phone(vendor.contact_phone)
    return view


def _authorise_registration(actor: Actor, data: VendorInput) -> None:
    if actor.role is Role.VENDOR and data.credit_code != actor.vendor_credit_code:
        raise Forbidden("机构账号只能登记本机构（统一社会信用代码须与账号绑定的一致）", code="vendor_mismatch")
    if actor.role is Role.REVIEWER and not actor.covers_region(data.region_code):
        raise Forbidden("只能登记本辖区内的机构", code="out_of_scope")


async def register_vendor(
    db: Database, actor: Actor, data: VendorInput, *, idempotency: Idempotency | None = None
) -> Reply[Registered]:
    """Register a vendor (at most once per idempotency key)."""
    data, warnings = _validate(data)
    _authorise_registration(actor, data)

    async def register(session: AsyncSession) -> Registered:
        vendor = Vendor(**asdict(data), created_by=actor.account_id)
        session.add(vendor)
        await session.flush()
        await record_event(
            session,
            actor,
            "vendors:vendor:register",
            "vendor",
            vendor.id,
            region_code=vendor.region_code,
            changes=diff(None, audit_view(vendor)),
        )
        return Registered(vendor=vendor, warnings=warnings)

    try:
        return await run_once(db, idempotency, register)
    except IntegrityError as error:
        if "credit_code" in str(error.orig):
            raise Conflict(
                "该统一社会信用代码已登记",
                code="duplicate_credit_code",
                details=[
                    {"field": "credit_code", "code": "duplicate_credit_code", "message": "该统一社会信用代码已登记"}
                ],
            ) from None
        raise


def can_see_vendor(actor: Actor, vendor: Vendor) -> bool:
    if actor.role is Role.VENDOR:
        return vendor.credit_code == actor.vendor_credit_code
    if actor.role in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN):
        return actor.covers_region(vendor.region_code)
    return False


async def load_visible_vendor(
    session: AsyncSession, actor: Actor, vendor_id: UUID, *, for_update: bool = False
) -> Vendor:
    """The vendor if the actor may see it; otherwise 404, exactly as for a missing one."""
    query = select(Vendor).where(Vendor.id == vendor_id)
    if for_update:
        query = query.with_for_update()
    vendor = (await session.exec(query)).first()
    if vendor is None or not can_see_vendor(actor, vendor):
        raise NotFound("未找到该机构", code="vendor_not_found")
    return vendor


async def load_vendor_record(
    session: AsyncSession, actor: Actor, vendor_id: UUID, model: type[Owned], record_id: UUID, missing: NotFound
) -> Owned:
    """A record the vendor owns (`model.vendor_id`), seen through the vendor: `missing`
    for one that does not exist or belongs to another vendor, 404 outside the scope."""
    await load_visible_vendor(session, actor, vendor_id)
    record = await session.get(model, record_id)
    if record is None or record.vendor_id != vendor_id:
        raise missing
    return record


async def get_vendor(db: Database, actor: Actor, vendor_id: UUID) -> Vendor:
    async with db.transaction() as session:
        return await load_visible_vendor(session, actor, vendor_id)


async def list_vendors(
    db: Database,
    actor: Actor,
    *,
    region_code: str | None = None,
    org_type: str | None = None,
    q: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Vendor]:
    """Vendors in the actor's scope, oldest first, keyset-paginated."""
    query = select(Vendor)
    scope = actor.scope_regions()
    if scope is not None:
        query = query.where(col(Vendor.region_code).in_(scope))
    if actor.role is Role.VENDOR:
        query = query.where(Vendor.credit_code == actor.vendor_credit_code)
    if region_code:
        regions().require(region_code, "region")
        query = query.where(col(Vendor.region_code).in_(regions().descendants(region_code)))
    if org_type:
        query = query.where(Vendor.org_type == org_type)
    if q:
        # autoescape: `%` and `_` in a search term are the characters themselves, not wildcards
        query = query.where(col(Vendor.name).contains(nfc(q.strip()), autoescape=True))
    if cursor:
        created_at, last_id = decode_cursor(cursor)
        query = query.where(
            (col(Vendor.created_at) > created_at)
            | ((col(Vendor.created_at) == created_at) & (col(Vendor.id) > last_id))
        )
    query = query.order_by(col(Vendor.created_at), col(Vendor.id)).limit(limit + 1)
    async with db.transaction() as session:
        rows = list((await session.exec(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return Page(items=rows, next_cursor=next_cursor)


async def vendors_by_ids(session: AsyncSession, vendor_ids) -> dict[UUID, Vendor]:
    """Vendors by id, unscoped: for domains that scope by their own rules (an application
    is visible in the region it is addressed to, wherever its vendor is registered)."""
    ids = list(dict.fromkeys(vendor_ids))
    if not ids:
        return {}
    rows = (await session.exec(select(Vendor).where(col(Vendor.id).in_(ids)))).all()
    return {row.id: row for row in rows}


async def vendor_by_credit_code(session: AsyncSession, credit_code: str | None) -> Vendor | None:
    if not credit_code:
        return None
    return (await session.exec(select(Vendor).where(Vendor.credit_code == credit_code))).first()


async def vendor_ids_in_regions(session: AsyncSession, region_codes: list[str]) -> list[UUID]:
    """The vendors registered in these regions (for a region's supervision views)."""
    query = select(Vendor.id).where(col(Vendor.region_code).in_(region_codes))
    return list((await session.exec(query)).all())


async def own_vendor(db: Database, actor: Actor) -> Vendor | None:
    """The vendor a vendor account is bound to, once registered (None before)."""
    if actor.role is not Role.VENDOR:
        return None
    async with db.transaction() as session:
        return await vendor_by_credit_code(session, actor.vendor_credit_code)
