"""Public pages over HTTP, without signing in."""

from __future__ import annotations

from tests.whitelist.conftest import WhitelistWorld


async def test_whitelist_page_filters_and_downloads(client, accounts, db, new_browser):
    wl = WhitelistWorld(client, accounts, db)
    vendor, _ = await wl.approved()
    browser = new_browser()
    page = await browser.get("/public/whitelist")
    assert page.status_code == 200 and vendor.credit_code in page.text and "30.00 元 每课时" in page.text
    assert 'name="viewport"' in page.text
    assert vendor.credit_code not in (await browser.get("/public/whitelist?category=4")).text
    assert vendor.credit_code in (await browser.get("/public/whitelist", params={"q": "机器人"})).text
    assert (await browser.get("/public/whitelist?region=999999")).status_code == 422
    csv = await browser.http.get("/api/v1/public/whitelist?format=csv")
    assert (
        csv.status_code == 200 and vendor.credit_code in csv.text and csv.headers["content-type"].startswith("text/csv")
    )
    assert 'href="/api/v1/public/whitelist.pdf"' in page.text


async def test_notices_page_shows_each_pending_admission_and_how_to_object(client, accounts, db, new_browser):
    wl = WhitelistWorld(client, accounts, db)
    vendor = await wl.vendor(name="南昌<script>alert(1)</script>科技")
    county, city = await wl.reviewer("360104"), await wl.reviewer("360100")
    await wl.to_public_notice(vendor, county, city)
    page = await new_browser().get("/public/notices")
    assert page.status_code == 200
    assert "南昌&lt;script&gt;alert(1)&lt;/script&gt;科技" in page.text and "<script>alert(1)" not in page.text
    assert "公示截止" in page.text and "如何提出异议" in page.text
