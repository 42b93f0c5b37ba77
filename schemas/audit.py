from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class AuditEventOut(msgspec.Struct):
    seq: int
    leaf_hash: str  # hex SHA-256(0x00 || canonical)
    canonical: str  # the exact bytes that were hashed, as UTF-8 text
    event: dict[str, Any]  # the same, parsed


class AuditEventPage(msgspec.Struct):
    items: list[AuditEventOut]
    next_cursor: int | None


class CheckpointOut(msgspec.Struct):
    size: int
    root_hash: str
    note: str  # C2SP signed note
    created_at: datetime


class EventWithProof(msgspec.Struct):
    event: AuditEventOut
    checkpoint: CheckpointOut
    inclusion_proof: list[str]


class ConsistencyOut(msgspec.Struct):
    first: int
    second: int
    proof: list[str]
    first_checkpoint: CheckpointOut
    second_checkpoint: CheckpointOut


class ObjectState(msgspec.Struct):
    seq: int
    time: str
    action: str
    actor: dict[str, Any]
    reason: str | None
    changes: dict[str, Any]
    state: dict[str, Any]


class ObjectHistory(msgspec.Struct):
    object_type: str
    object_id: str
    states: list[ObjectState]


class AuditKeys(msgspec.Struct):
    origin: str
    algorithm: str
    vkey: str  # C2SP note verifier key
    public_key_pem: str


class ProofProblem(msgspec.Struct):
    code: str
    message: str


class RecordProofOut(msgspec.Struct):
    """One imported record, proved against its import's audit event (docs/audit.md)."""

    record: dict[str, Any]  # the record as stored now, in its canonical form's fields
    canonical: str  # the exact bytes hashed as leaf `index`
    index: int
    record_proof: list[str]  # hex hashes: leaf `index` → the event's `records_root`
    event: AuditEventOut  # the import's one audit event
    checkpoint: CheckpointOut
    inclusion_proof: list[str]  # hex hashes: event `seq` → the checkpoint's root
    verified: bool  # the service's own check (`audit.commitment.verify_record_proof`)
    problems: list[ProofProblem]
