"""Proving one imported check record against its import's one audit event.

`prove_imported_check` rebuilds the record's canonical form from its row as it is now
(`import_records`), takes its inclusion proof among the import's leaf hashes
(`check_imports`), and adds the import event with its inclusion proof in the latest
signed checkpoint (`audit.queries.event_with_proof`). The answer is the proof document
`audit.commitment.verify_record_proof` checks offline, plus that check's own verdict
here: a record changed in the database since its import no longer folds to the root
its event signed into the log, and `verified` is false with `record_modified`.

Reading a proof reads the record's content, so it is an audit event
(`personnel:check:read`), as every read of check content is.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from sqlalchemy import text

from service.audit import Signer, event_with_proof, first_seq_of, record_event, record_proof, verify_record_proof
from service.db import Database
from service.errors import Forbidden, NotFound
from service.personnel.import_records import record_canonical, record_document
from service.security import Actor, Role

PROVERS = (Role.AUDITOR, Role.ADMIN)
READ_RECORD = text("""
SELECT c.id, c.person_id, c.check_type, c.result, c.query_date, c.reference, c.issuing_authority, c.valid_until,
       c.consent_document_id, c.import_id, c.import_leaf, p.id_number_masked, i.leaf_hashes
  FROM background_checks c JOIN people p ON p.id = c.person_id JOIN check_imports i ON i.id = c.import_id
 WHERE c.id = :id AND c.import_leaf IS NOT NULL
""")


def _not_found() -> NotFound:
    return NotFound("未找到该导入记录（或无权查看）", code="import_record_not_found")


async def prove_imported_check(db: Database, signer: Signer, actor: Actor, check_id: UUID) -> dict[str, Any]:
    """The proof that this check record is, as stored now, record `index` of its import's
    audit event — for auditors of the import's region and admins (404 otherwise)."""
    if actor.role not in PROVERS:
        raise Forbidden("只有审计人员可以取得导入记录的证明", code="role_not_allowed")
    async with db.transaction() as session:
        # A text() statement runs on the session's connection: sqlmodel's exec() takes only select/DML.
        connection = await session.connection()
        row = (await connection.execute(READ_RECORD.bindparams(id=check_id))).first()
    if row is None:
        raise _not_found()
    document = record_document(
        import_id=str(row.import_id),
        index=row.import_leaf,
        check_id=str(row.id),
        person_id=str(row.person_id),
        id_number_masked=row.id_number_masked,
        check_type=row.check_type,
        result=row.result,
        query_date=row.query_date,
        reference=row.reference,
        issuing_authority=row.issuing_authority,
        valid_until=row.valid_until,
        consent_document_id=str(row.consent_document_id),
    )
    hashes = bytes(row.leaf_hashes)
    leaves = [hashes[i : i + 32] for i in range(0, len(hashes), 32)]
    path = record_proof(leaves, row.import_leaf) if 0 <= row.import_leaf < len(leaves) else []
    seq = await first_seq_of(db, "check_import", str(row.import_id))
    if seq is None:
        raise _not_found()
    try:
        event, checkpoint, inclusion = await event_with_proof(db, signer, actor, seq)
    except NotFound:
        raise _not_found() from None
    async with db.transaction() as session:
        await record_event(
            session,
            actor,
            "personnel:check:read",
            "background_check",
            row.id,
            region_code=event.region_code,
            changes={},
        )
    proof = {
        "record": document,
        "canonical": record_canonical(document).decode(),
        "index": row.import_leaf,
        "record_proof": [h.hex() for h in path],
        "event": {
            "seq": event.seq,
            "leaf_hash": event.leaf_hash.hex(),
            "canonical": event.canonical.decode(),
            "event": event.document,
        },
        "checkpoint": {
            "size": checkpoint.size,
            "root_hash": checkpoint.root_hash.hex(),
            "note": checkpoint.note,
            "created_at": checkpoint.created_at.isoformat(),
        },
        "inclusion_proof": [h.hex() for h in inclusion],
    }
    problems = verify_record_proof(proof, signer.vkey)
    return proof | {"verified": not problems, "problems": [asdict(p) for p in problems]}
