from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec


class DocumentOut(msgspec.Struct):
    id: UUID
    vendor_id: UUID
    doc_type: str
    number: str
    issuer: str
    valid_from: date
    valid_until: date
    sha256: str
    size: int
    content_type: str
    filename: str
    uploaded_at: datetime
    status: str  # not_yet_valid | valid | expiring | expired, computed when read


class DocumentList(msgspec.Struct):
    items: list[DocumentOut]


class SignedList(msgspec.Struct):
    """A published list as served (service/printing/signed.py): Ed25519 over
    `schoolgate signed list v1\\n` + `canonical`, which is `document` in canonical JSON."""

    document: dict[str, Any]
    canonical: str
    sha256: str
    signature: str
    algorithm: str
    key_id: str
    public_key: str
