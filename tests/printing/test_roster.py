"""GET /api/v1/vendors/{id}/people.pdf?school=: the gate's roster sheet, with a receipt of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from tests.lookup.people_world import authorisation, cleared_person, engage
from tests.printing.conftest import hostile
from tests.printing.pdfcheck import assert_sound

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))


def _masked(number: str) -> str:
    return number[:6] + "********" + number[-4:]


async def test_roster_sheet_for_a_school_verifies_and_is_scoped(wl, tmp_path):
    vendor, _ = await wl.approved(region_code="360104")
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    _, cleared = await cleared_person(wl, vendor, reviewer, consent, name="王䶮")
    _, pending = await engage(wl, vendor, name="李昇")
    school = await wl.school("360104", code="3601040077")
    path = f"/api/v1/vendors/{vendor.id}/people.pdf"

    response = await wl.client.get(path, params={"school": "3601040077"}, headers=school)
    assert response.status_code == 200, response.text
    found = assert_sound(
        response.content,
        [
            "进校人员核验名单",
            "青云谱区教育局",
            "3601040077",
            vendor.name,
            vendor.credit_code,
            "在白名单",
            _masked(cleared),
            "王䶮",
            "主讲教师",
            "可以入校",
            _masked(pending),
            "李昇",
            "待核查",
        ],
        title="进校人员核验名单",
    )
    assert cleared not in found and pending not in found

    keys = tmp_path / "keys.json"
    keys.write_text((await wl.client.get("/api/v1/keys")).text)
    sheet = tmp_path / "people.pdf"
    sheet.write_bytes(response.content)
    result = subprocess.run(
        [SCHOOLGATE, "receipts", "verify", str(sheet), "--public-key", str(keys)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    async with wl.db.transaction() as session:
        kinds = (await session.exec(text("SELECT kind, subject FROM lookup_receipts"))).all()
        downloads = (
            await session.exec(text("SELECT object_id FROM audit_events WHERE action = 'documents:pdf:download'"))
        ).all()
    assert [tuple(k) for k in kinds] == [("roster", vendor.credit_code)]
    assert [d[0] for d in downloads] == [vendor.id]

    # Scope: a school of another region, named by a school of this one → 404; so is an
    # unknown school; no school at all → 422; a vendor account may not print sheets.
    await wl.school("360202", code="3602020001")
    other = await wl.client.get(path, params={"school": "3602020001"}, headers=school)
    assert other.status_code == 404 and other.json()["error"]["code"] == "school_not_found"
    assert (await wl.client.get(path, params={"school": "3601049999"}, headers=school)).status_code == 404
    missing = await wl.client.get(path, headers=school)
    assert missing.status_code == 422 and missing.json()["error"]["details"][0]["field"] == "school"
    assert (await wl.client.get(path, params={"school": "3601040077"}, headers=vendor.headers)).status_code == 403
    outsider = await wl.reviewer("360202")
    assert (await wl.client.get(path, params={"school": "3601040077"}, headers=outsider)).status_code == 404


async def test_a_sheet_for_a_region_where_the_vendor_is_not_listed_lets_nobody_in(wl, listener):
    vendor, _ = await wl.approved(await wl.vendor(name="启明" + hostile(listener.port)), region_code="360104")
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    await cleared_person(wl, vendor, reviewer, consent, name="张堃")
    school = await wl.school("360202", code="3602020002")
    response = await wl.client.get(
        f"/api/v1/vendors/{vendor.id}/people.pdf", params={"school": "3602020002"}, headers=school
    )
    assert response.status_code == 200, response.text
    found = assert_sound(response.content, ["受阻", "所列人员均不得入校", "张堃"])
    assert 'href="file:///etc/passwd">' in found and listener.hits == []
    assert found.count("受阻") == 2  # the vendor, and the one row: not "可以入校"


async def test_the_sheets_receipt_prints_as_a_receipt_too(wl):
    vendor, _ = await wl.approved(region_code="360104")
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    _, number = await cleared_person(wl, vendor, reviewer, consent, name="张堃")
    school = await wl.school("360104", code="3601040088")
    sheet = await wl.client.get(
        f"/api/v1/vendors/{vendor.id}/people.pdf", params={"school": "3601040088"}, headers=school
    )
    assert sheet.status_code == 200
    async with wl.db.transaction() as session:
        receipt_id = (await session.exec(text("SELECT id FROM lookup_receipts"))).one()[0]
    response = await wl.client.get(f"/api/v1/receipts/{receipt_id}.pdf", headers=school)
    assert response.status_code == 200, response.text
    assert_sound(response.content, ["进校人员名单核验", _masked(number), "张*", "可以入校"])
