"""Reminders: 30, 7 and 1 days before a document, an entry or a clearance ends, to the
vendor and the reviewers in scope, through a pluggable sender. docs/webhooks.md."""

from service.reminders.jobs import run_periodic_with as run_reminder_jobs
from service.reminders.senders import sender_from
from service.reminders.services import my_reminders

__all__ = [
    "my_reminders",
    "run_reminder_jobs",
    "sender_from",
]
