"""The school's roster check over HTTP: a CSV or XLSX with the import's columns gives one
answer per row, one signed receipt for the rows looked up, and each bad row's error."""

from __future__ import annotations

from tests.lookup.people_world import authorisation, cleared_person, new_id_number
from tests.personnel.test_import import as_xlsx
from tests.whitelist.conftest import WhitelistWorld


async def _cleared(client, accounts, db):
    wl = WhitelistWorld(client, accounts, db)
    vendor, _ = await wl.approved()
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    _, number = await cleared_person(wl, vendor, reviewer, consent)
    return number


async def test_roster_csv_gives_one_result_per_row_with_the_receipt(client, accounts, db, signed_in):
    number = await _cleared(client, accounts, db)
    browser = await signed_in("school", region_code="360104", school_code="3601040011")
    assert "花名册核验" in (await browser.get("/school/roster")).text
    stranger = new_id_number()
    content = (f"序号,身份证号,姓名,备注\n1,{number},王小明,\n2,{stranger},<b>张三</b>,\n\n4,12345,李四,\n").encode()
    answer = await browser.post("/school/roster", files={"file": ("花名册.csv", content, "text/csv")})
    assert answer.status_code == 200, answer.text
    table = answer.text.split('data-testid="roster-results"')[1]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 3
    assert "第 2 行" in rows[0] and "可以入校" in rows[0] and "有效至" in rows[0]
    assert "第 3 行" in rows[1] and "未通过核验" in rows[1] and "&lt;b&gt;张三&lt;/b&gt;" in rows[1]
    assert "第 5 行" in rows[2] and "未核验" in rows[2] and "身份证号" in rows[2]
    assert number not in answer.text and stranger not in answer.text  # numbers are masked
    receipt = answer.text.split('href="/school/receipts/')[1].split('"')[0]
    pdf = await browser.http.get("/school/receipts/" + receipt)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    history = await browser.get("/school/history")
    assert "花名册" in history.text and receipt in history.text


async def test_roster_xlsx_and_refused_files(client, accounts, db, signed_in):
    number = await _cleared(client, accounts, db)
    browser = await signed_in("school", region_code="360104", school_code="3601040012")
    xlsx = as_xlsx([[number, "王小明"]], header=["身份证号码", "姓名"])
    answer = await browser.post("/school/roster", files={"file": ("花名册.xlsx", xlsx, "application/octet-stream")})
    assert answer.status_code == 200 and "可以入校" in answer.text and "下载核验凭证 (PDF)" in answer.text

    no_name = await browser.post("/school/roster", files={"file": ("a.csv", "身份证号\n1\n".encode(), "text/csv")})
    assert no_name.status_code == 422 and 'id="err-file"' in no_name.text and "缺少必需的列" in no_name.text
    empty = await browser.post("/school/roster", files={"file": ("a.csv", "身份证号,姓名\n".encode(), "text/csv")})
    assert empty.status_code == 422 and "没有人员" in empty.text
    too_many = "身份证号,姓名\n" + "".join(f"{new_id_number()},王小明\n" for _ in range(501))
    refused = await browser.post("/school/roster", files={"file": ("a.csv", too_many.encode(), "text/csv")})
    assert refused.status_code == 422 and "一次最多核验 500 人" in refused.text
    forged = await browser.http.post("/school/roster", files={"file": ("a.csv", xlsx, "text/csv")})
    assert forged.status_code == 403
    vendor = await signed_in("vendor", vendor_credit_code="91360104MA38XK3Q60")
    assert (await vendor.get("/school/roster")).status_code == 404
