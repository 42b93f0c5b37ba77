"""The application as a reader sees it: items, documents, history, and the actions the
reader may take now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.accounts import account_names
from service.applications.context import Context, _sees_objectors, _tags
from service.applications.facts import _allowed, _facts, _guard_details
from service.applications.models import (
    Application,
    Objection,
    StageChange,
)
from service.documents import Document, document_status
from service.security import Actor
from service.service_items import ServiceItem
from service.vendors import Vendor
from service.whitelist import (
    WhitelistEntry,
    entries_of_application,
)


@dataclass(frozen=True)
class HistoryEntry:
    change: StageChange
    actor_name: str | None


@dataclass(frozen=True)
class DocumentRef:
    document: Document
    status: str  # valid | expiring | expired, at the time of the view


@dataclass(frozen=True)
class ApplicationView:
    application: Application
    vendor: Vendor
    items: list[ServiceItem]
    documents: list[DocumentRef]
    history: list[HistoryEntry]
    objections: list[Objection]
    show_objectors: bool
    allowed_actions: list[str]
    checks: dict[str, list[str]]  # missing/expired/not_yet_valid documents, uncleared_personnel
    whitelist_entries: list[WhitelistEntry]
    now: datetime


async def build_view(session: AsyncSession, ctx: Context, actor: Actor, now: datetime) -> ApplicationView:
    app = ctx.application
    changes = (
        await session.exec(
            select(StageChange).where(StageChange.application_id == app.id).order_by(col(StageChange.id))
        )
    ).all()
    names = await account_names(session, [c.actor_account_id for c in changes])
    objections = (
        await session.exec(
            select(Objection)
            .where(Objection.application_id == app.id)
            .order_by(col(Objection.filed_at), col(Objection.id))
        )
    ).all()
    tags = _tags(actor, ctx)
    facts = await _facts(session, ctx, actor, now, None)
    return ApplicationView(
        application=app,
        vendor=ctx.vendor,
        items=list(ctx.items),
        documents=[DocumentRef(d, document_status(d.valid_from, d.valid_until, now)) for d in ctx.documents],
        history=[HistoryEntry(c, names.get(c.actor_account_id) if c.actor_account_id else None) for c in changes],
        objections=list(objections),
        show_objectors=_sees_objectors(actor),
        allowed_actions=_allowed(ctx.workflow, app.stage, tags, facts),
        checks=_guard_details(facts),
        whitelist_entries=await entries_of_application(session, app.id),
        now=now,
    )
