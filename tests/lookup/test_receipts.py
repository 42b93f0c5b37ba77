"""Receipts: signed, stored before the answer, readable by the right people, verifiable
offline, and failing verification when any field is altered."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from service.audit.log import make_checkpoint
from service.lookup import receipts
from service.lookup.receipts import parse_public_key, verify

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))


async def _receipt(wl, headers, receipt_id: str) -> dict:
    response = await wl.client.get(f"/api/v1/receipts/{receipt_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_receipt_holds_query_answer_time_school_and_checkpoint(wl, app_signer):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    checkpoint = await make_checkpoint(wl.db, app_signer)
    assert checkpoint is not None and checkpoint.size > 0
    answer = (await wl.lookup(school, vendor.credit_code, as_of="2026-11-01T08:00:00+08:00")).json()
    served = await _receipt(wl, school, answer["receipt_id"])
    receipt = served["receipt"]
    assert receipt["query"] == {"credit_code": vendor.credit_code, "as_of": "2026-11-01T08:00:00+08:00"}
    assert receipt["answer"] == {k: answer[k] for k in ("credit_code", "name", "status", "services")}
    assert receipt["as_of"] == "2026-11-01T00:00:00+00:00" and receipt["time"] == answer["checked_at"]
    assert receipt["school"]["region_code"] == "360104" and receipt["caller"]["role"] == "school"
    assert receipt["audit_checkpoint_size"] == checkpoint.size
    assert served["canonical"] == json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    keys = (await wl.client.get("/api/v1/keys")).json()
    assert served["public_key"] == keys["public_key"] and served["key_id"] == keys["key_id"]
    assert verify(served, parse_public_key(json.dumps(keys))) == []


ALTERATIONS = [
    (("answer", "status"), "revoked"),
    (("answer", "name"), "另一家机构"),
    (("query", "credit_code"), "91360104MA00000001"),
    (("as_of",), "2026-01-01T00:00:00+00:00"),
    (("time",), "2026-01-01T00:00:00+00:00"),
    (("school", "id"), "00000000-0000-4000-8000-000000000000"),
    (("audit_checkpoint_size",), 999),
    (("region_code",), "360102"),
    (("caller", "role"), "admin"),
]


async def test_any_altered_field_fails_verification(wl):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    served = await _receipt(wl, school, (await wl.lookup(school, vendor.credit_code)).json()["receipt_id"])
    key = parse_public_key((await wl.client.get("/api/v1/keys")).text)
    assert verify(served, key) == []
    for path, value in ALTERATIONS:
        altered = copy.deepcopy(served)
        target = altered["receipt"]
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        altered["canonical"] = json.dumps(altered["receipt"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert [p.code for p in verify(altered, key)] == ["bad_signature"], path
    altered = copy.deepcopy(served)
    altered["signature"] = altered["signature"][:-4] + ("AAA=" if altered["signature"][-4:] != "AAA=" else "BBB=")
    assert [p.code for p in verify(altered, key)] == ["bad_signature"]


async def test_a_group_signature_binds_each_receipt_to_its_place(wl, app_signer):
    """Concurrent lookups are signed together (one signature over their Merkle root); each
    receipt verifies alone with its proof, and only in its own place."""
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    replies = await asyncio.gather(*(wl.lookup(school, vendor.credit_code) for _ in range(8)))
    served = [await _receipt(wl, school, r.json()["receipt_id"]) for r in replies]
    key = parse_public_key((await wl.client.get("/api/v1/keys")).text)
    assert all(verify(s, key) == [] for s in served)
    groups: dict[str, list[dict]] = {}
    for s in served:
        groups.setdefault(s["signature"], []).append(s)
    shared = max(groups.values(), key=len)
    assert len(shared) > 1 and all(s["signed_group"]["size"] >= len(shared) for s in shared)
    first, second = shared[0], shared[1]
    for field in ("index", "path"):
        altered = copy.deepcopy(first)
        altered["signed_group"][field] = second["signed_group"][field]
        assert [p.code for p in verify(altered, key)] == ["bad_signature"], field
    altered = copy.deepcopy(first)
    altered["signed_group"]["size"] += 1
    assert [p.code for p in verify(altered, key)] == ["bad_signature"]
    altered = copy.deepcopy(first)
    del altered["signed_group"]  # taken for a receipt signed alone: the signature is not over it
    assert [p.code for p in verify(altered, key)] == ["bad_signature"]


def test_receipts_signed_one_by_one_before_groups_still_verify(app_signer):
    document = {"v": receipts.RECEIPT_VERSION, "type": receipts.RECEIPT_TYPE, "receipt_id": "r", "answer": {}}
    canonical = receipts.canonical(document)
    signature = app_signer.private_key.sign(receipts.SIGNING_PREFIX + canonical)
    served = receipts.served(document, canonical, signature, app_signer.name, app_signer.public_key_raw, None)
    assert "signed_group" not in served
    assert verify(served, app_signer.public_key_raw) == []
    served["signature"] = receipts.served(
        document, canonical, app_signer.private_key.sign(b"other"), app_signer.name, app_signer.public_key_raw, None
    )["signature"]
    assert [p.code for p in verify(served, app_signer.public_key_raw)] == ["bad_signature"]


async def test_cli_verifies_offline_and_rejects_tampering(wl, tmp_path):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    served = await _receipt(wl, school, (await wl.lookup(school, vendor.credit_code)).json()["receipt_id"])
    good, key_file = tmp_path / "receipt.json", tmp_path / "keys.json"
    good.write_text(json.dumps(served, ensure_ascii=False))
    key_file.write_text((await wl.client.get("/api/v1/keys")).text)

    ok = subprocess.run(
        [SCHOOLGATE, "receipts", "verify", str(good), "--public-key", str(key_file)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "verified" in ok.stdout

    tampered = copy.deepcopy(served)
    tampered["receipt"]["answer"]["status"] = "revoked"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered, ensure_ascii=False))
    refused = subprocess.run(
        [SCHOOLGATE, "receipts", "verify", str(bad), "--public-key", str(key_file)], capture_output=True, text=True
    )
    assert refused.returncode == 1
    assert "canonical_mismatch" in refused.stdout and "bad_signature" in refused.stdout

    # Without --public-key the embedded key is used, and the verifier says so.
    embedded = subprocess.run([SCHOOLGATE, "receipts", "verify", str(good)], capture_output=True, text=True)
    assert embedded.returncode == 0 and "embedded" in embedded.stderr
    # Another key: not verified.
    other = tmp_path / "other.pem"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    wrong = subprocess.run(
        [SCHOOLGATE, "receipts", "verify", str(good), "--public-key", str(other)], capture_output=True, text=True
    )
    assert wrong.returncode == 1 and "bad_signature" in wrong.stdout


async def test_who_may_read_a_receipt(wl):
    vendor, _ = await wl.approved()
    school = await wl.school("360104", code="3601040001")
    same_school = await wl.accounts.headers("school", region_code="360104", school_code="3601040001")
    other_school = await wl.school("360104")
    receipt_id = (await wl.lookup(school, vendor.credit_code)).json()["receipt_id"]
    allowed = [
        school,
        same_school,
        await wl.reviewer("360104"),
        await wl.reviewer("360100"),
        await wl.accounts.headers("auditor", region_code="360100"),
        await wl.accounts.headers("admin"),
    ]
    for headers in allowed:
        assert (await wl.client.get(f"/api/v1/receipts/{receipt_id}", headers=headers)).status_code == 200
    for headers in [other_school, await wl.reviewer("360102")]:
        response = await wl.client.get(f"/api/v1/receipts/{receipt_id}", headers=headers)
        assert response.status_code == 404 and response.json()["error"]["code"] == "receipt_not_found"
    assert (await wl.client.get(f"/api/v1/receipts/{receipt_id}", headers=vendor.headers)).status_code == 403


async def test_receipts_cannot_be_edited(wl):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    assert (await wl.lookup(school, vendor.credit_code)).status_code == 200
    with pytest.raises(DBAPIError, match="cannot be changed"):
        await wl.sql("UPDATE lookup_receipts SET canonical = '{}'::bytea")
