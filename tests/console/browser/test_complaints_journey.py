"""A parent's complaint through real clicks in Chromium on a phone: from the form to the
case code, then the public lookup; the county's reviewer finds it in 投诉处理 and takes
it up with a button. Each page is saved as a screenshot."""

from __future__ import annotations

import re

from tests.console.browser.conftest import sign_in
from tests.console.browser.test_journeys import PASSWORD, _account
from tests.orders.conftest import OrdersWorld


async def test_a_parent_complains_on_a_phone_and_the_bureau_takes_it_up(db, api, accounts, open_page):
    school = await OrdersWorld(api, accounts, db).new_school()
    await _account(db, "reviewer", "county.c", name="青云谱区教育局 督导", region_code="360104")

    parent = await open_page(phone=True)
    page = parent.page
    await page.goto(f"{parent.origin}/public/schools/{school.code}/complaint")
    await page.get_by_label("投诉类别").select_option(label="捆绑收费、搭车收费")
    await page.get_by_label("情况描述").fill("课后托管要求同时购买指定教辅，<b>否则不能报名</b>")
    await page.get_by_label("联系方式（可选）").fill("13800000000")
    await parent.shot("complaint-form-phone")
    await page.get_by_role("button", name="提交投诉").click()
    code = (await page.get_by_test_id("case-code").inner_text()).strip()
    assert re.fullmatch(r"TS-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # one column on the phone, nothing wider than the screen
    await parent.shot("complaint-done-phone")
    await page.get_by_role("link", name="查询投诉进展").click()
    status = page.get_by_test_id("case-status")
    await status.wait_for()
    assert "已受理" in await status.inner_text() and "捆绑收费" in await status.inner_text()
    assert "教辅" not in await page.content()
    await parent.shot("complaint-lookup-phone")
    parent.assert_clean()

    bureau = await open_page()
    page = bureau.page
    await sign_in(bureau, "county.c", PASSWORD)
    await page.get_by_role("link", name="投诉处理").click()
    await page.get_by_role("row").filter(has_text=code).get_by_role("link", name="办理").click()
    assert "<b>否则不能报名</b>" in await page.get_by_test_id("description").inner_text()  # shown as text
    await bureau.shot("reviewer-complaint-received")
    await page.get_by_role("button", name="开始调查").click()
    await page.get_by_role("button", name="认定属实").wait_for()
    assert "调查中" in await page.get_by_test_id("summary").inner_text()
    await bureau.shot("reviewer-complaint-investigating")
    bureau.assert_clean()
