"""What a use case on an application loads first: the row (locked), its items, vendor and
documents (`Context`), who may see it, and the role tags the workflow engine reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.applications.models import (
    Application,
    ApplicationDocument,
    ApplicationItem,
    Objection,
)
from service.applications.rules import (
    WORKFLOWS,
    can_see,
    role_tags,
)
from service.documents import Document, documents_by_ids
from service.errors import (
    NotFound,
)
from service.personnel import uncleared_among
from service.region_settings import EffectiveSettings, effective_settings
from service.security import Actor, Role
from service.service_items import ServiceItem, items_by_ids
from service.vendors import Vendor, vendors_by_ids
from workflows.engine import Workflow


@dataclass
class Context:
    """An application with everything its decisions read, loaded once per request."""

    application: Application
    vendor: Vendor
    items: list[ServiceItem]
    documents: list[Document]
    settings: EffectiveSettings
    open_objections: list[Objection]

    @property
    def workflow(self) -> Workflow:
        return WORKFLOWS[self.application.workflow]

    @property
    def evidence(self) -> list[str]:
        """The SHA-256 of every document the application relies on."""
        return sorted({d.sha256 for d in self.documents})


async def uncleared_personnel(
    session: AsyncSession, vendor_id: UUID, person_ids: Sequence[UUID], now: datetime
) -> list[UUID]:
    """The listed people who may not deliver the items: not cleared now (every
    mandatory check present, clear and unexpired), or no longer working for the vendor."""
    return await uncleared_among(session, vendor_id, person_ids, now)


async def _lock(session: AsyncSession, application_id: UUID) -> Application | None:
    query = (
        select(Application)
        .where(Application.id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).first()


async def _context(session: AsyncSession, application: Application) -> Context:
    vendor = (await vendors_by_ids(session, [application.vendor_id]))[application.vendor_id]
    item_rows = (
        await session.exec(
            select(ApplicationItem)
            .where(ApplicationItem.application_id == application.id)
            .order_by(col(ApplicationItem.position))
        )
    ).all()
    items_found = await items_by_ids(session, [row.service_item_id for row in item_rows])
    document_ids = (
        await session.exec(
            select(ApplicationDocument.document_id).where(ApplicationDocument.application_id == application.id)
        )
    ).all()
    documents = sorted(
        (await documents_by_ids(session, document_ids)).values(), key=lambda d: (d.doc_type, d.uploaded_at, str(d.id))
    )
    objections = (
        await session.exec(
            select(Objection)
            .where(Objection.application_id == application.id, Objection.status == "open")
            .order_by(col(Objection.filed_at), col(Objection.id))
            .execution_options(populate_existing=True)
        )
    ).all()
    return Context(
        application=application,
        vendor=vendor,
        items=[items_found[row.service_item_id] for row in item_rows],
        documents=documents,
        settings=await effective_settings(session, application.region_code),
        open_objections=list(objections),
    )


def _visible(actor: Actor, ctx: Context) -> bool:
    app = ctx.application
    return can_see(
        actor,
        region_code=app.region_code,
        vendor_credit_code=ctx.vendor.credit_code,
        submitted=app.submitted_at is not None,
    )


def _not_found() -> NotFound:
    return NotFound("未找到该申请", code="application_not_found")


async def _load_visible(session: AsyncSession, actor: Actor, application_id: UUID, *, lock: bool) -> Context:
    application = await _lock(session, application_id) if lock else await session.get(Application, application_id)
    if application is None:
        raise _not_found()
    ctx = await _context(session, application)
    if not _visible(actor, ctx):
        raise _not_found()
    return ctx


def _tags(actor: Actor, ctx: Context) -> frozenset[str]:
    return role_tags(actor, ctx.application.region_code, ctx.vendor.credit_code)


def _sees_objectors(actor: Actor) -> bool:
    return actor.role in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
