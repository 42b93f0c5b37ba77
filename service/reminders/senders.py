"""How reminders leave the service: a `Sender` protocol and a registry chosen by config.

`SCHOOLGATE_REMINDER_SENDER` names the sender: a registered name (`log`, the default),
or `package.module:factory` for one shipped elsewhere (an SMTP or SMS gateway adapter):
the factory takes the Settings and returns a Sender. A sender raises to refuse a
message; the reminder then stays unsent and is tried again on the next round.

The default `log` sender writes one line per reminder with ids, kinds and dates only:
never a name, a message text or an address (docs/webhooks.md, "Reminders").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from service.logging import get_logger


@dataclass(frozen=True)
class Message:
    reminder_id: UUID
    recipient_account_id: UUID
    subject_type: str  # document | entry | clearance
    days_before: int
    ends_on: date
    text: str  # in Chinese, with masked names only


class Sender(Protocol):
    name: str

    async def send(self, message: Message) -> None: ...


class LogSender:
    """Writes `reminder_sent` to the log: ids, kind, days and date, nothing personal."""

    name = "log"

    def __init__(self, settings: Any = None) -> None:
        self._log = get_logger("schoolgate.reminders")

    async def send(self, message: Message) -> None:
        self._log.info(
            "reminder_sent",
            reminder_id=str(message.reminder_id),
            recipient_account_id=str(message.recipient_account_id),
            subject_type=message.subject_type,
            days_before=message.days_before,
            ends_on=message.ends_on.isoformat(),
        )


SENDERS: dict[str, Callable[[Any], Sender]] = {"log": LogSender}


def register(name: str, factory: Callable[[Any], Sender]) -> None:
    SENDERS[name] = factory


def sender_from(name: str, settings: Any = None) -> Sender:
    """The configured sender; an unknown name fails at start, naming it."""
    if name in SENDERS:
        return SENDERS[name](settings)
    module, _, attribute = name.partition(":")
    if not attribute:
        raise ValueError(
            f"SCHOOLGATE_REMINDER_SENDER {name!r} is neither registered ({sorted(SENDERS)}) nor a 'module:factory' path"
        )
    return getattr(importlib.import_module(module), attribute)(settings)
