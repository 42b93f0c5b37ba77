"""Idempotency keys: a retried POST returns the first answer and changes nothing."""

from service.idempotency.services import (
    Idempotency,
    IdempotencyKey,
    Reply,
    check_key,
    fingerprint,
    purge_expired,
    run_once,
)

__all__ = [
    "check_key",
    "fingerprint",
    "Idempotency",
    "IdempotencyKey",
    "purge_expired",
    "Reply",
    "run_once",
]
