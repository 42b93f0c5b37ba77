"""Schools' webhooks: registering one (the secret shown once), listing them, and the
delivery log the school reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlmodel import col, func, select

from service.audit import record_event
from service.db import Database
from service.errors import Forbidden, InvalidInput, NotFound
from service.schools import visible_school
from service.security import Actor, Keyring, Role
from service.timeutil import utcnow
from service.webhooks import addresses, signing
from service.webhooks.models import Webhook, WebhookDelivery

SECRET_PURPOSE = b"webhook.secret"
MAX_WEBHOOKS_PER_SCHOOL = 5
LOG_LIMIT = 100


@dataclass(frozen=True)
class CreatedWebhook:
    webhook: Webhook
    school_code: str
    secret: str  # shown once, in the answer to the creation


def decrypt_secret(keyring: Keyring, webhook_ciphertext: bytes) -> str:
    return keyring.decrypt(webhook_ciphertext, SECRET_PURPOSE).decode()


async def create_webhook(
    db: Database,
    keyring: Keyring,
    actor: Actor,
    school_code: str,
    url: str,
    policy: addresses.AddressPolicy,
    *,
    resolve: addresses.Resolver = addresses.system_resolver,
    now: datetime | None = None,
) -> CreatedWebhook:
    """Register `url` for the school (its own account only). Refused with 422 when the
    URL is malformed, its host is not on the admin's allow-list, or it resolves to a
    loopback, private or reserved address outside the allowed networks."""
    now = now or utcnow()
    url = (url or "").strip()
    try:
        await addresses.check(url, policy, resolve)
    except addresses.AddressRefused as refused:
        raise InvalidInput.field("url", refused.code, refused.message) from None
    async with db.transaction() as session:
        school = await visible_school(session, actor, school_code)
        if actor.role is not Role.SCHOOL:
            raise Forbidden("只有学校本校账号可以登记推送地址", code="school_only")
        count = (
            await session.exec(
                select(func.count())
                .select_from(Webhook)
                .where(Webhook.school_id == school.id, col(Webhook.active).is_(True))
            )
        ).one()
        if count >= MAX_WEBHOOKS_PER_SCHOOL:
            raise InvalidInput.field(
                "url", "too_many_webhooks", f"每所学校最多登记 {MAX_WEBHOOKS_PER_SCHOOL} 个推送地址"
            )
        secret = signing.new_secret()
        webhook = Webhook(
            school_id=school.id,
            url=url,
            secret_ciphertext=keyring.encrypt(secret.encode(), SECRET_PURPOSE),
            created_at=now,
            created_by=actor.account_id,
        )
        session.add(webhook)
        await session.flush()
        await record_event(
            session,
            actor,
            "webhooks:webhook:create",
            "webhook",
            webhook.id,
            region_code=school.region_code,
            changes={"url": {"before": None, "after": url}},
        )
        return CreatedWebhook(webhook, school.code, secret)


async def _visible_webhook(session, actor: Actor, school_code: str, webhook_id: UUID) -> Webhook:
    school = await visible_school(session, actor, school_code)
    webhook = (
        await session.exec(select(Webhook).where(Webhook.id == webhook_id, Webhook.school_id == school.id))
    ).first()
    if webhook is None:
        raise NotFound("未找到该推送地址", code="webhook_not_found")
    return webhook


async def disable_webhook(
    db: Database, actor: Actor, school_code: str, webhook_id: UUID, *, now: datetime | None = None
) -> Webhook:
    """Stop a webhook (the school's own account): nothing more is queued for it, and its
    pending deliveries end as `failed` (`webhook_disabled`), kept in the log."""
    now = now or utcnow()
    async with db.transaction() as session:
        school = await visible_school(session, actor, school_code)
        if actor.role is not Role.SCHOOL:
            raise Forbidden("只有学校本校账号可以停用推送地址", code="school_only")
        webhook = (
            await session.exec(
                select(Webhook).where(Webhook.id == webhook_id, Webhook.school_id == school.id).with_for_update()
            )
        ).first()
        if webhook is None:
            raise NotFound("未找到该推送地址", code="webhook_not_found")
        if webhook.active:
            webhook.active = False
            session.add(webhook)
            await (await session.connection()).execute(
                text(
                    "UPDATE webhook_deliveries SET status = 'failed', last_error = 'webhook_disabled' "
                    "WHERE webhook_id = :id AND status = 'pending'"
                ),
                {"id": webhook.id},
            )
            await record_event(
                session,
                actor,
                "webhooks:webhook:disable",
                "webhook",
                webhook.id,
                region_code=school.region_code,
                changes={"active": {"before": True, "after": False}},
            )
        return webhook


async def list_webhooks(db: Database, actor: Actor, school_code: str) -> list[Webhook]:
    async with db.transaction() as session:
        school = await visible_school(session, actor, school_code)
        return list(
            (
                await session.exec(
                    select(Webhook).where(Webhook.school_id == school.id).order_by(col(Webhook.created_at))
                )
            ).all()
        )


@dataclass(frozen=True)
class DeliveryView:
    delivery: WebhookDelivery
    payload: dict


async def list_deliveries(
    db: Database, actor: Actor, school_code: str, webhook_id: UUID, *, limit: int = LOG_LIMIT
) -> list[DeliveryView]:
    """The webhook's delivery log, newest first: status, attempts, last answer."""
    async with db.transaction() as session:
        webhook = await _visible_webhook(session, actor, school_code, webhook_id)
        rows = (
            await session.exec(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == webhook.id)
                .order_by(col(WebhookDelivery.seq).desc())
                .limit(limit)
            )
        ).all()
        return [DeliveryView(row, json.loads(row.body)) for row in rows]
