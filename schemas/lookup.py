"""The school lookup API and its signed receipts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from schemas.inputs import Input
from schemas.text import Text


class VendorServiceOut(msgspec.Struct):
    item_id: UUID
    category_code: int
    activity: str
    grade_bands: list[str]
    fee: int  # fen
    fee_unit: str
    fee_published_on: date
    valid_until: datetime
    region_codes: list[str]


class VendorLookupOut(msgspec.Struct):
    credit_code: str
    name: str | None
    status: str  # active | suspended | revoked | expired | not_listed
    services: list[VendorServiceOut]
    checked_at: datetime
    receipt_id: UUID


class SignedGroup(msgspec.Struct):
    """The receipt's place in the Merkle tree of the receipts signed together."""

    size: int
    index: int
    path: list[str]  # the inclusion proof: base64 of 32-byte hashes, leaf side first


class ReceiptOut(msgspec.Struct, omit_defaults=True):
    """`receipt` is the signed document; `canonical` its exact bytes (sorted keys, no
    spaces, UTF-8); `signature` base64 Ed25519 over the root of the group's Merkle tree
    (`signed_group`: size, index, proof; see docs/lookup.md), or — for receipts signed
    before groups, without `signed_group` — over `canonical` itself."""

    receipt: dict[str, Any]
    canonical: str
    signature: str
    algorithm: str
    key_id: str
    public_key: str  # base64 of the raw 32-byte Ed25519 key (check it against GET /api/v1/keys)
    signed_group: SignedGroup | None = None


class ServiceKeys(msgspec.Struct):
    origin: str
    algorithm: str
    key_id: str
    public_key: str  # base64 raw 32 bytes
    public_key_pem: str
    vkey: str  # C2SP note verifier key (same key)


class PersonLookupIn(Input):
    """One person to check. `vendor_credit_code`: only through this vendor."""

    id_number: Text | None = None
    name: Text | None = None
    vendor_credit_code: Text | None = None


class PeopleBatchIn(Input):
    entries: list[PersonLookupIn]  # up to 500


class LookupVendorRef(msgspec.Struct):
    credit_code: str
    name: str


class PersonAnswer(msgspec.Struct, omit_defaults=True):
    """`cleared` (with `valid_until`, the last day the clearance holds, and the vendors
    through which the person may enter) or `not_cleared` (no reason, `vendors` empty)."""

    result: str
    vendors: list[LookupVendorRef]
    valid_until: date | None = None


class PersonLookupOut(msgspec.Struct, omit_defaults=True):
    result: str  # cleared | not_cleared
    vendors: list[LookupVendorRef]
    checked_at: datetime
    receipt_id: UUID
    valid_until: date | None = None


class PeopleBatchOut(msgspec.Struct):
    results: list[PersonAnswer]  # in the order of the entries
    checked_at: datetime
    receipt_id: UUID  # one signed receipt for the whole batch


class PersonLookupRecordOut(msgspec.Struct):
    at: datetime
    kind: str  # person | person_batch
    caller_role: str | None
    school_code: str | None
    school_name: str | None
    region_code: str | None
    result: str  # cleared | not_cleared


class PersonLookupList(msgspec.Struct):
    items: list[PersonLookupRecordOut]
