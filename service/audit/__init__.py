"""The audit trail: every change and every sensitive read, appended, never edited."""

from service.audit.background import keep_log_sealed
from service.audit.checkpoint import key_id
from service.audit.commitment import record_proof, verify_record_proof
from service.audit.keys import Signer, load_signer
from service.audit.merkle import CompactTree, inclusion_proofs, leaf_hash, root_from_inclusion_proof, root_from_leaves
from service.audit.publickey import KeyFormatError, parse_public_key
from service.audit.queries import (
    EventFilter,
    StoredEvent,
    event_by_id,
    event_with_proof,
    events_of_objects,
    first_seq_of,
    latest_checkpoint,
    list_events,
    object_history,
    prepare_export,
)
from service.audit.recorder import (
    AUDIT_COLUMNS,
    AUDIT_TABLE,
    build_event,
    canonical_json,
    diff,
    record_event,
    record_events,
)

__all__ = [
    "AUDIT_COLUMNS",
    "AUDIT_TABLE",
    "build_event",
    "canonical_json",
    "CompactTree",
    "diff",
    "event_by_id",
    "event_with_proof",
    "EventFilter",
    "events_of_objects",
    "first_seq_of",
    "inclusion_proofs",
    "keep_log_sealed",
    "key_id",
    "KeyFormatError",
    "latest_checkpoint",
    "leaf_hash",
    "list_events",
    "load_signer",
    "object_history",
    "parse_public_key",
    "prepare_export",
    "record_event",
    "record_events",
    "record_proof",
    "root_from_inclusion_proof",
    "root_from_leaves",
    "Signer",
    "StoredEvent",
    "verify_record_proof",
]
