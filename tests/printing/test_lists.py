"""GET /api/v1/public/whitelist.pdf and notices.pdf: no login, typeset, signed, verifiable."""

from __future__ import annotations

import base64
import hashlib
import json

from service.printing import signed
from tests.printing.conftest import RARE_NAMES, hostile
from tests.printing.pdfcheck import assert_sound, attachments


async def _key(client) -> bytes:
    return base64.b64decode((await client.get("/api/v1/keys")).json()["public_key"])


async def test_whitelist_publication(wl, listener):
    rare = await wl.vendor(name=f"南昌{RARE_NAMES.replace(' ', '')}教育有限公司", items=0)
    rare.items.append(
        await wl.item(
            rare, activity="少儿篮球", category_code=4, fee=1500, grade_bands=["lower_primary", "upper_primary"]
        )
    )
    await wl.approved(rare)
    odd = await wl.vendor(name="启明" + hostile(listener.port), items=1)
    await wl.approved(odd)

    response = await wl.client.get("/api/v1/public/whitelist.pdf", params={"region": "360104"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    found = assert_sound(
        pdf,
        [
            "青云谱区教育局",
            "课后服务第三方机构白名单",
            "青云谱教白公〔",
            "体育锻炼",
            "科技活动",
            "少儿篮球",
            "小学低年级、小学高年级",
            "每课时15.00元",
            rare.credit_code,
            "南昌张堃李昇𠮷田王䶮教育有限公司",
            "第1页共1页",
            "SHA-256",
        ],
        title="课后服务第三方机构白名单",
    )
    # The hostile name is text, shown literally; nothing was fetched.
    assert f'<imgsrc="http://127.0.0.1:{listener.port}/x">' in found
    assert 'href="file:///etc/passwd">' in found
    assert listener.hits == []

    # The signed JSON rides inside the PDF, its hash is printed, and it verifies under the service key.
    served = json.loads(attachments(pdf)["whitelist.json"])
    canonical = served["canonical"].encode()
    assert served["sha256"] == hashlib.sha256(canonical).hexdigest() and served["sha256"] in found
    assert signed.verify(served, await _key(wl.client))
    assert {e["credit_code"] for e in served["document"]["entries"]} == {rare.credit_code, odd.credit_code}
    served["document"]["entries"][0]["fee"] += 1
    assert not signed.verify(served, await _key(wl.client))

    # The same list as JSON at the API.
    api = (await wl.client.get("/api/v1/public/whitelist.json", params={"region": "360104"})).json()
    assert signed.verify(api, await _key(wl.client))
    assert api["document"]["entries"] == json.loads(attachments(pdf)["whitelist.json"])["document"]["entries"]


async def test_whitelist_publication_filters_and_bad_input(wl):
    await wl.approved()
    empty = await wl.client.get("/api/v1/public/whitelist.pdf", params={"category": 8})
    assert empty.status_code == 200
    assert_sound(empty.content, ["江西省教育厅", "赣教白公〔", "暂无符合条件的机构"])
    bad = await wl.client.get("/api/v1/public/whitelist.pdf", params={"region": "999999", "category": 9})
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"region", "category"}


async def test_notice_board(wl):
    vendor = await wl.vendor(name="南昌堃昇科技有限公司")
    county, city = await wl.reviewer("360104"), await wl.reviewer("360100")
    app = await wl.to_public_notice(vendor, county, city)
    response = await wl.client.get("/api/v1/public/notices.pdf", params={"region": "360104"})
    assert response.status_code == 200, response.text
    found = assert_sound(
        response.content,
        [
            "课后服务第三方机构进校园公示名单",
            "南昌堃昇科技有限公司",
            vendor.credit_code,
            "公示截止",
            "异议",
            app["number"],
        ],
    )
    served = json.loads(attachments(response.content)["notices.json"])
    assert served["sha256"] in found and signed.verify(served, await _key(wl.client))
    assert [(e["application_id"], e["number"]) for e in served["document"]["entries"]] == [(app["id"], app["number"])]
