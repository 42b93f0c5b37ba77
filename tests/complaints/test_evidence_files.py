"""Opening a complaint's evidence files: the bureau in scope only, with the stored type,
as an attachment, `nosniff`, never cached, and every read in the audit trail."""

from __future__ import annotations

import hashlib

from sqlmodel import select

from service.audit.models import AuditEvent
from tests.complaints.conftest import ComplaintsWorld, cw, ordered  # noqa: F401  (fixtures)
from tests.factories import PNG


async def _reads(cw: ComplaintsWorld, complaint_id: str) -> list[AuditEvent]:
    async with cw.db.transaction() as session:
        rows = (
            await session.exec(
                select(AuditEvent).where(
                    AuditEvent.object_id == complaint_id, AuditEvent.action == "complaints:evidence:read"
                )
            )
        ).all()
    return list(rows)


async def test_the_bureau_opens_evidence_and_each_read_is_audited(cw, ordered):
    vendor, entries, person, term, school, order = ordered
    filed = await cw.public_complaint(school.code, category="safety", order_id=order["id"])
    code = filed.json()["case_code"]
    reviewer = await cw.reviewer("360104")
    listed = (await cw.client.get("/api/v1/complaints", headers=reviewer)).json()["items"]
    case = next(c for c in listed if c["case_code"] == code)
    added = await cw.client.post(
        f"/api/v1/complaints/{case['id']}/evidence",
        headers=reviewer,
        files={"file": ('现场"照片".png', PNG, "text/html")},  # the type is the sniffed one, not the claimed
    )
    assert added.status_code == 201, added.text
    evidence = added.json()["evidence"][0]
    url = f"/api/v1/complaints/{case['id']}/evidence/{evidence['id']}"

    opened = await cw.client.get(url, headers=reviewer)
    assert opened.status_code == 200 and opened.content == PNG
    assert opened.headers["content-type"] == "image/png"
    assert opened.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    assert '"' not in opened.headers["content-disposition"].split("''", 1)[1]  # quoted, so no header injection
    assert opened.headers["x-content-type-options"] == "nosniff"
    assert opened.headers["cache-control"] == "no-store"
    assert opened.headers["x-content-sha256"] == hashlib.sha256(PNG).hexdigest()

    inspector = await cw.accounts.headers("auditor", region_code="360104")
    assert (await cw.client.get(url, headers=inspector)).status_code == 200
    reads = await _reads(cw, case["id"])
    assert len(reads) == 2 and all(evidence["sha256"].encode() in r.canonical for r in reads)
    assert {r.actor_role for r in reads} == {"reviewer", "auditor"}

    # Nobody else: another county's reviewer, the school that is complained about, the
    # public (no sign-in, nor the case code), an evidence id of another case.
    far = await cw.reviewer("360102")
    other_case = await cw.public_complaint(school.code, category="conduct")
    assert other_case.status_code == 201
    other_id = next(
        c["id"]
        for c in (await cw.client.get("/api/v1/complaints", headers=reviewer)).json()["items"]
        if c["case_code"] == other_case.json()["case_code"]
    )
    for headers, path in [
        (far, url),
        (school.headers, url),
        ({}, url),
        (reviewer, f"/api/v1/complaints/{other_id}/evidence/{evidence['id']}"),
        (reviewer, f"/api/v1/complaints/{case['id']}/evidence/{case['id']}"),
    ]:
        refused = await cw.client.get(path, headers=headers)
        assert refused.status_code in (401, 403, 404), (path, refused.status_code)
        assert refused.content != PNG
    assert (await cw.client.get(url, headers=far)).json()["error"]["code"] == "evidence_not_found"
    assert len(await _reads(cw, case["id"])) == 2  # refusals read nothing, so nothing is recorded
