"""Decision letters: made from the decision's audit event, numbered per region and year,
verifiable by code while the decision stands, and only for the vendor and those in scope."""

from __future__ import annotations

import json
from datetime import timedelta

from service.timeutil import today_in_china
from tests.printing.conftest import hostile
from tests.printing.pdfcheck import assert_sound, attachments


async def _letter(wl, path: str, headers) -> bytes:
    response = await wl.client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


async def _verify(wl, code: str) -> dict:
    response = await wl.client.get(f"/api/v1/public/letters/{code}")
    assert response.status_code == 200, response.text
    return response.json()


def _code(pdf: bytes) -> str:
    event = attachments(pdf)["decision-event.json"]
    assert json.loads(event)["action"]
    text = assert_sound(pdf, [])
    return text.split("核验码：", 1)[1][:19]


async def test_admission_letter_is_issued_once_and_stands_until_a_later_decision(wl):
    vendor, entries = await wl.approved()
    detail_path = (
        f"/api/v1/applications/{entries[0]['application_id']}/letter.pdf" if "application_id" in entries[0] else None
    )
    application_id = (
        await wl.sql("SELECT application_id FROM whitelist_entries WHERE id = CAST(:id AS uuid)", id=entries[0]["id"])
    ).one()[0]
    path = detail_path or f"/api/v1/applications/{application_id}/letter.pdf"
    pdf = await _letter(wl, path, vendor.headers)
    found = assert_sound(
        pdf,
        [
            "南昌市教育局",
            "南昌教白〔",
            "〕1号",
            "准予纳入课后服务第三方机构白名单决定书",
            vendor.name,
            vendor.credit_code,
            "少儿机器人编程1",
            "每课时30.00元",
            "材料真实齐全，人员核查无异常，同意公示",
            "赣教基字〔2023〕38号",
            "第二条第（二）项",
            "南昌市教育局（市级审核员）",
            "核验码",
            "本文件由系统签名，可扫码核验",
        ],
        title="准予纳入课后服务第三方机构白名单决定书",
    )
    assert "0791" not in found  # no personal phone on a letter
    event = json.loads(attachments(pdf)["decision-event.json"])
    assert event["action"] == "applications:application:conclude_notice"
    assert await _letter(wl, path, vendor.headers) == pdf  # the same file every time

    code = _code(pdf)
    answer = await _verify(wl, code)
    assert answer["status"] == "in_force" and answer["status_text"] == "有效" and answer["kind"] == "admission"
    assert answer["vendor_credit_code"] == vendor.credit_code and answer["number"] in found
    assert (await _verify(wl, code.replace("-", "").lower()))["number"] == answer["number"]
    assert (await wl.client.get("/api/v1/public/letters/0000-0000-0000-0000")).status_code == 404

    # A suspension of one of its entries changes it; the suspension has a letter of its own.
    county = await wl.reviewer("360104")
    assert (
        await wl.adjust(county, action="suspend", reason="收到家长投诉，暂停核查", entry_ids=[entries[0]["id"]])
    ).status_code == 200
    changed = await _verify(wl, code)
    assert changed["status"] == "changed" and changed["status_text"] == "已变更"
    suspension = await _letter(wl, f"/api/v1/whitelist/entries/{entries[0]['id']}/letter.pdf", vendor.headers)
    assert_sound(
        suspension,
        [
            "青云谱区教育局",
            "青云谱教白〔",
            "〕1号",
            "暂停白名单资格决定书",
            "收到家长投诉，暂停核查",
            "青云谱区教育局（县级审核员）",
            "行政复议",
        ],
    )
    suspension_code = _code(suspension)
    assert (await _verify(wl, suspension_code))["status"] == "in_force"

    # A revocation (four eyes) revokes both.
    second = await wl.reviewer("360104")
    request = (
        await wl.adjust(
            county,
            action="revoke",
            reason="查实违规收费",
            entry_ids=[entries[0]["id"]],
            ban_until=(today_in_china() + timedelta(days=365)).isoformat(),
        )
    ).json()
    assert (await wl.confirm(second, request["request"]["id"], reason="同意")).status_code == 200
    assert (await _verify(wl, code))["status_text"] == "已撤销"
    assert (await _verify(wl, suspension_code))["status"] == "revoked"


async def test_return_letter_and_scope(wl, listener):
    vendor = await wl.vendor(name="南昌堃昇教育咨询有限公司" + hostile(listener.port))
    county = await wl.reviewer("360104")
    app = await wl.application(vendor)
    app = await wl.step(app, vendor.headers, "submit")
    path = f"/api/v1/applications/{app['id']}/letter.pdf"
    assert (await wl.client.get(path, headers=vendor.headers)).status_code == 404  # no decision yet
    await wl.step(app, county, "return", "营业执照经营范围未包含教育培训，请补充办学许可证")
    pdf = await _letter(wl, path, vendor.headers)
    found = assert_sound(
        pdf,
        ["进校园服务申请退回补正通知书", "南昌堃昇教育咨询有限公司", "补正意见", "请补充办学许可证", "青云谱教白〔"],
    )
    assert f'<imgsrc="http://127.0.0.1:{listener.port}/x">' in found and listener.hits == []
    assert await _letter(wl, path, county) == pdf  # the reviewer gets the same letter

    other = await wl.vendor()
    assert (await wl.client.get(path, headers=other.headers)).status_code == 404
    elsewhere = await wl.reviewer("360202")
    assert (await wl.client.get(path, headers=elsewhere)).status_code == 404
    school = await wl.school("360104")
    assert (await wl.client.get(path, headers=school)).status_code == 403
