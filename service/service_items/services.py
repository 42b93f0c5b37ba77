"""Creating and reading a vendor's service items, scoped through the vendor."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import diff, record_event
from service.db import Database
from service.errors import InvalidInput, NotFound, problem, raise_problems
from service.idempotency import Idempotency, Reply, run_once
from service.personnel import not_engaged_by
from service.security import Actor
from service.service_items.models import CATEGORIES, FEE_UNITS, GRADE_BANDS, ServiceItem
from service.service_items.rules import free_service_named
from service.vendors import load_vendor_record, load_visible_vendor

TEXT_LIMITS = {"activity": 100, "description": 2000, "venue": 200}
MAX_FEE = 100_000_000  # fen: one million yuan, far above any real fee
MAX_CLASS_SIZE = 1000


@dataclass(frozen=True)
class ServiceItemInput:
    category_code: int
    activity: str
    description: str
    grade_bands: list[str]
    fee: int
    fee_unit: str
    max_class_size: int
    venue: str
    personnel_ids: list[UUID] = field(default_factory=list)


def validate_item(data: ServiceItemInput) -> ServiceItemInput:
    """Every problem at once, each naming its field; the cleaned input otherwise."""
    problems: list[dict] = []
    if data.category_code not in CATEGORIES:
        problems.append(problem("category_code", "unknown_category", "活动类别须为 1 至 8 之一（见课后服务活动类别）"))
    texts = {name: (getattr(data, name) or "").strip() for name in TEXT_LIMITS}
    for name, limit in TEXT_LIMITS.items():
        if not texts[name]:
            problems.append(problem(name, "required", "此项不能为空"))
        elif len(texts[name]) > limit:
            problems.append(problem(name, "too_long", f"不能超过 {limit} 个字符"))
    bands = list(dict.fromkeys(data.grade_bands))
    if not bands:
        problems.append(problem("grade_bands", "grade_bands_required", "至少选择一个学段"))
    unknown = [b for b in bands if b not in GRADE_BANDS]
    if unknown:
        problems.append(
            problem("grade_bands", "invalid_grade_band", "学段须为 lower_primary、upper_primary 或 junior_secondary")
        )
    if data.fee_unit not in FEE_UNITS:
        problems.append(problem("fee_unit", "invalid_fee_unit", "收费单位须为 per_session、per_term 或 free"))
    if data.fee < 0:
        problems.append(problem("fee", "negative_fee", "收费标准不能为负数"))
    elif data.fee > MAX_FEE:
        problems.append(problem("fee", "fee_too_large", "收费标准超出合理范围"))
    elif data.fee_unit == "free" and data.fee != 0:
        problems.append(problem("fee", "fee_unit_mismatch", "免费项目的收费标准须为 0"))
    elif data.fee_unit in ("per_session", "per_term") and data.fee == 0:
        problems.append(problem("fee", "fee_unit_mismatch", "收费为 0 的项目请将收费单位设为 free"))
    elif data.fee_unit != "free" and free_service_named(texts["activity"]):
        problems.append(
            problem(
                "fee",
                "free_service_fee",
                f"{free_service_named(texts['activity'])}属于学校日常教育教学管理的服务，"
                "不得向家长收取任何费用（收费单位须为 free，收费标准为 0）",
            )
        )
    if data.max_class_size < 1:
        problems.append(problem("max_class_size", "invalid_class_size", "班额上限须至少为 1 人"))
    elif data.max_class_size > MAX_CLASS_SIZE:
        problems.append(problem("max_class_size", "invalid_class_size", f"班额上限不能超过 {MAX_CLASS_SIZE} 人"))
    raise_problems(problems)
    order = list(GRADE_BANDS)
    return ServiceItemInput(
        category_code=data.category_code,
        activity=texts["activity"],
        description=texts["description"],
        grade_bands=sorted(bands, key=order.index),
        fee=data.fee,
        fee_unit=data.fee_unit,
        max_class_size=data.max_class_size,
        venue=texts["venue"],
        personnel_ids=list(dict.fromkeys(data.personnel_ids)),
    )


def audit_view(item: ServiceItem) -> dict:
    return item.model_dump(exclude={"id", "created_at", "created_by"})


async def create_service_item_in(
    session: AsyncSession, actor: Actor, vendor_id: UUID, data: ServiceItemInput
) -> ServiceItem:
    data = validate_item(data)
    vendor = await load_visible_vendor(session, actor, vendor_id)
    strangers = await not_engaged_by(session, vendor.id, data.personnel_ids)
    if strangers:
        raise InvalidInput.field(
            "personnel_ids", "unknown_personnel", f"有 {len(strangers)} 名人员不是本机构在职人员，请先登记人员"
        )
    item = ServiceItem(
        vendor_id=vendor.id,
        category_code=data.category_code,
        activity=data.activity,
        description=data.description,
        grade_bands=data.grade_bands,
        fee=data.fee,
        fee_unit=data.fee_unit,
        max_class_size=data.max_class_size,
        venue=data.venue,
        personnel_ids=data.personnel_ids,
        created_by=actor.account_id,
    )
    session.add(item)
    await session.flush()
    await record_event(
        session,
        actor,
        "service_items:item:create",
        "service_item",
        item.id,
        region_code=vendor.region_code,
        changes=diff(None, audit_view(item)),
    )
    return item


async def create_service_item(
    db: Database, actor: Actor, vendor_id: UUID, data: ServiceItemInput, *, idempotency: Idempotency | None = None
) -> Reply[ServiceItem]:
    """Add an item to the vendor's catalogue (at most once per idempotency key)."""
    return await run_once(db, idempotency, lambda session: create_service_item_in(session, actor, vendor_id, data))


async def list_service_items(db: Database, actor: Actor, vendor_id: UUID) -> list[ServiceItem]:
    async with db.transaction() as session:
        await load_visible_vendor(session, actor, vendor_id)
        query = (
            select(ServiceItem)
            .where(ServiceItem.vendor_id == vendor_id)
            .order_by(col(ServiceItem.created_at), col(ServiceItem.id))
        )
        return list((await session.exec(query)).all())


async def get_service_item(db: Database, actor: Actor, vendor_id: UUID, item_id: UUID) -> ServiceItem:
    async with db.transaction() as session:
        return await load_vendor_record(
            session, actor, vendor_id, ServiceItem, item_id, NotFound("未找到该服务项目", code="service_item_not_found")
        )


async def items_by_ids(session: AsyncSession, item_ids: Iterable[UUID]) -> dict[UUID, ServiceItem]:
    """Items by id (for other domains, which check ownership themselves)."""
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return {}
    rows = (await session.exec(select(ServiceItem).where(col(ServiceItem.id).in_(ids)))).all()
    return {row.id: row for row in rows}
