"""Schools' webhooks and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from schemas.inputs import Input
from schemas.text import Text


class WebhookCreate(Input, forbid_unknown_fields=True):
    url: Text  # https://…, on the admin's allow-list


class WebhookOut(msgspec.Struct):
    id: UUID
    school_code: str
    url: str
    active: bool
    created_at: datetime


class WebhookCreated(msgspec.Struct):
    id: UUID
    school_code: str
    url: str
    active: bool
    created_at: datetime
    secret: str  # shown only in this answer: keep it to verify `SchoolGate-Signature`


class WebhookList(msgspec.Struct):
    items: list[WebhookOut]


class DeliveryOut(msgspec.Struct):
    id: UUID  # the `SchoolGate-Delivery` header of every attempt
    event_type: str
    cause: str
    status: str  # pending | delivered | failed
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any]


class DeliveryList(msgspec.Struct):
    items: list[DeliveryOut]
