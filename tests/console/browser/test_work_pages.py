"""The pages added after the main journeys, through real clicks in Chromium: a reviewer
records a check by hand and imports a results file (progress, then row errors); a
school checks a roster and looks up through HTMX (no full reload; the same forms
work as plain posts, tests/console/test_school_pages.py); a vendor reads objections and
decisions as they happened; the public reads how to object. Each saves its screenshots and checks origin and console."""

from __future__ import annotations

from sqlalchemy import text

from service.accounts import set_password
from service.accounts.services import create_account
from service.security.actor import Actor
from tests.console.browser.conftest import sign_in
from tests.factories import PDF, credit_code, document_form, service_item_payload, vendor_payload
from tests.lookup.people_world import RECENT
from tests.personnel.conftest import authorisation, new_id_number, record_all_clear

PASSWORD = "journey-password-2"


async def _account(db, role: str, login: str, **scope) -> dict[str, str]:
    created = await create_account(
        db,
        Actor.system(),
        role=role,
        name=scope.pop("name", login),
        login=login,
        password="initial-password-1",
        **scope,
    )
    await set_password(db, Actor.system(), login, PASSWORD, must_change=False)
    return {"Authorization": f"Bearer {created.token}"}


async def _ok(response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def _approved_vendor_with_a_person(api, db) -> dict:
    """Through the API, as the journeys' earlier steps would: a vendor on the county's
    whitelist after a dismissed objection, with one cleared person and one pending."""
    code = credit_code("360104")
    vendor_h = await _account(db, "vendor", "vendor.w", name="启明科创 管理员", vendor_credit_code=code)
    county = await _account(db, "reviewer", "county.w", name="青云谱区教育局 张敏", region_code="360104")
    city = await _account(db, "reviewer", "city.w", name="南昌市教育局 李华", region_code="360100")
    city_b = await _account(db, "reviewer", "city.w2", name="南昌市教育局 周强", region_code="360100")
    school = await _account(
        db,
        "school",
        "school.w",
        name="实验小学 门卫室",
        region_code="360104",
        school_code="3601049002",
        school_name="南昌市青云谱区实验小学",
    )
    vendor = await _ok(
        await api.post(
            "/api/v1/vendors",
            headers=vendor_h,
            json=vendor_payload(credit_code=code, name="南昌启明科创教育有限公司", region_code="360104"),
        )
    )
    document = await _ok(
        await api.post(
            f"/api/v1/vendors/{vendor['id']}/documents",
            headers=vendor_h,
            data=document_form(),
            files={"file": ("licence.pdf", PDF, "application/pdf")},
        )
    )
    item = await _ok(
        await api.post(f"/api/v1/vendors/{vendor['id']}/service-items", headers=vendor_h, json=service_item_payload())
    )
    cleared_number, pending_number = new_id_number(), new_id_number()
    cleared = await _ok(
        await api.post(
            f"/api/v1/vendors/{vendor['id']}/people",
            headers=vendor_h,
            json={"id_number": cleared_number, "name": "王小明", "role": "lead_instructor", "start_date": "2025-09-01"},
        )
    )
    pending = await _ok(
        await api.post(
            f"/api/v1/vendors/{vendor['id']}/people",
            headers=vendor_h,
            json={"id_number": pending_number, "name": "刘芳", "role": "assistant", "start_date": "2025-09-01"},
        )
    )
    consent = await authorisation(api, county)
    await record_all_clear(api, cleared["person_id"], county, consent, query_date=RECENT)
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

    async def step(headers, action, reason=None):
        nonlocal app
        app = await _ok(
            await api.post(
                f"/api/v1/applications/{app['id']}/transitions",
                headers=headers,
                json={"action": action, "reason": reason, "version": app["version"]},
            ),
            200,
        )

    await step(vendor_h, "submit")
    for action in ("accept", "pass_preliminary", "pass_verification"):
        await step(county, action)
    await step(city, "approve", "材料真实齐全，同意公示")
    objection = await _ok(
        await api.post(
            f"/api/v1/applications/{app['id']}/objections",
            headers=school,
            json={"reason": "家长反映该机构<b>收费</b>偏高"},
        )
    )
    app = await _ok(await api.get(f"/api/v1/applications/{app['id']}", headers=city), 200)
    await _ok(
        await api.post(
            f"/api/v1/objections/{objection['id']}/resolution",
            headers=city_b,
            json={"outcome": "dismissed", "reason": "经核实，收费与公示标准一致", "version": app["version"]},
        ),
        200,
    )
    return {
        "code": code,
        "application_id": app["id"],
        "application_number": app["number"],
        "vendor_id": vendor["id"],
        "cleared": cleared_number,
        "pending_id": pending["person_id"],
        "pending": pending_number,
    }


async def test_reviewer_school_vendor_and_public_pages_through_real_clicks(db, api, open_page, tmp_path):
    world = await _approved_vendor_with_a_person(api, db)

    # --- the public reads how to object while the notice runs (a phone) ----------------------------------------------
    public = await open_page(phone=True)
    await public.page.goto(public.origin + "/public/notices")
    await public.page.get_by_text(world["application_number"]).wait_for()  # the number people read, not the UUID
    await public.page.locator("#how-to-object").scroll_into_view_if_needed()
    await public.shot("public-notices-how-to-object")
    public.assert_clean()

    # The notice period runs out: the vendor is on the whitelist.
    async with db.transaction() as session:
        await session.exec(
            text(
                "UPDATE applications SET notice_ends_at = now() - interval '1 second' WHERE id = CAST(:id AS uuid)"
            ).bindparams(id=world["application_id"])
        )

    # --- a reviewer records a check by hand, then imports a results file ------------------
    reviewer = await open_page()
    page = reviewer.page
    reviewer.expect_refusals(422)  # a check without its consent, on purpose
    await sign_in(reviewer, "county.w", PASSWORD)
    await page.get_by_role("link", name="人员核查").click()
    await page.get_by_label("机构名称").fill("启明科创")
    await page.get_by_role("button", name="查询").click()
    await page.get_by_role("link", name="查看人员").click()
    await page.get_by_text("刘芳").wait_for()
    await reviewer.shot("reviewer-people")
    await page.locator("tr", has_text="刘芳").get_by_role("link", name="录入核查结果").click()
    await page.get_by_role("heading", name="录入核查结果").wait_for()
    await page.get_by_label("核查类型").select_option(label="违法犯罪记录查询")
    await page.get_by_label("核查结果").select_option(value="clear")
    await page.get_by_label("查询日期").fill(RECENT)
    await page.get_by_label("查询编号").fill("JX-HAND-0001")
    await page.get_by_label("出具机关").fill("南昌市公安局青云谱分局")
    await page.get_by_role("button", name="记录结果").click()  # no consent chosen: refused in words
    await page.locator("#err-consent_document_id").wait_for()
    await reviewer.shot("reviewer-person-check-refused")
    await page.get_by_label("授权文件").select_option(index=1)
    await page.get_by_role("button", name="记录结果").click()
    await page.get_by_text("核查结果已记录").wait_for()
    await reviewer.shot("reviewer-person-check")

    await page.get_by_role("link", name="导入核查结果").first.click()
    await page.get_by_label("批量查询授权").select_option(index=1)
    rows = "".join(
        f"{world['pending']},刘芳,{kind},无犯罪记录,{RECENT},IMP-{n}\n"
        for n, kind in enumerate(("性侵违法犯罪信息入职查询", "健康证明", "师德考察", "心理健康评估"))
    )
    broken = tmp_path / "结果-有误.csv"
    broken.write_text(
        "身份证号,姓名,查询类型,查询结果,查询日期,查询编号\n"
        + rows
        + "12345,<b>李四</b>,违法犯罪记录查询,无犯罪记录,2025-13-40,IMP-9\n",
        encoding="utf-8",
    )
    await page.get_by_label("结果文件").set_input_files(str(broken))
    await reviewer.shot("reviewer-imports")
    await page.get_by_role("button", name="开始导入").click()
    await page.get_by_test_id("row-errors").wait_for()  # HTMX polled the job until it ended
    table = await page.get_by_test_id("row-errors").inner_text()
    assert "第 6 行" in table and "身份证号" in table and "查询日期" in table
    await reviewer.shot("reviewer-import-errors")
    await page.get_by_role("link", name="返回导入页").click()
    good = tmp_path / "结果.csv"
    good.write_text("身份证号,姓名,查询类型,查询结果,查询日期,查询编号\n" + rows, encoding="utf-8")
    await page.get_by_label("批量查询授权").select_option(index=1)
    await page.get_by_label("结果文件").set_input_files(str(good))
    await page.get_by_role("button", name="开始导入").click()
    await page.get_by_text("导入完成：新增 4 条").wait_for()
    assert await page.locator("progress").get_attribute("value") == "100"
    await reviewer.shot("reviewer-import-done")

    # The queue's filters update the list in place (HTMX), and the address follows.
    await page.get_by_role("link", name="入校申请").first.click()
    await page.evaluate("window.__stay = 1")
    await page.get_by_label("活动类别").select_option(label="体育锻炼")
    await page.get_by_text("没有符合条件的申请").wait_for()
    assert await page.evaluate("window.__stay") == 1 and "category=4" in page.url
    await reviewer.shot("reviewer-queue-filtered")
    reviewer.assert_clean()

    # --- a school: a roster file, and lookups answered in place ------------------------------
    school = await open_page()
    page = school.page
    school.expect_refusals(422)  # a credit code with a wrong check character, on purpose
    await sign_in(school, "school.w", PASSWORD)
    await page.evaluate("window.__stay = 1")
    await page.get_by_label("统一社会信用代码").fill(
        world["code"][:-1] + "0" if world["code"][-1] != "0" else world["code"][:-1] + "1"
    )
    await page.get_by_role("button", name="核验", exact=True).click()
    await page.locator("#err-credit_code").wait_for()  # a bad check character, in words, in place
    await page.get_by_label("统一社会信用代码").fill(world["code"])
    await page.get_by_role("button", name="核验", exact=True).click()
    await page.get_by_test_id("answer").get_by_text("在白名单").wait_for()
    assert await page.evaluate("window.__stay") == 1  # answered without reloading the page
    await school.shot("school-vendor-check-htmx")

    await page.get_by_role("link", name="花名册核验").click()
    roster = tmp_path / "花名册.csv"
    roster.write_text(
        f"序号,身份证号,姓名\n1,{world['cleared']},王小明\n2,{world['pending']},刘芳\n"
        f"3,{new_id_number()},<i>赵六</i>\n4,1234,钱七\n",
        encoding="utf-8",
    )
    await page.get_by_label("花名册文件").set_input_files(str(roster))
    await page.get_by_role("button", name="核验").click()
    results = page.get_by_test_id("roster-results")
    await results.wait_for()
    lines = await results.locator("tbody tr").all_inner_texts()
    assert len(lines) == 4
    assert "可以入校" in lines[0] and "可以入校" in lines[1]  # the import just cleared 刘芳
    assert "未通过核验" in lines[2] and "<i>赵六</i>" in lines[2] and "未核验" in lines[3]
    await school.shot("school-roster")
    href = await page.get_by_role("link", name="下载核验凭证 (PDF)").get_attribute("href")
    assert href.startswith("/school/receipts/")  # the PDF itself: tests/console/test_school_roster.py
    school.assert_clean()

    # --- the vendor reads the objection and the decision as they happened ----------------------
    vendor = await open_page()
    page = vendor.page
    vendor.expect_refusals(415, 422)  # a file that is not what it says, on purpose
    await sign_in(vendor, "vendor.w", PASSWORD)
    await page.goto(vendor.origin + f"/vendor/applications/{world['application_id']}")
    timeline = page.get_by_test_id("timeline")
    await timeline.get_by_text("收到异议", exact=True).wait_for()
    words = await timeline.inner_text()
    assert words.index("异议不成立") < words.index("收到异议") < words.index("提交")
    assert "家长反映该机构<b>收费</b>偏高" in words
    await vendor.shot("vendor-application-timeline")
    await page.get_by_role("link", name="资质材料").first.click()
    await page.get_by_label("证号").fill("NC-2024-002")
    await page.get_by_label("发证机关").fill("南昌市市场监督管理局")
    await page.get_by_label("有效期起").fill("2024-01-01")
    await page.get_by_label("有效期至").fill("2030-12-31")
    fake = tmp_path / "执照.pdf"
    fake.write_bytes(b"this is not a PDF at all")
    await page.get_by_label("文件").set_input_files(str(fake))
    await page.get_by_role("button", name="上传").click()
    await page.locator("#err-file").wait_for()  # the file check's refusal, in words
    assert "PDF" in await page.locator("#err-file").inner_text()
    await vendor.shot("vendor-document-refused")
    vendor.assert_clean()
