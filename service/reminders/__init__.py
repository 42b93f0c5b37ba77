"""Reminders: 30, 7 and 1 days before a document, an entry or a clearance ends, to the
vendor and the reviewers in scope, through a pluggable sender. docs/webhooks.md."""

from service.reminders.services import my_reminders

__all__ = ["my_reminders"]
