"""Webhooks, ratings and complaint evidence through real clicks in Chromium: a school's
clerk registers a webhook (refused, then the secret once) and reads its delivery log;
the clerk rates an order and prints pupils' codes; a parent rates on a phone with one;
the county's reviewer closes the re-review the ratings opened; and the reviewer attaches
evidence to a complaint and opens it from the case page. Each page is a screenshot."""

from __future__ import annotations

import asyncio
import re
import struct
import zlib

import pytest

from service.orders import order_standings
from service.webhooks.fanout import fanout_round
from tests.console.browser.conftest import ARTIFACTS, sign_in
from tests.console.browser.test_journeys import PASSWORD, _account
from tests.ratings.conftest import RatingsWorld
from tests.webhooks.conftest import LOCAL
from tests.webhooks.test_webhooks import suspend


@pytest.fixture
def live_settings() -> dict:
    return LOCAL  # the allow-list admits a receiver on 127.0.0.1


def _png(width: int = 240, height: int = 120) -> bytes:
    """A real, visible PNG (a blue block), so the opened evidence shows in the browser."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes((11, 79, 156)) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def _world(db, api, accounts):
    rw = RatingsWorld(api, accounts, db)
    vendor, entries = await rw.approved()
    person = await rw.cleared_person(vendor, name="王小明")
    term, school = await rw.term(starts_in=-100, days=105), await rw.new_school()  # ends in five days
    order = (await rw.place(school, rw.order_payload(term, entries[0], [person], class_size=10))).json()
    assert (await rw.order_act(order, vendor.headers, "accept")).status_code == 200
    await fanout_round(db, order_standings)  # the setup's own changes go before anyone subscribes
    await _account(db, "school", "school.w", name="实验小学 教务处", region_code="360104", school_code=school.code)
    await _account(db, "reviewer", "county.w", name="青云谱区教育局 督导", region_code="360104")
    return rw, entries, school, order


async def test_a_school_registers_a_webhook_rates_and_prints_codes_and_a_parent_rates(db, api, accounts, open_page):
    rw, entries, school, order = await _world(db, api, accounts)

    clerk = await open_page()
    page = clerk.page
    await sign_in(clerk, "school.w", PASSWORD)
    await page.get_by_role("link", name="推送通知").click()
    await page.get_by_text("本校尚未登记推送地址").wait_for()
    await page.get_by_label("接收地址（网址）").fill("https://hooks.elsewhere.cn/in")
    clerk.expect_refusals(422)
    await page.get_by_role("button", name="登记").click()
    error = page.locator("#err-url")
    await error.wait_for()
    assert "不在管理员允许的推送地址名单中" in await error.inner_text()
    await clerk.shot("school-webhook-refused")
    await page.get_by_label("接收地址（网址）").fill("http://127.0.0.1:9/in")
    await page.get_by_role("button", name="登记").click()
    secret = page.get_by_test_id("secret")
    await secret.wait_for()
    assert (await secret.input_value()).startswith("whsec_")
    await clerk.shot("school-webhook-secret-once")
    await page.reload()
    await page.get_by_test_id("secret-gone").wait_for()
    await page.get_by_role("link", name="返回推送通知").click()
    await page.get_by_role("link", name="推送记录").click()
    await page.get_by_text("暂无推送记录").wait_for()

    await suspend(rw, entries[0])  # the live server's dispatcher fans it out and tries to send
    log = page.get_by_test_id("deliveries")
    for _ in range(60):
        await page.reload()
        if "无法连接接收方" in await log.inner_text():
            break
        await asyncio.sleep(0.5)
    text = await log.inner_text()
    assert "白名单暂停" in text and "受阻" in text and "无法连接接收方" in text
    await clerk.shot("school-webhook-deliveries")

    # --- the clerk rates the order and prints codes for the pupils' parents ---------------
    await page.get_by_role("link", name="评价", exact=True).click()
    row = page.get_by_role("row").filter(has_text="少儿机器人编程")
    await row.get_by_text("已发放 0 / 10").wait_for()
    await clerk.shot("school-ratings")
    await row.get_by_role("button", name="满意", exact=True).click()
    await page.get_by_test_id("message").get_by_text("已提交本校评价").wait_for()
    await row.get_by_label("数量").fill("6")
    await row.get_by_role("button", name="发放评价码").click()
    slips = page.get_by_test_id("codes")
    await slips.wait_for()
    codes = re.findall(r"PJ-[0-9A-Z]{5}-[0-9A-Z]{5}", await slips.inner_text())
    assert len(codes) == 6
    await clerk.shot("school-rating-codes")
    await page.emulate_media(media="print")
    await clerk.shot("school-rating-codes-print")
    await page.emulate_media(media="screen")
    clerk.assert_clean()

    # --- a parent on a phone, no sign-in -------------------------------------------------
    parent = await open_page(phone=True)
    page = parent.page
    await page.goto(parent.origin + "/public/rating")
    await page.get_by_label("评价码").fill(codes[0].lower())
    await page.get_by_label("不满意").check()
    await parent.shot("public-rating-phone")
    await page.get_by_role("button", name="提交评价").click()
    await page.get_by_test_id("rating-done").wait_for()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await parent.shot("public-rating-done-phone")
    await page.goto(parent.origin + "/public/rating")
    await page.get_by_label("评价码").fill(codes[0])
    await page.get_by_label("满意", exact=True).check()
    parent.expect_refusals(409)
    await page.get_by_role("button", name="提交评价").click()
    used = page.locator("#err-code")
    await used.wait_for()
    assert "该评价码已使用过" in await used.inner_text()
    await parent.shot("public-rating-used-phone")
    parent.assert_clean()

    # --- three more parents are unsatisfied: 2 of 5, below 80 %; the reviewer closes it ---
    for code in codes[1:4]:
        assert (await rw.rate_code(code, False)).status_code == 201
    bureau = await open_page()
    page = bureau.page
    await sign_in(bureau, "county.w", PASSWORD)
    await page.get_by_role("link", name="满意度复核").click()
    row = page.get_by_role("row").filter(has_text="少儿机器人编程")
    assert "1/5 满意" in await row.inner_text() and "20%" in await row.inner_text()
    await bureau.shot("reviewer-re-reviews")
    await row.get_by_text("办结", exact=True).click()
    await row.get_by_label("处理情况").fill("已约谈机构，限期整改；下学期复评")
    await bureau.shot("reviewer-re-review-close")
    await row.get_by_role("button", name="确认办结").click()
    await page.get_by_test_id("message").get_by_text("已办结该复核").wait_for()
    await page.get_by_text("暂无待处理的满意度复核").wait_for()
    await bureau.shot("reviewer-re-reviews-closed")
    bureau.assert_clean()


async def test_the_reviewer_attaches_evidence_and_opens_it_from_the_case_page(db, api, accounts, open_page, tmp_path):
    rw, _entries, school, _order = await _world(db, api, accounts)
    filed = await api.post(
        "/api/v1/complaints",
        headers=school.headers,
        json={"school_code": school.code, "category": "fee_bundling", "description": "另收教材费，未公示"},
    )
    assert filed.status_code == 201, filed.text
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(_png())

    bureau = await open_page()
    page = bureau.page
    await sign_in(bureau, "county.w", PASSWORD)
    await page.get_by_role("link", name="投诉处理").click()
    await page.get_by_role("row").filter(has_text=school.code).get_by_role("link", name="办理").click()
    form = page.get_by_test_id("evidence-form")
    await form.locator("input[type=file]").set_input_files(str(photo))
    await form.get_by_role("button", name="上传").click()
    link = page.get_by_test_id("evidence-link")
    await link.wait_for()
    assert await link.inner_text() == "现场照片.png"
    await bureau.shot("reviewer-complaint-evidence")

    async with page.context.expect_page() as opened_info:
        await link.click()
    opened = await opened_info.value
    await opened.wait_for_load_state()
    assert opened.url.startswith(bureau.origin + f"/reviewer/complaints/{filed.json()['id']}/evidence/")
    shown = await opened.evaluate(
        "() => { const i = document.querySelector('img'); return i ? [i.naturalWidth, i.naturalHeight] : null; }"
    )
    assert shown == [240, 120]  # the browser shows the image itself, not a download or an error page
    response = await opened.request.get(opened.url)
    assert response.headers["content-type"] == "image/png" and response.headers["cache-control"].startswith("no-store")
    assert response.headers["x-content-type-options"] == "nosniff"
    await opened.screenshot(
        path=str(ARTIFACTS / "reviewer-complaint-evidence-opened.png")
    )  # ARTIFACTS exists: shot() made it
    bureau.assert_clean()


async def test_codes_and_the_parents_rating_work_with_javascript_off(db, api, accounts, open_page):
    _rw, _entries, _school, _order = await _world(db, api, accounts)
    clerk = await open_page(javascript=False)
    page = clerk.page
    await sign_in(clerk, "school.w", PASSWORD)
    await page.get_by_role("link", name="评价", exact=True).click()
    row = page.get_by_role("row").filter(has_text="少儿机器人编程")
    await row.get_by_label("数量").fill("2")
    await row.get_by_role("button", name="发放评价码").click()
    slips = page.get_by_test_id("codes")
    await slips.wait_for()
    codes = re.findall(r"PJ-[0-9A-Z]{5}-[0-9A-Z]{5}", await slips.inner_text())
    assert len(codes) == 2
    assert not await page.get_by_role(
        "button", name="打印"
    ).is_visible()  # it needs JavaScript (the browser's own print still works)
    await clerk.shot("school-rating-codes-no-js")
    clerk.assert_clean()

    parent = await open_page(phone=True, javascript=False)
    page = parent.page
    await page.goto(parent.origin + "/public/rating")
    await page.get_by_label("评价码").fill(codes[1])
    await page.get_by_label("满意", exact=True).check()
    await page.get_by_role("button", name="提交评价").click()
    await page.get_by_test_id("rating-done").wait_for()
    await parent.shot("public-rating-done-no-js")
    parent.assert_clean()
