"""Webhooks: schools hear when an item they ordered, or a person named on their orders,
changes standing. Other domains call `enqueue_standing_change` in their own transaction
(the outbox); the dispatcher (jobs.py) does the rest. The edges (API, console) register,
list and stop a school's webhooks and read its delivery log. docs/webhooks.md."""

from service.webhooks.jobs import address_policy
from service.webhooks.jobs import run_forever as run_webhook_jobs
from service.webhooks.models import DELIVERY_STATUSES, Webhook, WebhookDelivery
from service.webhooks.outbox import enqueue_standing_change, enqueue_standing_change_on
from service.webhooks.services import (
    MAX_WEBHOOKS_PER_SCHOOL,
    CreatedWebhook,
    DeliveryView,
    create_webhook,
    disable_webhook,
    list_deliveries,
    list_webhooks,
)
from service.webhooks.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

__all__ = [
    "address_policy",
    "create_webhook",
    "CreatedWebhook",
    "DELIVERY_STATUSES",
    "DeliveryView",
    "disable_webhook",
    "enqueue_standing_change",
    "enqueue_standing_change_on",
    "list_deliveries",
    "list_webhooks",
    "MAX_WEBHOOKS_PER_SCHOOL",
    "run_webhook_jobs",
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Webhook",
    "WebhookDelivery",
]
