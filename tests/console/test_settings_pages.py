"""Region settings through the reviewer's page: read with sources, set, refuse bad values."""

from __future__ import annotations


async def test_reviewer_reads_and_sets_the_regions_settings(signed_in, client, accounts):
    browser = await signed_in("reviewer", region_code="360104")
    page = await browser.get("/reviewer/settings")
    assert page.status_code == 200 and "notice_days" in page.text and "系统默认" in page.text
    bad = await browser.post("/reviewer/settings", {"region": "360104", "notice_days": "99"})
    assert bad.status_code == 422 and "field-error" in bad.text
    saved = await browser.post(
        "/reviewer/settings", {"region": "360104", "notice_days": "7", "city_review_required": "no"}
    )
    assert saved.status_code == 200 and "设置已保存" in saved.text and "本地区" in saved.text
    api = await accounts.headers("reviewer", region_code="360104")
    read = (await client.get("/api/v1/regions/360104/settings", headers=api)).json()
    assert read["notice_days"] == 7 and read["city_review_required"] is False
    elsewhere = await browser.post("/reviewer/settings", {"region": "360402", "notice_days": "7"})
    assert elsewhere.status_code == 403
