"""The order loop through real clicks in Chromium: a school orders from the whitelist, the
vendor accepts, a suspension shows as 受阻 with its cause, the school fills its timetable
(a row added by HTMX), files and publishes it, a parent reads it on a phone, and the
county's reviewer opens the dashboard. Each page is saved as a screenshot."""

from __future__ import annotations

from tests.console.browser.conftest import sign_in
from tests.console.browser.test_journeys import PASSWORD, _account
from tests.orders.conftest import OrdersWorld


async def _fill_row(row, weekday: str, start: str, end: str, category: str, content: str, teacher: str) -> None:
    await row.get_by_label("上课日").select_option(label=weekday)
    await row.get_by_label("开始时间").fill(start)
    await row.get_by_label("结束时间").fill(end)
    await row.get_by_label("活动类别").select_option(label=category)
    await row.get_by_label("内容").fill(content)
    await row.get_by_label("地点").fill("各班教室")
    await row.get_by_label("教师").fill(teacher)
    await row.get_by_label("人数").fill("40")


async def test_a_school_orders_publishes_and_the_bureau_sees_it(db, api, accounts, open_page):
    ow = OrdersWorld(api, accounts, db)
    vendor, entries = await ow.approved()
    await ow.cleared_person(vendor, name="王小明")
    _term, school = await ow.term(), await ow.new_school()
    await _account(db, "school", "school.o", name="实验小学 教务处", region_code="360104", school_code=school.code)
    await _account(db, "vendor", "vendor.o", name="启明星 管理员", vendor_credit_code=vendor.credit_code)
    await _account(db, "reviewer", "county.o", name="青云谱区教育局 督导", region_code="360104")

    # --- the school orders an item of the whitelist --------------------------------------
    clerk = await open_page()
    page = clerk.page
    await sign_in(clerk, "school.o", PASSWORD)
    await page.get_by_role("link", name="点单", exact=True).click()
    await page.get_by_text("本学期尚未点单").wait_for()
    await clerk.shot("school-orders-empty")
    await page.get_by_role("link", name="新建点单").click()
    await page.get_by_label("服务项目").select_option(index=1)
    await page.get_by_role("button", name="选择该项目").click()
    await page.get_by_label("周二").check()
    await page.get_by_label("周四").check()
    await page.get_by_label("开始时间").fill("15:40")
    await page.get_by_label("结束时间").fill("17:10")
    await page.get_by_label("上课地点").fill("科学教室")
    await page.get_by_label("班额（人）").fill("25")
    await page.get_by_label("小学高年级").check()
    await page.get_by_label("王**", exact=False).check()
    await clerk.shot("school-order-form")
    await page.get_by_role("button", name="提交点单").click()
    await page.get_by_test_id("message").get_by_text("等待机构确认").wait_for()
    await clerk.shot("school-orders-placed")
    clerk.assert_clean()

    # --- the vendor accepts ---------------------------------------------------------------
    office = await open_page()
    page = office.page
    await sign_in(office, "vendor.o", PASSWORD)
    await page.get_by_role("link", name="收到的订单").click()
    await office.shot("vendor-orders")
    await page.get_by_role("button", name="接单").click()
    await page.get_by_test_id("orders").get_by_text("机构已接单").wait_for()
    await office.shot("vendor-orders-accepted")
    office.assert_clean()

    # --- a suspension blocks it; the school reads the cause --------------------------------
    county = await ow.reviewer("360104")
    item_id = (await ow.orders(school))[0]["service_item_id"]
    ordered = next(e for e in entries if e["service_item_id"] == item_id)
    assert (
        await ow.adjust(county, action="suspend", reason="家长反映收费问题，暂停待查", entry_ids=[ordered["id"]])
    ).status_code == 200
    page = clerk.page
    await page.get_by_role("link", name="点单", exact=True).click()
    await page.get_by_test_id("orders").get_by_text("受阻").wait_for()
    await page.get_by_text("该服务项目在本地区白名单中已被暂停").wait_for()
    await clerk.shot("school-orders-blocked")

    # --- the timetable: rows, a row added by HTMX, the numbers, file and publish -----------
    await page.get_by_role("link", name="课后服务安排表").click()
    rows = page.locator("#sessions-body tr")
    assert await rows.count() == 2
    await _fill_row(rows.nth(0), "周一", "15:40", "16:30", "辅导答疑", "作业辅导", "班主任")
    await _fill_row(rows.nth(1), "周一", "16:30", "17:30", "科技活动", "科学小实验", "科学组 刘老师")
    await page.get_by_role("button", name="添加一行").click()
    await rows.nth(2).wait_for()
    await _fill_row(rows.nth(2), "周三", "15:40", "16:30", "辅导答疑", "作业辅导", "班主任")
    await page.get_by_role("button", name="保存安排表").click()
    await page.get_by_test_id("message").get_by_text("已保存").wait_for()
    await page.get_by_text("周三兴趣类活动时间占 0%，须不少于 50%").wait_for()
    await clerk.shot("school-timetable-numbers")
    await page.get_by_role("button", name="报县级教育行政部门备案").click()
    await page.get_by_test_id("message").get_by_text("周三没有兴趣类活动").wait_for()
    await clerk.shot("school-timetable-refused")
    # The refusal is a 422 page, which Chromium logs as a failed resource: that one only.
    assert clerk.errors == ["Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]
    clerk.errors.clear()
    await page.get_by_role("button", name="添加一行").click()
    await _fill_row(rows.nth(3), "周三", "16:30", "17:30", "体育锻炼", "校园足球", "体育组 李老师")
    await page.get_by_role("button", name="保存安排表").click()
    await page.get_by_test_id("message").get_by_text("已保存").wait_for()
    await page.get_by_role("button", name="报县级教育行政部门备案").click()
    await page.get_by_role("button", name="向家长公布").click()
    await page.get_by_test_id("message").get_by_text("已向家长公布").wait_for()
    await clerk.shot("school-timetable-published")
    public_href = await page.get_by_role("link", name="查看公开页面").get_attribute("href")
    clerk.assert_clean()

    # --- a parent reads it on a phone, and the PDF is there --------------------------------
    parent = await open_page(phone=True)
    await parent.page.goto(parent.origin + public_href)
    await parent.page.get_by_text("校园足球").wait_for()
    await parent.shot("public-timetable")
    pdf = await parent.page.get_by_role("link", name="下载安排表 (PDF)").get_attribute("href")
    answer = await parent.page.context.request.get(parent.origin + pdf)
    assert answer.ok and (await answer.body()).startswith(b"%PDF")
    parent.assert_clean()

    # --- the county's dashboard ---------------------------------------------------------------
    bureau = await open_page()
    page = bureau.page
    await sign_in(bureau, "county.o", PASSWORD)
    await page.get_by_role("link", name="监管看板").click()
    await page.get_by_test_id("attention").get_by_text("该服务项目在本地区白名单中已被暂停").wait_for()
    await bureau.shot("supervision-dashboard")
    bureau.assert_clean()
