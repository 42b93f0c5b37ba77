"""The facts the workflow engine decides on (documents, personnel clearance, bans and
suspensions), the answer it gives, and the version bump of a change."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from service.applications.context import Context, uncleared_personnel
from service.applications.models import (
    Application,
)
from service.applications.rules import (
    DIRECT_ACTIONS,
)
from service.documents import document_status
from service.errors import (
    Conflict,
)
from service.security import Actor
from service.versioning import check_version
from service.whitelist import (
    ban_until,
    suspended_items,
)
from workflows import allowed_actions as table_actions
from workflows import decide
from workflows.engine import Workflow


def _document_checks(ctx: Context, now: datetime) -> tuple[list[str], list[str], list[str]]:
    """Mandatory document types not referenced at all; those with no referenced document
    in force at `now` (by the dates) — expired, or (if one is still to come) not valid
    yet."""
    statuses: dict[str, set[str]] = {}
    for document in ctx.documents:
        statuses.setdefault(document.doc_type, set()).add(
            document_status(document.valid_from, document.valid_until, now)
        )
    mandatory = ctx.settings.mandatory_document_types
    missing = [t for t in mandatory if t not in statuses]
    out_of_force = [t for t in mandatory if t in statuses and not statuses[t] & {"valid", "expiring"}]
    not_yet = [t for t in out_of_force if "not_yet_valid" in statuses[t]]
    return missing, [t for t in out_of_force if t not in not_yet], not_yet


async def _facts(
    session: AsyncSession, ctx: Context, actor: Actor, now: datetime, reason: str | None
) -> dict[str, Any]:
    missing, expired, not_yet_valid = _document_checks(ctx, now)
    people = list(dict.fromkeys(p for item in ctx.items for p in item.personnel_ids))
    return {
        "missing_documents": missing,
        "expired_documents": expired,
        "not_yet_valid_documents": not_yet_valid,
        "uncleared_personnel": await uncleared_personnel(session, ctx.application.vendor_id, people, now),
        "preliminary_reviewer_id": ctx.application.preliminary_reviewer_id,
        "actor_id": actor.account_id,
        "now": now,
        "notice_ends_at": ctx.application.notice_ends_at,
        "open_objections": [o.id for o in ctx.open_objections if o.status == "open"],
        "reason": reason,
    }


def _allowed(workflow: Workflow, stage: str, tags: frozenset[str], facts: dict[str, Any]) -> list[str]:
    """The actions the caller may take now through POST .../transitions: the table's rows
    for its role tags whose guards hold (a reason is asked for when the action is sent)."""
    allowed = []
    for action in table_actions(workflow, stage, tags):
        if action in DIRECT_ACTIONS and decide(workflow, stage, action, tags, facts | {"reason": "-"}).allowed:
            allowed.append(action)
    return allowed


def _guard_details(facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "missing_documents": list(facts["missing_documents"]),
        "expired_documents": list(facts["expired_documents"]),
        "not_yet_valid_documents": list(facts["not_yet_valid_documents"]),
        "uncleared_personnel": [str(p) for p in facts["uncleared_personnel"]],
    }


async def _check_not_banned(session: AsyncSession, vendor_id: UUID, region_code: str, now: datetime) -> None:
    """A vendor revoked in a region may not apply there again before the ban date — nor
    in a region containing it or inside it (`whitelist.bans.overlapping_regions`)."""
    banned = await ban_until(session, vendor_id, region_code, now)
    if banned is not None:
        message = f"该机构在本地区（或其上级、下辖地区）的白名单已被撤销，{banned.isoformat()} 前不得在本地区再次申请"
        raise Conflict(
            message,
            code="vendor_banned",
            details=[
                {"field": "region_code", "code": "vendor_banned", "message": message, "ban_until": banned.isoformat()}
            ],
        )


async def _check_not_suspended(session: AsyncSession, ctx: Context, now: datetime) -> None:
    """An item suspended in the region (an investigation) cannot be re-admitted by a new
    application until the suspension ends or is lifted."""
    suspended = await suspended_items(session, [item.id for item in ctx.items], ctx.application.region_code, now)
    if suspended:
        message = "申请中的服务项目在本地区处于暂停状态（调查中），暂停解除前不得重新申请"
        raise Conflict(
            message,
            code="item_suspended",
            details=[
                {"field": "service_item_ids", "code": "item_suspended", "message": message, "item_id": str(item_id)}
                for item_id in suspended
            ],
        )


def _check_version(application: Application, version: int | None) -> None:
    check_version(
        version,
        application.version,
        required="请在请求体的 version 字段或 If-Match 请求头中提供申请的当前版本号",
        conflict="申请已被更新（当前版本 {current}），请刷新后重新操作",
    )


def _bump(application: Application, now: datetime) -> None:
    application.version += 1
    application.updated_at = now
