"""An application's objections and decisions as they happened, on the vendor's page
and the reviewer's: one timeline, newest first, user text shown as text."""

from __future__ import annotations

from tests.applications.conftest import World
from tests.applications.test_objections import object_to, resolve


async def test_objections_and_decisions_in_the_order_they_happened(client, accounts, db, signed_in):
    world = World(client, accounts, db)
    vendor = await world.vendor()
    county, city, city_b = (
        await world.reviewer("360104"),
        await world.reviewer("360100"),
        await world.reviewer("360100"),
    )
    app = await world.to_public_notice(vendor, county, city)
    school = await accounts.headers("school", region_code="360104", school_code="2136010409")
    filed = await object_to(world, app, school, reason="家长反映<script>超额收费</script>")
    assert filed.status_code == 201, filed.text
    app = await world.get(app["id"], city)
    dismissed = await resolve(
        world, filed.json()["id"], city_b, "dismissed", app["version"], reason="经核实收费符合公示标准"
    )
    assert dismissed.status_code == 200, dismissed.text

    browser = await signed_in("vendor", vendor_credit_code=vendor.credit_code)
    page = await browser.get(f"/vendor/applications/{app['id']}")
    assert page.status_code == 200
    timeline = page.text.split('data-testid="timeline"')[1].split("</ol>")[0]
    order = [timeline.index(words) for words in ("经核实收费符合公示标准", "家长反映", "提交")]
    assert order == sorted(order)  # newest first: the decision, then the objection, then the submission
    assert "异议不成立" in timeline and "收到异议" in timeline
    assert "&lt;script&gt;超额收费&lt;/script&gt;" in timeline and "<script>超额" not in page.text

    reviewer = await signed_in("reviewer", region_code="360100")
    page = await reviewer.get(f"/reviewer/applications/{app['id']}")
    timeline = page.text.split('data-testid="timeline"')[1].split("</ol>")[0]
    assert timeline.index("异议不成立") < timeline.index("收到异议")


async def test_the_notice_page_says_how_to_object_in_peoples_words(client, accounts, db, new_browser):
    world = World(client, accounts, db)
    vendor = await world.vendor()
    app = await world.to_public_notice(vendor, await world.reviewer("360104"), await world.reviewer("360100"))
    page = await new_browser().get("/public/notices")
    assert page.status_code == 200 and app["number"] in page.text
    words = page.text.split('id="how-to-object"')[1]
    assert "提出异议" in words and "教育局" in words and "申请机构不能" in words
    assert "POST" not in words and "/api/v1" not in words  # people's words, no HTTP
    # The API the integrators' line points to still files one, and refuses as the page says.
    path = f"/api/v1/applications/{app['id']}/objections"
    school = await accounts.headers("school", region_code="360104", school_code="2136010410")
    filed = await client.post(path, json={"reason": "收费与公示不符"}, headers=school)
    assert filed.status_code == 201, filed.text
    own = await client.post(path, json={"reason": "测试"}, headers=vendor.headers)
    assert own.status_code == 403
    anonymous = await client.post(path, json={"reason": "匿名"})
    assert anonymous.status_code == 401


async def test_a_reviewer_decides_an_objection_through_the_form(client, accounts, db, signed_in):
    world = World(client, accounts, db)
    vendor = await world.vendor()
    app = await world.to_public_notice(vendor, await world.reviewer("360104"), await world.reviewer("360100"))
    school = await accounts.headers("school", region_code="360104", school_code="2136010411")
    filed = (await object_to(world, app, school, reason="收费与公示不符")).json()
    reviewer = await signed_in("reviewer", region_code="360100")
    path = f"/reviewer/applications/{app['id']}"
    page = await reviewer.get(path)
    version = page.text.split('name="version" value="')[1].split('"')[0]
    form_path = f"{path}/objections/{filed['id']}"
    assert f'action="{form_path}"' in page.text

    forged = await reviewer.http.post(form_path, data={"outcome": "dismissed", "reason": "x", "version": version})
    assert forged.status_code == 403
    bad = await reviewer.post(form_path, {"outcome": "maybe", "reason": "核实", "version": version})
    assert bad.status_code == 422 and "处理结果须为" in bad.text
    stale = await reviewer.post(form_path, {"outcome": "dismissed", "reason": "核实", "version": str(int(version) - 1)})
    assert stale.status_code == 409 and "该申请已由其他审核员处理" in stale.text
    county = await signed_in("reviewer", region_code="360402")
    assert (
        await county.post(form_path, {"outcome": "dismissed", "reason": "x", "version": version})
    ).status_code == 404

    done = await reviewer.post(
        form_path, {"outcome": "dismissed", "reason": "经核实<b>收费</b>符合标准", "version": version}
    )
    assert done.status_code == 303, done.text
    page = await reviewer.get(path)
    assert "异议不成立" in page.text and "经核实&lt;b&gt;收费&lt;/b&gt;符合标准" in page.text
    assert f'action="{form_path}"' not in page.text  # decided: no form any more
    assert (await world.get(app["id"], vendor.headers))["stage"] == "public_notice"
