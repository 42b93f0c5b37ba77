"""School pages over HTTP: a vendor check by code and by name, a person check, the
receipt PDF, and the list of my past checks."""

from __future__ import annotations

from tests.lookup.people_world import authorisation, cleared_person, new_id_number
from tests.whitelist.conftest import WhitelistWorld


async def test_vendor_check_by_code_and_name_then_receipt_and_history(client, accounts, db, signed_in):
    wl = WhitelistWorld(client, accounts, db)
    vendor, _ = await wl.approved()
    browser = await signed_in("school", region_code="360104", school_code="3601040001")

    found = await browser.get("/school/check", params={"q": "启明星"})
    assert found.status_code == 200 and vendor.credit_code in found.text

    checked = await browser.post("/school/check", {"credit_code": vendor.credit_code.lower()})
    assert checked.status_code == 200
    assert "在白名单" in checked.text and "少儿机器人编程 1" in checked.text and "30.00 元 每课时" in checked.text
    receipt = checked.text.split('href="/school/receipts/')[1].split('"')[0]
    pdf = await browser.http.get("/school/receipts/" + receipt)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    unknown = "91360104MA38XK3Q60"
    listed = await browser.post("/school/check", {"credit_code": unknown})
    assert listed.status_code == 200 and "未列入" in listed.text
    bad = await browser.post("/school/check", {"credit_code": "91360104MA38XK3Q61"})
    assert bad.status_code == 422 and "field-error" in bad.text

    history = await browser.get("/school/history")
    assert history.text.count("下载核验凭证") == 2 and vendor.credit_code in history.text
    assert "启明星" in history.text  # the vendor's name, read from the signed receipt
    # The school's home (the check form) lists its latest checks below the forms.
    home = (await browser.get("/school/check")).text
    assert "过往核验" in home and home.count("下载核验凭证") == 2 and unknown in home

    other = await signed_in("school", region_code="360104", school_code="3601040002")
    assert (await other.http.get("/school/receipts/" + receipt)).status_code == 404


async def test_person_check_answers_cleared_until_or_not_cleared(client, accounts, db, signed_in):
    wl = WhitelistWorld(client, accounts, db)
    vendor, _ = await wl.approved()
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    _, number = await cleared_person(wl, vendor, reviewer, consent)
    browser = await signed_in("school", region_code="360104", school_code="3601040003")

    cleared = await browser.post("/school/person", {"id_number": number, "name": "王小明"})
    assert cleared.status_code == 200 and "可以入校" in cleared.text and "有效至" in cleared.text
    assert number not in cleared.text  # the number is never echoed into the page
    wrong_name = await browser.post("/school/person", {"id_number": number, "name": "李四"})
    assert "未通过核验" in wrong_name.text
    stranger = await browser.post("/school/person", {"id_number": new_id_number(), "name": "王小明"})
    assert "未通过核验" in stranger.text
    bad = await browser.post("/school/person", {"id_number": "12345", "name": "王小明"})
    assert bad.status_code == 422 and "field-error" in bad.text
    history = await browser.get("/school/history")
    assert history.text.count("不显示姓名和身份证号") == 3 and "王小明" not in history.text
