"""Each role's main journey through real clicks in Chromium, on one live service:
a vendor registers and applies; a county reviewer accepts and passes; a city reviewer
approves; the public sees the notice; a school checks the vendor and a person and
downloads the receipt; an auditor opens the application's history."""

from __future__ import annotations

from sqlalchemy import text

from service.accounts import set_password
from service.accounts.services import create_account
from service.security.actor import Actor
from tests.console.browser.conftest import sign_in, sign_out
from tests.factories import PDF, credit_code
from tests.lookup.people_world import RECENT
from tests.personnel.conftest import authorisation, new_id_number, record_all_clear

PASSWORD = "journey-password-1"


async def _account(db, role: str, login: str, **scope) -> str:
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
    return created.token


async def test_every_roles_main_journey(db, api, open_page, tmp_path):
    code = credit_code("360104")
    await _account(db, "vendor", "vendor.j", name="启明科创 管理员", vendor_credit_code=code)
    await _account(db, "reviewer", "county.j", name="青云谱区教育局 张敏", region_code="360104")
    await _account(db, "reviewer", "city.j", name="南昌市教育局 李华", region_code="360100")
    county_token = await _account(db, "reviewer", "county.k", name="青云谱区教育局 核查员", region_code="360104")
    await _account(
        db,
        "school",
        "school.j",
        name="实验小学 门卫室",
        region_code="360104",
        school_code="3601049001",
        school_name="南昌市青云谱区实验小学",
    )
    await _account(db, "auditor", "auditor.j", name="南昌市教育督导 王老师", region_code="360100")

    # --- a vendor registers and applies ------------------------------------------------
    vendor = await open_page()
    page = vendor.page
    await sign_in(vendor, "vendor.j", PASSWORD)
    await vendor.shot("vendor-register")
    await page.get_by_label("机构名称").fill("南昌启明科创教育有限公司")
    await page.get_by_role("combobox", name="注册地").select_option("360104")
    await page.get_by_label("注册地址").fill("南昌市青云谱区洪都中大道 1 号")
    await page.get_by_label("法定代表人").fill("陈建国")
    await page.get_by_label("联系人").fill("刘晓燕")
    await page.get_by_label("联系电话").fill("0791-88123456")
    await page.get_by_label("承诺按公益性原则提供课后服务").check()
    await page.get_by_role("button", name="提交登记").click()
    await page.wait_for_url("**/vendor")
    await vendor.shot("vendor-overview")
    await page.get_by_role("link", name="资质材料").first.click()
    await page.get_by_label("证号").fill("NC-2024-001")
    await page.get_by_label("发证机关").fill("南昌市市场监督管理局")
    await page.get_by_label("有效期起").fill("2024-01-01")
    await page.get_by_label("有效期至").fill("2030-12-31")
    licence = tmp_path / "营业执照.pdf"
    licence.write_bytes(PDF)
    await page.get_by_label("文件").set_input_files(str(licence))
    await page.get_by_role("button", name="上传").click()
    await page.get_by_text("NC-2024-001").wait_for()
    await vendor.shot("vendor-documents")
    await page.get_by_role("link", name="服务项目").first.click()
    await page.get_by_label("活动类别").select_option(label="科技活动")
    await page.get_by_label("活动名称").fill("少儿机器人编程")
    await page.get_by_label("内容简介").fill("以积木式机器人学习传感器与图形化编程，每次 90 分钟。")
    await page.get_by_label("小学高年级").check()
    await page.get_by_label("收费（元）").fill("30")
    await page.get_by_label("班额上限（人）").fill("30")
    await page.get_by_label("场地").fill("学校科学教室")
    await page.get_by_role("button", name="添加").click()
    await page.get_by_text("30.00 元 每课时").wait_for()
    await vendor.shot("vendor-items")
    number = new_id_number()
    await page.get_by_role("link", name="人员").first.click()
    await page.get_by_label("身份证号码").fill(number)
    await page.get_by_label("姓名").fill("王小明")
    await page.get_by_label("入职日期").fill("2025-09-01")
    await page.get_by_role("button", name="登记").click()
    await page.get_by_text("待核查").wait_for()
    await vendor.shot("vendor-people")
    await page.get_by_role("link", name="入校申请").first.click()
    await page.get_by_role("button", name="保存草稿").click()
    await page.get_by_role("button", name="提交申请").click()
    await page.get_by_text("已提交待受理").first.wait_for()
    await vendor.shot("vendor-application")
    application_path = page.url.removeprefix(vendor.origin)
    application_id = application_path.rsplit("/", 1)[1]
    vendor.assert_clean()

    # --- a county reviewer accepts and passes -------------------------------------------
    county = await open_page()
    page = county.page
    await sign_in(county, "county.j", PASSWORD)
    await page.get_by_text("南昌启明科创教育有限公司").wait_for()
    assert "青云谱区教育局 张敏" in await page.get_by_test_id("who").inner_text()
    await county.shot("reviewer-queue")
    await page.get_by_role("link", name="办理").first.click()
    await county.shot("reviewer-application")
    for action in ("受理", "初审通过", "核查通过"):
        await page.get_by_role("button", name=action).click()
        await page.wait_for_load_state()
    await page.get_by_text("终审").first.wait_for()
    await county.shot("reviewer-application-after")
    county.assert_clean()

    # --- a city reviewer approves ---------------------------------------------------------
    city = await open_page()
    page = city.page
    await sign_in(city, "city.j", PASSWORD)
    await page.goto(city.origin + "/reviewer/applications/" + application_id)
    await page.locator("form:has(input[value=approve]) textarea").fill("材料真实齐全，同意公示")
    await page.get_by_role("button", name="审核通过并公示").click()
    await page.wait_for_load_state()
    await city.shot("reviewer-approved")
    await page.get_by_text("公示截止").first.wait_for()
    await city.shot("reviewer-approved")
    city.assert_clean()

    # --- the public sees the notice (a phone) ---------------------------------------------
    public = await open_page(phone=True)
    await public.page.goto(public.origin + "/public/notices")
    await public.page.get_by_text("南昌启明科创教育有限公司").wait_for()
    assert await public.page.locator("strong", has_text="公示截止").count() == 1
    await public.shot("public-notices")
    public.assert_clean()

    # The notice period runs out; the person's checks come in (by the API, as a bureau would).
    async with db.transaction() as session:
        await session.exec(
            text(
                "UPDATE applications SET notice_ends_at = now() - interval '1 second' WHERE id = CAST(:id AS uuid)"
            ).bindparams(id=application_id)
        )
    headers = {"Authorization": f"Bearer {county_token}"}
    people = (await api.get(f"/api/v1/applications/{application_id}", headers=headers)).json()
    person = (await api.get(f"/api/v1/vendors/{people['vendor_id']}/people", headers=headers)).json()
    person_id = (person["items"] if isinstance(person, dict) else person)[0]["person_id"]
    consent = await authorisation(api, headers)
    await record_all_clear(api, person_id, headers, consent, query_date=RECENT)
    await public.page.goto(public.origin + "/public/whitelist")
    await public.page.get_by_text("南昌启明科创教育有限公司").wait_for()
    await public.shot("public-whitelist")
    public.assert_clean()

    # --- a school checks the vendor and a person, and downloads the receipt ----------------
    school = await open_page()
    page = school.page
    await sign_in(school, "school.j", PASSWORD)
    await page.get_by_label("统一社会信用代码").fill(code)
    await page.get_by_role("button", name="核验", exact=True).click()
    await page.get_by_test_id("answer").get_by_text("在白名单").wait_for()
    await school.shot("school-vendor-check")
    href = await page.get_by_role("link", name="下载核验凭证 (PDF)").get_attribute("href")
    receipt = await page.context.request.get(school.origin + href)
    assert receipt.ok and (await receipt.body()).startswith(b"%PDF")
    await page.get_by_role("link", name="人员核验").click()
    await page.get_by_label("身份证号码").fill(number)
    await page.get_by_label("姓名").fill("王小明")
    await page.get_by_role("button", name="核验").click()
    await page.get_by_test_id("answer").get_by_text("可以入校").wait_for()
    await school.shot("school-person-check")
    await page.get_by_role("link", name="我的核验记录").first.click()
    assert await page.get_by_role("link", name="下载核验凭证 (PDF)").count() == 2
    await school.shot("school-history")
    school.assert_clean()

    # --- an auditor opens the application's history ------------------------------------------
    auditor = await open_page()
    page = auditor.page
    await sign_in(auditor, "auditor.j", PASSWORD)
    await page.get_by_label("对象类型").fill("application")
    await page.get_by_label("对象编号").fill(application_id)
    await page.get_by_role("button", name="查询").click()
    await auditor.shot("audit-events")
    await page.get_by_role("link", name="对象历史").first.click()
    await page.get_by_text("applications:application:approve").first.wait_for()
    await auditor.shot("audit-object-history")
    await page.get_by_role("link", name="检查点与离线核验").click()
    await auditor.shot("audit-checkpoint")
    await sign_out(auditor)
    assert page.url.removeprefix(auditor.origin) == "/"
    auditor.assert_clean()
