"""HTTP for schools' webhooks: register one (the secret once), list, the delivery log."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from schemas.webhooks import DeliveryList, DeliveryOut, WebhookCreate, WebhookCreated, WebhookList, WebhookOut
from service.security import Role
from service.web.access import access
from service.web.deps import DB, AppSettings, CurrentActor, Keys
from service.web.params import PathText
from service.webhooks import services
from service.webhooks.jobs import policy_from
from service.webhooks.models import Webhook

STAFF = (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


def webhook_out(webhook: Webhook, school_code: str) -> WebhookOut:
    return WebhookOut(
        id=webhook.id, school_code=school_code, url=webhook.url, active=webhook.active, created_at=webhook.created_at
    )


def delivery_out(view: services.DeliveryView) -> DeliveryOut:
    d = view.delivery
    return DeliveryOut(
        id=d.id,
        event_type=d.event_type,
        cause=d.cause,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        last_attempt_at=d.last_attempt_at,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
        created_at=d.created_at,
        payload=view.payload,
    )


class WebhookController(Controller):
    path = "/api/v1/schools/{school_code:str}/webhooks"
    tags = ["webhooks"]

    @post("/", **access(Role.SCHOOL, errors=(403, 404, 422)))
    async def create(
        self,
        db: DB,
        keyring: Keys,
        settings: AppSettings,
        actor: CurrentActor,
        school_code: PathText,
        data: JSONBody[WebhookCreate],
    ) -> WebhookCreated:
        """Register a URL to receive signed POSTs when one of the school's orders changes
        standing. The answer carries the signing secret, this once. Refused (422, field
        `url`) unless the host is on the admin's allow-list and resolves only to public
        addresses (or to networks the admin allowed)."""
        created = await services.create_webhook(
            db, keyring, actor, school_code, data.url, policy_from(settings).addresses
        )
        w = created.webhook
        return WebhookCreated(
            id=w.id,
            school_code=created.school_code,
            url=w.url,
            active=w.active,
            created_at=w.created_at,
            secret=created.secret,
        )

    @get("/", **access(Role.SCHOOL, *STAFF, errors=(404,)))
    async def list_webhooks(self, db: DB, actor: CurrentActor, school_code: PathText) -> WebhookList:
        return WebhookList(
            items=[webhook_out(w, school_code) for w in await services.list_webhooks(db, actor, school_code)]
        )

    @delete("/{webhook_id:uuid}", status_code=200, **access(Role.SCHOOL, errors=(403, 404)))
    async def disable(
        self, db: DB, actor: CurrentActor, school_code: PathText, webhook_id: FromPath[UUID]
    ) -> WebhookOut:
        """Stop the webhook: nothing more is sent to it; its pending deliveries end as
        `failed` (`webhook_disabled`) and stay in the log."""
        return webhook_out(await services.disable_webhook(db, actor, school_code, webhook_id), school_code)

    @get("/{webhook_id:uuid}/deliveries", **access(Role.SCHOOL, *STAFF, errors=(404,)))
    async def deliveries(
        self, db: DB, actor: CurrentActor, school_code: PathText, webhook_id: FromPath[UUID]
    ) -> DeliveryList:
        """The delivery log, newest first (the last 100): each delivery's id, status,
        attempts, the last answer's status code or error, and the payload sent."""
        views = await services.list_deliveries(db, actor, school_code, webhook_id)
        return DeliveryList(items=[delivery_out(v) for v in views])
