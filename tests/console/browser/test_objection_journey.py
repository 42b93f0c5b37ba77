"""A school objects to a notice from the public board, through real clicks: 提出异议,
sign-in and back, the reason, the confirmation; the board then shows the pause, and the
audit events are the ones the API's objection writes."""

from __future__ import annotations

from tests.console.browser.test_journeys import PASSWORD, _account
from tests.console.test_objection_pages import REASON, _objection_events
from tests.whitelist.conftest import WhitelistWorld


async def test_a_school_objects_from_the_notice_board(db, api, accounts, open_page):
    wl = WhitelistWorld(api, accounts, db)
    vendor = await wl.vendor(name="南昌星火科创教育有限公司")
    app = await wl.to_public_notice(vendor, await wl.reviewer("360104"), await wl.reviewer("360100"))
    await _account(
        db, "school", "school.o", name="青云谱区实验小学 王老师", region_code="360104", school_code="2136010401"
    )

    school = await open_page(phone=True)
    page = school.page
    await page.goto(school.origin + "/public/notices")
    card = page.get_by_role("region", name=vendor.name)
    await card.get_by_text(app["number"]).wait_for()
    await card.get_by_role("link", name=f"对{vendor.name}提出异议").click()
    await page.get_by_label("登录名").fill("school.o")  # signed out: sign-in first, then back
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.get_by_label("异议理由").wait_for()
    assert app["number"] in await page.content()
    await page.get_by_label("异议理由").fill(REASON)
    await school.shot("objection-form")
    await page.get_by_role("button", name="提交异议").click()
    await page.locator("#filed").wait_for()
    assert "公示已暂停" in await page.content()
    await school.shot("objection-filed")
    await page.get_by_role("link", name="返回入校公示").click()
    await page.get_by_role("region", name=vendor.name).get_by_text("因异议暂停公示").wait_for()
    await school.shot("public-notices-paused")
    school.assert_clean()

    events = await _objection_events(wl, app["id"])
    assert [e[0] for e in events] == ["applications:objection:file", "applications:application:pause_for_objection"]
    assert events[0][1:] == ("school", REASON)
