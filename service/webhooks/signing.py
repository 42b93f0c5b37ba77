"""Signing webhook deliveries (HMAC-SHA256), and verifying them as a receiver would.

Every POST carries three headers:
  `SchoolGate-Delivery`  — the delivery id (the same on every retry of one delivery);
  `SchoolGate-Timestamp` — Unix seconds when this attempt was signed;
  `SchoolGate-Signature` — `v1=` + hex HMAC-SHA256(secret, "<delivery id>.<timestamp>." + body).

A receiver recomputes the signature, refuses a timestamp outside its tolerance, and
keeps the delivery ids it has processed: a replayed or retried request carries an id it
has already seen (`verify` reports it as a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Container

DELIVERY_HEADER = "SchoolGate-Delivery"
TIMESTAMP_HEADER = "SchoolGate-Timestamp"
SIGNATURE_HEADER = "SchoolGate-Signature"
SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(secret: str, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, delivery_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: dict[str, str],
    body: bytes,
    *,
    now: float,
    seen: Container[str] = (),
    tolerance: int = TOLERANCE_SECONDS,
) -> str:
    """What a receiver decides: `ok`, `bad_signature`, `stale` (timestamp outside the
    tolerance) or `replay` (a delivery id already processed)."""
    lower = {k.lower(): v for k, v in headers.items()}
    delivery_id = lower.get(DELIVERY_HEADER.lower(), "")
    try:
        timestamp = int(lower.get(TIMESTAMP_HEADER.lower(), ""))
    except ValueError:
        return "bad_signature"
    expected = signature(secret, delivery_id, timestamp, body)
    if not hmac.compare_digest(expected, lower.get(SIGNATURE_HEADER.lower(), "")):
        return "bad_signature"
    if abs(now - timestamp) > tolerance:
        return "stale"
    if delivery_id in seen:
        return "replay"
    return "ok"
