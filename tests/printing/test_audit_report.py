"""GET /api/v1/audit/report.pdf: events in order in Chinese, the checkpoint and root hash,
the export bundle attached, verified offline by `schoolgate audit verify` from the PDF."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.printing.pdfcheck import assert_sound, attachments

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))


def _verify(path: Path, key: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SCHOOLGATE, "audit", "verify", str(path), "--public-key", str(key)],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_report_of_one_application_verifies_offline(wl, accounts, tmp_path):
    vendor = await wl.vendor(name="南昌堃昇科技有限公司")
    county = await wl.reviewer("360104")
    app = await wl.application(vendor)
    app = await wl.step(app, vendor.headers, "submit")
    await wl.step(app, county, "return", "请补充办学许可证")
    auditor = await accounts.headers("auditor", region_code="360100")

    response = await wl.client.get(
        "/api/v1/audit/report.pdf", params={"object": f"application:{app['id']}"}, headers=auditor
    )
    assert response.status_code == 200, response.text
    pdf = response.content
    found = assert_sound(
        pdf,
        [
            "审计报告",
            "南昌市教育局",
            "入校申请：创建",
            "入校申请：提交申请",
            "入校申请：退回修改",
            "机构",
            "县级审核员",
            "阶段：已提交待受理→退回修改",
            "理由：请补充办学许可证",
            "根哈希",
        ],
        title="审计报告",
    )
    bundle = attachments(pdf)["audit-bundle.ndjson"]
    header = json.loads(bundle.splitlines()[0])
    checkpoint = next(json.loads(line) for line in bundle.splitlines() if b'"checkpoint' in line)
    assert header and checkpoint

    key = tmp_path / "key.txt"
    key.write_text((await wl.client.get("/api/v1/audit/keys")).json()["vkey"] + "\n")
    report = tmp_path / "report.pdf"
    report.write_bytes(pdf)
    result = _verify(report, key)
    assert result.returncode == 0, result.stdout + result.stderr
    size = int(result.stdout.split("size ")[1].split()[0]) if "size " in result.stdout else None
    assert size is None or str(size) in found


async def test_report_by_region_and_dates_and_bad_input(wl, accounts, tmp_path):
    await wl.vendor(region_code="360104")
    await wl.vendor(region_code="360402")
    auditor = await accounts.headers("auditor", region_code="360100")
    response = await wl.client.get(
        "/api/v1/audit/report.pdf",
        params={"region": "360104", "from": "2026-01-01", "to": "2099-12-31"},
        headers=auditor,
    )
    assert response.status_code == 200, response.text
    found = assert_sound(response.content, ["机构：注册", "资质材料：上传", "青云谱区"])
    assert "九江" not in found  # 360402 is another city's county: outside the region asked for
    key = tmp_path / "key.txt"
    key.write_text((await wl.client.get("/api/v1/audit/keys")).json()["vkey"] + "\n")
    report = tmp_path / "report.pdf"
    report.write_bytes(response.content)
    assert _verify(report, key).returncode == 0

    for params, field in (
        ({}, "object"),
        ({"object": "application"}, "object"),
        ({"region": "999999"}, "region"),
        ({"region": "360104", "from": "2026-13-01"}, "from"),
        ({"region": "360104", "from": "2026-09-02", "to": "2026-09-01"}, "to"),
    ):
        bad = await wl.client.get("/api/v1/audit/report.pdf", params=params, headers=auditor)
        assert bad.status_code == 422, (params, bad.text)
        assert bad.json()["error"]["details"][0]["field"] == field
    vendor = await wl.vendor()
    assert (
        await wl.client.get("/api/v1/audit/report.pdf", params={"region": "360104"}, headers=vendor.headers)
    ).status_code == 403
