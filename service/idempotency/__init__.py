"""Idempotency keys: a retried POST returns the first answer and changes nothing."""
