"""Reading a complaint's evidence files: the bureau in scope only, every read audited.

Evidence is what the bureau gathered while investigating (photos, receipts, statements);
it may show pupils, parents or staff. So it is opened only by the reviewers, inspectors
(auditors) and admins whose region covers the case — not by the filing account, and not
through the public case code, whose status answer is deliberately limited to the state
and the category (docs/complaints.md)."""

from __future__ import annotations

from uuid import UUID

from sqlmodel import select

from service.audit import record_event
from service.complaints.models import Complaint, ComplaintEvidence
from service.db import Database
from service.documents import BlobStorage
from service.errors import NotFound
from service.security import Actor, Role

READERS = (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


def may_read_evidence(actor: Actor, complaint: Complaint) -> bool:
    return actor.role in READERS and actor.covers_region(complaint.region_code)


async def read_evidence_file(
    db: Database, storage: BlobStorage, actor: Actor, complaint_id: UUID, evidence_id: UUID
) -> tuple[ComplaintEvidence, bytes]:
    """One evidence file and its bytes; the read is an audit event (`complaints:evidence:read`),
    committed before the bytes are handed out. Anything outside the actor's reach is 404."""
    async with db.transaction() as session:
        complaint = await session.get(Complaint, complaint_id)
        evidence = (
            await session.exec(
                select(ComplaintEvidence).where(
                    ComplaintEvidence.id == evidence_id, ComplaintEvidence.complaint_id == complaint_id
                )
            )
        ).first()
        if complaint is None or evidence is None or not may_read_evidence(actor, complaint):
            raise NotFound("未找到该证据材料", code="evidence_not_found")
        await record_event(
            session,
            actor,
            "complaints:evidence:read",
            "complaint",
            complaint.id,
            region_code=complaint.region_code,
            evidence=[evidence.sha256],
        )
    return evidence, storage.get(evidence.sha256)
