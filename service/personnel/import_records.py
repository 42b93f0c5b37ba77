"""The canonical form of an imported check record: what an import's audit event commits to.

One results import appends ONE audit event (`personnel:check:import`, object
`check_import`) whose `records_root` is the Merkle root over the canonical forms of the
records it stored, record i being leaf i (service/audit/commitment.py). The form is
made here only, from the values a `background_checks` row (and its person's masked
number) holds, so the import that writes a record and the proof that reads it back
make the same bytes — and a record changed in the database no longer folds to the
root its event states.

Personal data only masked: the ID number as `people.id_number_masked`, no name.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from service.audit import leaf_hash

RECORD_TYPE = "schoolgate.import_record"
RECORD_VERSION = 1
_ENCODER = msgspec.json.Encoder(order="sorted")  # = audit.recorder.canonical_json for plain values


def record_document(
    *,
    import_id: str,
    index: int,
    check_id: str,
    person_id: str,
    id_number_masked: str,
    check_type: str,
    result: str,
    query_date: date,
    reference: str,
    issuing_authority: str,
    valid_until: date | None,
    consent_document_id: str,
) -> dict[str, Any]:
    return {
        "v": RECORD_VERSION,
        "type": RECORD_TYPE,
        "import_id": import_id,
        "index": index,
        "check_id": check_id,
        "person_id": person_id,
        "id_number": id_number_masked,
        "check_type": check_type,
        "result": result,
        "query_date": query_date.isoformat(),
        "reference": reference,
        "issuing_authority": issuing_authority,
        "valid_until": None if valid_until is None else valid_until.isoformat(),
        "consent_document_id": consent_document_id,
    }


def record_canonical(document: dict[str, Any]) -> bytes:
    return _ENCODER.encode(document)


def record_leaf(document: dict[str, Any]) -> bytes:
    return leaf_hash(_ENCODER.encode(document))


_encode_string = msgspec.json.Encoder().encode  # a JSON string literal, as _ENCODER writes one


def record_canonical_from(
    *,
    import_id: str,
    index: int,
    check_id: str,
    person_id: str,
    id_number_masked: str,
    check_type: str,
    result: str,
    query_date: str,
    reference: bytes,
    issuing_authority: bytes,
    valid_until: str | None,
    consent_document_id: str,
) -> bytes:
    """`record_canonical(record_document(...))` without the dict, for the import, which
    makes one per record (tests/personnel/test_import_records.py holds them equal).
    Dates are ISO text; `reference` and `issuing_authority` come as their JSON string
    literals (`json_string`), the only values that may need escaping — the others are
    UUIDs, codes, ISO dates and the masked number."""
    until = "null" if valid_until is None else f'"{valid_until}"'
    return b"".join(
        (
            f'{{"check_id":"{check_id}","check_type":"{check_type}","consent_document_id":"{consent_document_id}",'
            f'"id_number":"{id_number_masked}","import_id":"{import_id}","index":{index},"issuing_authority":'.encode(),
            issuing_authority,
            f',"person_id":"{person_id}","query_date":"{query_date}","reference":'.encode(),
            reference,
            f',"result":"{result}","type":"{RECORD_TYPE}","v":{RECORD_VERSION},"valid_until":{until}}}'.encode(),
        )
    )


def json_string(value: str) -> bytes:
    """A string as the record's canonical form writes it (quoted, escaped)."""
    return _encode_string(value)
