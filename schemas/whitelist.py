"""Dynamic whitelist: actions, four-eyes requests, entries with their history, and the
public whitelist."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from schemas.inputs import Input
from schemas.text import MultilineText, Text


class WhitelistActionCreate(Input, forbid_unknown_fields=True):
    """One action on entries named one by one (`entry_ids`), or on a vendor's entries
    (`vendor_id`, optionally narrowed to `region_code`; else all in the caller's scope)."""

    action: Text  # suspend | reinstate | revoke | renew
    reason: MultilineText
    entry_ids: list[UUID] | None = None
    vendor_id: UUID | None = None
    region_code: Text | None = None
    until: datetime | None = None  # suspend: the suspension ends by itself at this instant
    ban_until: date | None = None  # revoke (required): no new application in the region before this date
    valid_until: datetime | None = None  # renew: the new validity end (default: region's validity from now)


class RequestDecision(Input, forbid_unknown_fields=True):
    reason: MultilineText | None = None  # required to decline


class EntryChangeOut(msgspec.Struct):
    entry_id: UUID
    service_item_id: UUID
    region_code: str
    status_before: str
    status_after: str
    valid_until: datetime


class ActionRequestOut(msgspec.Struct):
    id: UUID
    action: str
    status: str  # pending | confirmed | declined
    vendor_id: UUID
    entry_ids: list[UUID]
    region_code: str
    reason: str
    ban_until: date | None
    requested_by: UUID
    requested_at: datetime
    decided_by: UUID | None
    decided_at: datetime | None
    decision_reason: str | None


class ActionResultOut(msgspec.Struct):
    action: str
    status: str  # applied | pending | declined
    entries: list[EntryChangeOut]
    request: ActionRequestOut | None = None


class IntervalOut(msgspec.Struct):
    status: str  # stored: active | suspended | revoked | superseded
    action: str  # admit | suspend | reinstate | revoke | renew | supersede
    reason: str | None
    valid_from: datetime
    valid_to: datetime | None  # null: the current interval
    entry_valid_until: datetime
    suspended_until: datetime | None
    ban_until: date | None
    actor_account_id: UUID | None
    confirmed_by: UUID | None
    request_id: UUID | None


class EntryOut(msgspec.Struct):
    id: UUID
    vendor_id: UUID
    service_item_id: UUID
    region_code: str
    status: str  # derived at `as_of`: active | suspended | revoked | expired | not_listed (superseded or not yet)
    as_of: datetime
    valid_from: datetime
    valid_until: datetime
    fee: int
    fee_unit: str
    fee_published_on: date
    history: list[IntervalOut]


class PublicWhitelistRow(msgspec.Struct):
    credit_code: str
    vendor_name: str
    item_id: UUID
    category_code: int
    category_name: str
    activity: str
    grade_bands: list[str]
    fee: int  # fen
    fee_unit: str
    fee_published_on: date
    region_code: str
    region_name: str
    valid_until: datetime


class PublicWhitelistPage(msgspec.Struct):
    items: list[PublicWhitelistRow]
    next_cursor: str | None
