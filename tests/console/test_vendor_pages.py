"""Vendor pages over HTTP: register, upload a document, add an item, add staff,
draft and submit an application, all through the forms."""

from __future__ import annotations

import re

from tests.factories import PDF, credit_code
from tests.personnel.conftest import new_id_number
from tests.whitelist.conftest import WhitelistWorld


async def test_vendor_registers_uploads_lists_and_applies(signed_in, client):
    code = credit_code("360104")
    browser = await signed_in("vendor", vendor_credit_code=code)
    first = await browser.get("/vendor")
    assert first.status_code == 200 and "机构登记" in first.text and code in first.text
    assert '<select id="f-region_code" name="region_code" required>' in first.text

    refused = await browser.post("/vendor/register", {"name": "", "org_type": "enterprise", "region_code": "360104"})
    assert refused.status_code == 422 and "field-error" in refused.text
    done = await browser.post(
        "/vendor/register",
        {
            "name": "南昌<i>启明</i>科创教育有限公司",
            "org_type": "enterprise",
            "region_code": "360104",
            "address": "南昌市青云谱区洪都中大道 1 号",
            "legal_representative": "陈建国",
            "contact_name": "刘晓燕",
            "contact_phone": "0791-88123456",
            "public_welfare_pledge": "yes",
        },
    )
    assert done.status_code == 303
    assert "南昌&lt;i&gt;启明&lt;/i&gt;科创" in (await browser.get("/vendor")).text

    await browser.get("/vendor/documents")
    form = {
        "doc_type": "business_license",
        "number": "NC-2024-001",
        "issuer": "南昌市市场监督管理局",
        "valid_from": "2024-01-01",
        "valid_until": "2030-12-31",
        "_csrf_token": browser.token,
    }
    wrong = await browser.http.post(
        "/vendor/documents", data=form, files={"file": ("licence.pdf", b"not a pdf at all", "application/pdf")}
    )
    assert wrong.status_code == 415 and "仅支持" in wrong.text
    assert 'id="err-file"' in wrong.text  # the file check's words sit next to the file field
    uploaded = await browser.http.post(
        "/vendor/documents", data=form, files={"file": ("licence.pdf", PDF, "application/pdf")}
    )
    assert uploaded.status_code == 303, uploaded.text
    assert "NC-2024-001" in (await browser.get("/vendor/documents")).text

    await browser.get("/vendor/items")
    bad_fee = await browser.post(
        "/vendor/items",
        {
            "category_code": "2",
            "activity": "机器人",
            "description": "x",
            "grade_bands": "upper_primary",
            "fee": "3O",
            "fee_unit": "per_session",
            "max_class_size": "30",
            "venue": "教室",
        },
    )
    assert bad_fee.status_code == 422 and "收费请填写金额" in bad_fee.text
    added = await browser.post(
        "/vendor/items",
        {
            "category_code": "2",
            "activity": "少儿机器人编程",
            "description": "积木机器人",
            "grade_bands": "upper_primary",
            "fee": "30",
            "fee_unit": "per_session",
            "max_class_size": "30",
            "venue": "学校科学教室",
        },
    )
    assert added.status_code == 303
    listed = await browser.get("/vendor/items")
    assert "30.00 元 每课时" in listed.text and "未列入" in listed.text  # not admitted yet
    assert "暂无服务项目在白名单上" in (await browser.get("/vendor")).text

    await browser.get("/vendor/people")
    number = new_id_number()
    staff = await browser.post(
        "/vendor/people", {"id_number": number, "name": "王小明", "role": "lead_instructor", "start_date": "2025-09-01"}
    )
    assert staff.status_code == 303
    people = await browser.get("/vendor/people")
    assert "王小明" in people.text and number not in people.text and "待核查" in people.text
    assert "共 1 人" in people.text

    page = await browser.get("/vendor/applications")
    # The region is chosen by name, the vendor's own preselected (no code to type).
    assert '<option value="360104" selected>青云谱区</option>' in page.text
    assert '<optgroup label="南昌市"><option value="360100" >南昌市（全市）</option>' in page.text
    items = re.findall(r'name="service_item_ids" value="([^"]+)"', page.text)
    docs = re.findall(r'name="document_ids" value="([^"]+)"', page.text)
    created = await browser.post(
        "/vendor/applications", {"region_code": "360104", "service_item_ids": items, "document_ids": docs}
    )
    assert created.status_code == 303
    detail = await browser.get(created.headers["location"])
    assert 'value="submit"' in detail.text
    version = re.search(r'name="version" value="(\d+)"', detail.text).group(1)
    submitted = await browser.post(created.headers["location"] + "/act", {"action": "submit", "version": version})
    assert submitted.status_code == 303
    after = await browser.get(created.headers["location"])
    assert "已提交待受理" in after.text and 'value="withdraw"' in after.text


async def test_vendor_sees_where_each_item_stands_on_the_whitelist(client, accounts, db, signed_in):
    wl = WhitelistWorld(client, accounts, db)
    vendor, entries = await wl.approved()
    browser = await signed_in("vendor", vendor_credit_code=vendor.credit_code)

    overview = await browser.get("/vendor")
    summary = overview.text.split('data-testid="summary"')[1].split("基本信息")[0]
    assert '<div class="answer"><span class="chip chip-green">在白名单</span></div>' in summary
    assert f"在白名单的服务项目 {len(entries)} 项" in summary

    await wl.item(vendor, activity="校园篮球", category_code=4)  # added after the admission
    items = await browser.get("/vendor/items")
    standing = re.findall(r'<td data-testid="standing">(.*?)</td>', items.text, re.S)
    assert len(standing) == len(entries) + 1
    assert sum("青云谱区" in s and "在白名单" in s and "至 " in s for s in standing) == len(entries)
    assert "未列入" in standing[-1] and "公示期满后列入" in standing[-1]
