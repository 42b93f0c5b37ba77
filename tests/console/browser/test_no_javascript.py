"""The core forms with JavaScript off, in Chromium: signing in (a wrong password, then
the first sign-in's password change), a county reviewer accepting and passing an
application (and a second tab's stale form refused as a conflict), a city reviewer
approving with a reason, and a school clerk's forced password change, then the gate
checks: a vendor by its credit code (a typo refused next to the field) and by its
name, the receipt PDF, a cleared person and one who is not, and the past checks. Each
step is a full page load: HTMX is only an improvement, never the way a form works.

(An earlier attempt hung: the journeys' screenshot helper injected its style with
Playwright's `add_style_tag`, which waits for the <style>'s load event, and with
JavaScript off that event never fires. The helper now passes the style to the
screenshot itself. The school's answer card then did appear, but said 未列入: the
notice had run out in the database and nothing had read the application since, so
it was not yet concluded. A school's check now concludes a notice that is over before
it answers, so the journey goes straight from the notice's end to the gate.)"""

from __future__ import annotations

from sqlalchemy import text

from service.accounts.services import create_account
from service.security.actor import Actor
from tests.console.browser.conftest import Watched, sign_in, sign_out
from tests.console.browser.test_work_pages import PASSWORD, _account, _ok
from tests.factories import PDF, credit_code, document_form, service_item_payload, vendor_payload
from tests.lookup.people_world import RECENT
from tests.personnel.conftest import authorisation, new_id_number, record_all_clear


async def _submitted_application(api, db) -> dict:
    """Through the API: a vendor with a document, an item, a cleared person and a
    pending one, and its application submitted to the county."""
    code = credit_code("360104")
    vendor_h = await _account(db, "vendor", "vendor.n", name="启明科创 管理员", vendor_credit_code=code)
    county = await _account(db, "reviewer", "county.n", name="青云谱区教育局 张敏", region_code="360104")
    await _account(db, "reviewer", "city.n", name="南昌市教育局 李华", region_code="360100")
    vendor = await _ok(
        await api.post(
            "/api/v1/vendors",
            headers=vendor_h,
            json=vendor_payload(credit_code=code, name="南昌启明科创教育有限公司", region_code="360104"),
        )
    )
    base = f"/api/v1/vendors/{vendor['id']}"
    document = await _ok(
        await api.post(
            base + "/documents",
            headers=vendor_h,
            data=document_form(),
            files={"file": ("licence.pdf", PDF, "application/pdf")},
        )
    )
    item = await _ok(await api.post(base + "/service-items", headers=vendor_h, json=service_item_payload()))
    cleared, pending = new_id_number(), new_id_number()
    person = await _ok(
        await api.post(
            base + "/people",
            headers=vendor_h,
            json={"id_number": cleared, "name": "王小明", "role": "lead_instructor", "start_date": "2025-09-01"},
        )
    )
    await _ok(
        await api.post(
            base + "/people",
            headers=vendor_h,
            json={"id_number": pending, "name": "刘芳", "role": "assistant", "start_date": "2025-09-01"},
        )
    )
    await record_all_clear(api, person["person_id"], county, await authorisation(api, county), query_date=RECENT)
    app = await _ok(
        await api.post(
            "/api/v1/applications",
            headers=vendor_h,
            json={
                "vendor_id": vendor["id"],
                "region_code": "360104",
                "service_item_ids": [item["id"]],
                "document_ids": [document["id"]],
            },
        )
    )
    await _ok(
        await api.post(
            f"/api/v1/applications/{app['id']}/transitions",
            headers=vendor_h,
            json={"action": "submit", "version": app["version"]},
        ),
        200,
    )
    return {"code": code, "application_id": app["id"], "cleared": cleared, "pending": pending}


async def _submit(watched: Watched, button) -> None:
    """Click a form's button and wait for the full page load it must cause."""
    async with watched.page.expect_navigation():
        await button.click()


async def test_core_forms_work_with_javascript_off(db, api, open_page):
    world = await _submitted_application(api, db)
    path = "/reviewer/applications/" + world["application_id"]

    # --- sign in: a wrong password is refused in words, the right one opens the queue -----
    county = await open_page(javascript=False)
    page = county.page
    county.expect_refusals(401)
    await page.goto(county.origin + "/")
    await page.get_by_label("登录名").fill("county.n")
    await page.get_by_label("密码").fill("not-the-password")
    await _submit(county, page.get_by_role("button", name="登录"))
    await page.get_by_role("alert").wait_for()
    await county.shot("nojs-sign-in-refused")
    await page.get_by_label("密码").fill(PASSWORD)
    await _submit(county, page.get_by_role("button", name="登录"))
    assert page.url.endswith("/reviewer")
    assert "青云谱区教育局 张敏" in await page.get_by_test_id("who").inner_text()

    # --- a county reviewer acts on the application through the plain forms -----------------
    stale = await (await page.context.new_page()).goto(county.origin + path)
    assert stale is not None and stale.ok
    await _submit(county, page.get_by_role("link", name="办理").first)
    await county.shot("nojs-reviewer-application")
    for action in ("受理", "初审通过", "核查通过"):
        await _submit(county, page.get_by_role("button", name=action))
    await page.get_by_text("终审").first.wait_for()
    await county.shot("nojs-reviewer-application-after")
    # The second tab still shows the submitted application: its 受理 is refused as a conflict.
    other = page.context.pages[1]
    county.expect_refusals(409)
    async with other.expect_navigation():
        await other.get_by_role("button", name="受理").click()
    await other.get_by_text("该申请已由其他审核员处理，请查看最新状态").wait_for()
    await sign_out(county)
    assert page.url.removeprefix(county.origin) == "/"
    county.assert_clean()

    # --- a city reviewer approves with a reason ---------------------------------------------
    city = await open_page(javascript=False)
    page = city.page
    await sign_in(city, "city.n", PASSWORD)
    await page.goto(city.origin + path)
    await page.locator("form:has(input[value=approve]) textarea").fill("材料真实齐全，同意公示")
    await _submit(city, page.get_by_role("button", name="审核通过并公示"))
    await page.get_by_text("公示截止").first.wait_for()

    city.assert_clean()

    # The notice period runs out: the vendor is on the whitelist from that instant. No
    # job runs and nobody opens the application: the school's check itself concludes it.
    async with db.transaction() as session:
        await session.exec(
            text(
                "UPDATE applications SET notice_ends_at = now() - interval '1 second' WHERE id = CAST(:id AS uuid)"
            ).bindparams(id=world["application_id"])
        )

    # --- a school clerk's first sign-in: the password change, then the checks ---------------
    await create_account(
        db,
        Actor.system(),
        role="school",
        name="实验小学 门卫室",
        login="school.n",
        password="initial-password-1",
        region_code="360104",
        school_code="3601049003",
        school_name="南昌市青云谱区实验小学",
    )
    school = await open_page(javascript=False)
    page = school.page
    await sign_in(school, "school.n", "initial-password-1")
    assert page.url.endswith("/account/password")
    await page.get_by_label("当前密码").fill("initial-password-1")
    await page.locator("#f-new_password").fill(PASSWORD)
    await page.get_by_label("再次输入新密码").fill(PASSWORD)
    await _submit(school, page.get_by_role("button", name="保存新密码"))
    assert not page.url.endswith("/account/password")
    await school.shot("nojs-school-home")
    school.assert_clean()

    # --- the school checks the vendor by its code: a typo is refused next to the field -------
    school.expect_refusals(422)
    await page.get_by_role("link", name="机构核验").click()
    await page.get_by_label("统一社会信用代码").fill(world["code"][:-1] + ("0" if world["code"][-1] != "0" else "1"))
    await _submit(school, page.get_by_role("button", name="核验", exact=True))
    await page.locator("#f-credit_code ~ .field-error").wait_for()
    await page.get_by_label("统一社会信用代码").fill(world["code"])
    await _submit(school, page.get_by_role("button", name="核验", exact=True))
    answer = page.get_by_test_id("answer")
    await answer.get_by_text("在白名单").wait_for()
    assert "少儿机器人编程" in await answer.inner_text()
    await school.shot("nojs-school-vendor-check")
    href = await page.get_by_role("link", name="下载核验凭证 (PDF)").get_attribute("href")
    receipt = await page.context.request.get(school.origin + href)
    assert receipt.ok and (await receipt.body()).startswith(b"%PDF")

    # --- ... and by its name: the search is a plain GET form, each match a plain POST --------
    await page.get_by_label("不知道代码？按机构名称查找").fill("启明科创")
    await _submit(school, page.get_by_role("button", name="查找"))
    assert "q=" in page.url
    await _submit(school, page.get_by_role("row", name="南昌启明科创教育有限公司").get_by_role("button", name="核验"))
    await page.get_by_test_id("answer").get_by_text("在白名单").wait_for()

    # --- the school checks a cleared person and one still waiting for checks -----------------
    await _submit(school, page.get_by_role("link", name="人员核验"))
    for number, name, expected in ((world["cleared"], "王小明", "可以入校"), (world["pending"], "刘芳", "未通过核验")):
        await page.get_by_label("身份证号码").fill(number)
        await page.get_by_label("姓名").fill(name)
        await _submit(school, page.get_by_role("button", name="核验", exact=True))
        await page.get_by_test_id("answer").get_by_text(expected).wait_for()
        assert number not in await page.content()  # the ID number is never echoed back
        await school.shot(f"nojs-school-person-{'cleared' if expected == '可以入校' else 'refused'}")
    await _submit(school, page.get_by_role("link", name="我的核验记录").first)
    assert await page.get_by_role("link", name="下载核验凭证 (PDF)").count() == 4
    await school.shot("nojs-school-history")
    school.assert_clean()
