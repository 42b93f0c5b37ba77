"""Webhooks: schools hear when an item they ordered, or a person named on their orders,
changes standing. Other domains call `enqueue_standing_change` in their own transaction
(the outbox); the dispatcher (jobs.py) does the rest. docs/webhooks.md."""

from service.webhooks.jobs import run_forever as run_webhook_jobs
from service.webhooks.outbox import enqueue_standing_change, enqueue_standing_change_on

__all__ = [
    "enqueue_standing_change",
    "enqueue_standing_change_on",
    "run_webhook_jobs",
]
