"""Auditor pages over HTTP: the stream with filters, an object's history, the
checkpoint page and the export bundle."""

from __future__ import annotations

from tests.applications.conftest import World


async def test_auditor_reads_the_stream_and_an_applications_history(client, accounts, db, signed_in):
    world = World(client, accounts, db)
    vendor = await world.vendor()
    county = await world.reviewer("360104")
    app = await world.step(await world.application(vendor), vendor.headers, "submit")
    await world.step(app, county, "return", "缺少<b>办学许可证</b>")
    auditor = await signed_in("auditor", region_code="360100")

    stream = await auditor.get("/audit")
    assert stream.status_code == 200 and "applications:" in stream.text
    only = await auditor.get("/audit", params={"action": "applications:", "role": "reviewer"})
    assert "缺少&lt;b&gt;办学许可证&lt;/b&gt;" in only.text and "vendors:vendor:register" not in only.text
    # Each event reads in words: its domain, the actor's role, the object's kind and short id.
    row = only.text.split("<tbody>")[1].split("</tr>")[0]
    assert "入校申请" in row and "审核员" in row and f"{app['id'][:8]}…" in row and app["id"] in row  # full id in title
    assert (await auditor.get("/audit", params={"since": "not-a-date"})).status_code == 422

    history = await auditor.get(f"/audit/objects/application/{app['id']}")
    assert history.status_code == 200 and "stage" in history.text and "returned" in history.text
    assert '<div class="name">入校申请</div>' in history.text and "· 审核员" in history.text
    missing = await auditor.get("/audit/objects/application/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404

    checkpoint = await auditor.get("/audit/checkpoint")
    assert checkpoint.status_code == 200 and "schoolgate audit verify" in checkpoint.text
    bundle = await auditor.http.get("/audit/export")
    assert bundle.status_code == 200 and bundle.text.count("\n") > 3

    elsewhere = await signed_in("auditor", region_code="360400")
    assert (await elsewhere.get(f"/audit/objects/application/{app['id']}")).status_code == 404
