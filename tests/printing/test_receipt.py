"""GET /api/v1/receipts/{id}.pdf: readable, the signed receipt embedded, verified offline by
`schoolgate receipts verify` from the PDF itself, refused when the attachment is altered."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from sqlalchemy import text

from tests.lookup.people_world import authorisation, batch, cleared_person, new_id_number
from tests.printing.pdfcheck import assert_sound, attachments

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))


def _verify(path: Path, keys: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SCHOOLGATE, "receipts", "verify", str(path), "--public-key", str(keys)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _replace_attachment(pdf: bytes, name: str, data: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    names = writer._root_object["/Names"]["/EmbeddedFiles"]["/Names"]
    for index in range(0, len(names), 2):
        if names[index] == name:
            spec = names[index + 1].get_object()
            spec["/EF"]["/F"].get_object().set_data(data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def test_vendor_receipt_pdf_verifies_offline_and_fails_when_altered(wl, tmp_path):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    answer = (await wl.lookup(school, vendor.credit_code)).json()
    response = await wl.client.get(f"/api/v1/receipts/{answer['receipt_id']}.pdf", headers=school)
    assert response.status_code == 200, response.text
    pdf = response.content
    found = assert_sound(
        pdf,
        [
            "核验回执",
            "机构核验",
            vendor.name,
            vendor.credit_code,
            "在白名单",
            "少儿机器人编程1",
            "签名密钥编号",
            answer["receipt_id"],
        ],
        title="核验回执",
    )
    served = json.loads(attachments(pdf)["receipt.json"])
    assert served == (await wl.client.get(f"/api/v1/receipts/{answer['receipt_id']}", headers=school)).json()
    assert served["key_id"] in found

    keys = tmp_path / "keys.json"
    keys.write_text((await wl.client.get("/api/v1/keys")).text)
    good = tmp_path / "receipt.pdf"
    good.write_bytes(pdf)
    result = _verify(good, keys)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified" in result.stdout

    altered = dict(served, receipt=dict(served["receipt"], answer=dict(served["receipt"]["answer"], status="revoked")))
    bad = tmp_path / "altered.pdf"
    bad.write_bytes(_replace_attachment(pdf, "receipt.json", json.dumps(altered).encode()))
    result = _verify(bad, keys)
    assert result.returncode == 1 and "NOT verified" in result.stdout

    # Another genuine receipt in this page's place: the printed hash gives it away.
    other = (await wl.lookup(school, vendor.credit_code)).json()
    other_served = (await wl.client.get(f"/api/v1/receipts/{other['receipt_id']}", headers=school)).text
    swapped = tmp_path / "swapped.pdf"
    swapped.write_bytes(_replace_attachment(pdf, "receipt.json", other_served.encode()))
    result = _verify(swapped, keys)
    assert result.returncode == 1 and "page_mismatch" in result.stdout

    # Scope: another school, or a malformed id, is a 404 like a missing receipt.
    elsewhere = await wl.school("360104")
    assert (await wl.client.get(f"/api/v1/receipts/{answer['receipt_id']}.pdf", headers=elsewhere)).status_code == 404
    assert (await wl.client.get("/api/v1/receipts/not-a-uuid.pdf", headers=school)).status_code == 404


async def test_batch_receipt_lists_every_entry_masked_and_its_download_is_audited(wl):
    vendor, _ = await wl.approved(region_code="360104")
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    _, first = await cleared_person(wl, vendor, reviewer, consent, name="张堃")
    _, second = await cleared_person(wl, vendor, reviewer, consent, name="𠮷䶮")
    unknown = new_id_number()
    school = await wl.school("360104")
    answer = (
        await batch(
            wl,
            school,
            [
                {"id_number": first, "name": "张堃"},
                {"id_number": second, "name": "𠮷䶮"},
                {"id_number": unknown, "name": "李昇"},
            ],
        )
    ).json()
    response = await wl.client.get(f"/api/v1/receipts/{answer['receipt_id']}.pdf", headers=school)
    assert response.status_code == 200, response.text
    masked = [first[:6] + "********" + first[-4:], second[:6] + "********" + second[-4:]]
    found = assert_sound(
        response.content, ["人员批量核验", "共3人", *masked, "张*", "𠮷*", "可以入校", "未通过核验", vendor.name]
    )
    assert first not in found and second not in found and unknown[:6] + "********" + unknown[-4:] not in found
    assert "李昇" not in found  # a name the school typed for a not-cleared answer is not repeated
    async with wl.db.transaction() as session:
        events = (
            await session.exec(
                text("SELECT object_id, actor_role FROM audit_events WHERE action = 'documents:pdf:download'")
            )
        ).all()
    assert [tuple(e) for e in events] == [(answer["receipt_id"], "school")]
