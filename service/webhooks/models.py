"""Webhook tables: the schools' subscriptions, the standing-change outbox, the deliveries.

`standing_changes` is the transactional outbox: a domain that changes the standing of
items or people (a whitelist action, a check result, a departure, a suspension) appends
one row in the same transaction as the change. The dispatcher turns each row into one
delivery per subscribed school whose open orders it touches (`webhook_deliveries`,
ordered per webhook by `seq`), and remembers what it last told about each order
(`webhook_order_standings`), so the periodic scan can tell time-driven changes
(expiries) from nothing new.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, Index, LargeBinary, Text, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow

DELIVERY_STATUSES = ("pending", "delivered", "failed")


class Webhook(SQLModel, table=True):
    """A school's subscription: where to POST, and the signing secret (encrypted)."""

    __tablename__ = "webhooks"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    school_id: UUID = Field(foreign_key="schools.id", index=True)
    url: str = Field(max_length=2000)
    # AES-GCM under the service keyring (purpose `webhook.secret`): it must sign, so
    # it cannot be hashed; it is shown once, when the webhook is created.
    secret_ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    created_by: UUID | None = Field(default=None, foreign_key="accounts.id")


class StandingChange(SQLModel, table=True):
    """Outbox row: these items or people changed standing (written with the change)."""

    __tablename__ = "standing_changes"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    item_ids: list[UUID] = Field(sa_column=Column(ARRAY(Uuid()), nullable=False))
    person_ids: list[UUID] = Field(sa_column=Column(ARRAY(Uuid()), nullable=False))
    cause: str = Field(max_length=64)  # an event name, e.g. whitelist:entry:revoke
    created_at: datetime = Field(default_factory=utcnow)


class WebhookDelivery(SQLModel, table=True):
    """One POST to one webhook, retried until delivered (or given up after the limit)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="ck_webhook_deliveries_status"),
        # The head of each webhook's queue: its oldest pending delivery.
        Index("ix_webhook_deliveries_pending", "webhook_id", "seq", postgresql_where=text("status = 'pending'")),
        Index("ix_webhook_deliveries_log", "webhook_id", "created_at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)  # the delivery id the receiver sees
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), nullable=False, unique=True)
    )
    webhook_id: UUID = Field(foreign_key="webhooks.id")
    event_type: str = Field(max_length=64)
    cause: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))  # the exact bytes signed and sent (UTF-8 JSON)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=64)  # a code word, never a response body
    delivered_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class WebhookOrderStanding(SQLModel, table=True):
    """What the school was last told (or first seen) of an order's standing."""

    __tablename__ = "webhook_order_standings"

    order_id: UUID = Field(sa_column=Column(Uuid(), primary_key=True))
    school_id: UUID = Field(foreign_key="schools.id", index=True)
    fingerprint: str = Field(max_length=500)  # standing and its reason codes
    updated_at: datetime = Field(default_factory=utcnow)
