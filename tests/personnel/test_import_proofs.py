"""One imported record is proved against its import's one audit event, through HTTP and
offline (`schoolgate audit verify-record`); a record changed in the database, or an
edited proof, fails — while the import's other records still prove."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
from sqlmodel import select

from service.audit.commitment import verify_record_proof
from service.audit.models import AuditEvent
from service.personnel.models import BackgroundCheck, Person
from tests.conftest import plain_dsn
from tests.personnel.conftest import add_person, check_payload
from tests.personnel.test_import import HEADER, as_csv, post_import, sample_rows

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))


async def _imported(client, reviewer, consent, db, n: int = 30) -> list[BackgroundCheck]:
    response = await post_import(client, reviewer, as_csv(sample_rows(n, prefix="PRF")), consent)
    assert response.status_code == 201, response.text
    async with db.transaction() as session:
        return sorted((await session.exec(select(BackgroundCheck))).all(), key=lambda c: c.import_leaf)


async def _proof(client, headers, check_id) -> dict:
    response = await client.get(f"/api/v1/checks/{check_id}/proof", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _cli(tmp_path: Path, proof: dict, vkey: str) -> subprocess.CompletedProcess:
    proof_file, key_file = tmp_path / f"proof-{uuid.uuid4().hex[:6]}.json", tmp_path / "key.txt"
    proof_file.write_text(json.dumps(proof, ensure_ascii=False))
    key_file.write_text(vkey + "\n")
    return subprocess.run(
        [SCHOOLGATE, "audit", "verify-record", str(proof_file), "--public-key", str(key_file)],
        capture_output=True,
        text=True,
    )


async def test_an_imported_record_is_proved_to_its_import_event_and_the_signed_log(
    client, accounts, reviewer, consent, db, owner_url, tmp_path
):
    checks = await _imported(client, reviewer, consent, db)
    auditor = await accounts.headers("auditor", region_code="360100")
    vkey = (await client.get("/api/v1/audit/keys")).json()["vkey"]
    target = checks[17]
    proof = await _proof(client, auditor, target.id)
    assert proof["verified"] is True and proof["problems"] == []
    assert proof["index"] == 17 and proof["record"]["check_id"] == str(target.id)
    assert proof["record"]["reference"] == target.reference and proof["record"]["result"] == "clear"
    event = proof["event"]["event"]
    assert event["action"] == "personnel:check:import" and event["object"]["id"] == str(target.import_id)
    assert event["changes"]["records"]["after"] == 30
    assert len(proof["record_proof"]) == 5  # ceil(log2(30)) hashes for 30 records
    assert verify_record_proof(proof, vkey) == []
    ok = _cli(tmp_path, proof, vkey)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: record 17"), ok.stdout + ok.stderr

    # An edited proof fails offline, whatever it claims of itself.
    edited = copy.deepcopy(proof)
    edited["record"]["result"] = "adverse"
    edited["canonical"] = json.dumps(edited["record"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert [p.code for p in verify_record_proof(edited, vkey)] == ["record_modified"]
    assert _cli(tmp_path, edited, vkey).returncode == 1
    moved = copy.deepcopy(proof)
    moved["index"] = 16
    assert [p.code for p in verify_record_proof(moved, vkey)] == ["record_modified"]

    # The record changed in the database since its import: its proof fails, the others hold.
    conn = await asyncpg.connect(plain_dsn(owner_url))
    try:
        await conn.execute("UPDATE background_checks SET result = 'adverse' WHERE id = $1", target.id)
    finally:
        await conn.close()
    tampered = await _proof(client, auditor, target.id)
    assert tampered["verified"] is False and [p["code"] for p in tampered["problems"]] == ["record_modified"]
    assert tampered["record"]["result"] == "adverse"
    refused = _cli(tmp_path, tampered, vkey)
    assert refused.returncode == 1 and "record_modified" in refused.stdout
    for other in (checks[0], checks[16], checks[29]):
        assert (await _proof(client, auditor, other.id))["verified"] is True

    # Each proof read the record's content: audited.
    async with db.transaction() as session:
        reads = (
            await session.exec(select(AuditEvent.object_id).where(AuditEvent.action == "personnel:check:read"))
        ).all()
    assert str(target.id) in reads


async def test_who_may_have_a_record_proof(client, accounts, vendor, reviewer, consent, db):
    checks = await _imported(client, reviewer, consent, db, n=4)
    path = f"/api/v1/checks/{checks[0].id}/proof"
    assert (await client.get(path, headers=await accounts.headers("admin"))).status_code == 200
    other = await client.get(path, headers=await accounts.headers("auditor", region_code="360200"))
    assert other.status_code == 404 and other.json()["error"]["code"] == "import_record_not_found"
    assert (await client.get(path, headers=reviewer)).status_code == 403
    assert (await client.get(path, headers=vendor.headers)).status_code == 403
    auditor = await accounts.headers("auditor", region_code="360100")
    missing = await client.get(f"/api/v1/checks/{uuid.uuid4()}/proof", headers=auditor)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "import_record_not_found"
    # A check recorded one by one has its own event, and no import to prove it against.
    person = await add_person(client, vendor)
    single = await client.post(
        f"/api/v1/people/{person['person_id']}/checks", headers=reviewer, json=check_payload(consent)
    )
    assert single.status_code == 201, single.text
    response = await client.get(f"/api/v1/checks/{single.json()['id']}/proof", headers=auditor)
    assert response.status_code == 404


async def test_records_whose_text_needs_escaping_are_stored_as_sent_and_prove(client, accounts, reviewer, consent, db):
    """The import writes rows as COPY text and each record's canonical form without its
    dict: a backslash, a quote or `\\N` in a reference or an authority (or a name) must
    reach the database as sent, and fold to the same leaf a proof rebuilds from the row."""
    rows = sample_rows(6, prefix="ESC")
    header = [*HEADER, "出具机关"]
    tricky = ["R\\N", 'R"1', "R\\t2", "R\\\\3", "R 中文", "R'5"]
    for row, reference in zip(rows, tricky):
        row[5] = reference
        row.append('某"市\\公安局')
    rows[0][1] = rows[1][1] = "测\\试"
    response = await post_import(client, reviewer, as_csv(rows, header=header), consent)
    assert response.status_code == 201, response.text
    async with db.transaction() as session:
        checks = (await session.exec(select(BackgroundCheck))).all()
        names = set((await session.exec(select(Person.name))).all())
    assert sorted(c.reference for c in checks) == sorted(tricky)
    assert {c.issuing_authority for c in checks} == {'某"市\\公安局'} and "测\\试" in names
    auditor = await accounts.headers("auditor", region_code="360100")
    for check in checks:
        proof = await _proof(client, auditor, check.id)
        assert proof["verified"] is True, (check.reference, proof["problems"])
        assert proof["record"]["reference"] == check.reference
