"""One audit event committing to many records, and the proof of one of them (pure, no I/O).

A bulk operation (a results import: up to hundreds of thousands of records) appends ONE
event instead of one per record. The event commits to every record: its `changes`
hold `records` (how many) and `records_root`, the RFC 6962 Merkle root (the audit
log's own hashing, `merkle`) over the records' canonical forms in order — record i is
leaf i. A record is then proved in two steps, with the audit log's own proof code:

1. its canonical bytes → leaf hash → inclusion proof of leaf `index` in a tree of
   `records` leaves → `records_root`, which the event states;
2. the event's canonical bytes → leaf hash → inclusion proof of leaf `seq` in the
   signed checkpoint's tree → the checkpoint's root, under the service's key.

`verify_record_proof` checks both, offline, from the served proof document
(`GET /api/v1/checks/{check_id}/proof`):

    {"record": {...}, "canonical": "...", "index": I, "record_proof": ["<hex>", ...],
     "event": {"seq", "leaf_hash", "canonical", "event"}, "checkpoint": {"size",
     "root_hash", "note", ...}, "inclusion_proof": ["<hex>", ...]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.audit import merkle
from service.audit.checkpoint import CheckpointError, VerifierSpec, parse_and_verify
from service.audit.recorder import canonical_json


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


def record_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The inclusion proof of record `index` among these leaves."""
    return merkle.inclusion_proof(index, leaf_hashes)


def _hashes(values: Any) -> list[bytes] | None:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    try:
        out = [bytes.fromhex(v) for v in values]
    except ValueError:
        return None
    return out if all(len(h) == merkle.HASH_SIZE for h in out) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def record_in_event(record_canonical: bytes, index: int, path: Sequence[bytes], event: dict[str, Any]) -> list[Problem]:
    """Step 1: the record's bytes fold, at `index`, to the root the event commits to."""
    changes = event.get("changes") if isinstance(event, dict) else None
    if not isinstance(changes, dict):
        return [Problem("format", "the event holds no changes")]
    size = _int((changes.get("records") or {}).get("after"))
    root_hex = (changes.get("records_root") or {}).get("after")
    if size is None or not isinstance(root_hex, str):
        return [Problem("format", "the event commits to no records (records, records_root)")]
    folded = merkle.root_from_inclusion_proof(merkle.leaf_hash(record_canonical), index, size, path)
    if folded is None or folded.hex() != root_hex:
        return [
            Problem(
                "record_modified",
                f"record {index} is not the record the event committed to: "
                "it was altered, or does not belong to this event",
            )
        ]
    return []


def verify_record_proof(proof: Any, key: VerifierSpec) -> list[Problem]:
    """Problems with a served record proof (empty: the record is, byte for byte, record
    `index` of the event, which is event `seq` of the log the signed checkpoint covers)."""
    if not isinstance(proof, dict):
        return [Problem("format", "the proof is not an object")]
    record, stated = proof.get("record"), proof.get("canonical")
    event_out, checkpoint = proof.get("event"), proof.get("checkpoint")
    index, path, inclusion = (
        _int(proof.get("index")),
        _hashes(proof.get("record_proof")),
        _hashes(proof.get("inclusion_proof")),
    )
    if (
        not isinstance(record, dict)
        or not isinstance(stated, str)
        or not isinstance(event_out, dict)
        or not isinstance(checkpoint, dict)
        or index is None
        or path is None
        or inclusion is None
    ):
        return [
            Problem(
                "format",
                "a record proof needs record, canonical, index, record_proof, event, checkpoint and inclusion_proof",
            )
        ]
    problems: list[Problem] = []
    record_bytes = canonical_json(record)
    if stated.encode() != record_bytes:
        problems.append(Problem("canonical_mismatch", "the 'canonical' text differs from the record's fields"))
    event_text, seq = event_out.get("canonical"), _int(event_out.get("seq"))
    if not isinstance(event_text, str) or seq is None:
        return problems + [Problem("format", "the event needs its canonical text and seq")]
    try:
        event = json.loads(event_text)
    except ValueError:
        return problems + [Problem("format", "the event's canonical text is not JSON")]
    problems += record_in_event(record_bytes, index, path, event)
    try:
        signed = parse_and_verify(checkpoint.get("note", ""), key)
    except CheckpointError as error:
        return problems + [Problem("bad_checkpoint", f"the checkpoint does not verify: {error}")]
    folded = merkle.root_from_inclusion_proof(merkle.leaf_hash(event_text.encode()), seq, signed.size, inclusion)
    if folded is None or folded != signed.root_hash:
        problems.append(
            Problem(
                "event_modified", f"event {seq} is not in the signed checkpoint of size {signed.size}: it was altered"
            )
        )
    return problems
