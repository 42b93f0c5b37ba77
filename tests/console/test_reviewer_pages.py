"""Reviewer pages over HTTP: the queue with its filters, an application with the
table's actions as buttons, a decision through the form, and a version conflict."""

from __future__ import annotations

import re

from tests.applications.conftest import World


async def _world(client, accounts, db) -> World:
    return World(client, accounts, db)


async def test_queue_lists_in_scope_work_with_filters_and_overdue(client, accounts, db, signed_in):
    world = await _world(client, accounts, db)
    vendor = await world.vendor(name="南昌启明星<b>科技</b>教育服务有限公司")
    app = await world.application(vendor)
    await world.step(app, vendor.headers, "submit")
    other = await world.vendor(region_code="360402", name="九江市书香阅读中心")
    await world.step(await world.application(other, region_code="360402"), other.headers, "submit")
    await world.sql(
        "UPDATE applications SET stage_entered_at = now() - interval '5 days' WHERE id = CAST(:id AS uuid)",
        id=app["id"],
    )

    browser = await signed_in("reviewer", region_code="360104")
    page = await browser.get("/reviewer")
    assert page.status_code == 200
    assert "共 1 条" in page.text and "九江" not in page.text  # another county's file is out of scope
    assert "南昌启明星&lt;b&gt;科技&lt;/b&gt;" in page.text  # user input shown as text
    assert 'class="overdue"' in page.text and "已超时" in page.text and "5 天" in page.text
    assert re.search(r'class="count"[^>]*>1<', page.text)  # the menu's to-do count
    assert "共 0 条" in (await browser.get("/reviewer?category=4")).text
    assert "共 1 条" in (await browser.get("/reviewer?category=2&stage=submitted")).text
    bad = await browser.get("/reviewer?region=999999")
    assert bad.status_code == 200 and "alert error" in bad.text


async def test_accept_and_pass_through_the_forms_then_conflict(client, accounts, db, signed_in):
    world = await _world(client, accounts, db)
    vendor = await world.vendor()
    app = await world.step(await world.application(vendor), vendor.headers, "submit")
    browser = await signed_in("reviewer", region_code="360104")
    path = f"/reviewer/applications/{app['id']}"
    page = await browser.get(path)
    assert page.status_code == 200
    assert "受理" in page.text and 'value="accept"' in page.text and 'value="return"' in page.text
    assert 'value="approve"' not in page.text  # only what the table allows now
    assert "营业执照" in page.text and "少儿机器人编程" in page.text and "30.00 元 每课时" in page.text
    document = re.search(r'href="(/files/vendors/[^"]+)"', page.text).group(1)
    opened = await browser.http.get(document)
    assert opened.status_code == 200 and opened.headers["content-disposition"].startswith("inline")

    done = await browser.post(path + "/act", {"action": "accept", "version": str(app["version"]), "reason": ""})
    assert done.status_code == 303
    page = await browser.get(path)
    assert 'value="pass_preliminary"' in page.text and "受理" in page.text  # the timeline shows it

    trail = await world.audit_actions(app["id"])
    stale = await browser.post(path + "/act", {"action": "accept", "version": str(app["version"]), "reason": ""})
    assert stale.status_code == 409 and "该申请已由其他审核员处理，请查看最新状态" in stale.text
    assert 'value="pass_preliminary"' in stale.text  # and the new state

    needs_reason = await browser.post(
        path + "/act", {"action": "return", "version": str(app["version"] + 1), "reason": ""}
    )
    assert needs_reason.status_code == 422
    assert await world.audit_actions(app["id"]) == trail  # refused steps leave no trace
    after = await world.get(app["id"], vendor.headers)
    assert after["stage"] == "preliminary_review" and after["version"] == app["version"] + 1


async def test_another_scope_and_other_roles_get_404(client, accounts, db, signed_in):
    world = await _world(client, accounts, db)
    vendor = await world.vendor()
    app = await world.step(await world.application(vendor), vendor.headers, "submit")
    elsewhere = await signed_in("reviewer", region_code="360402")
    assert (await elsewhere.get(f"/reviewer/applications/{app['id']}")).status_code == 404
    refused = await elsewhere.post(
        f"/reviewer/applications/{app['id']}/act", {"action": "accept", "version": str(app["version"])}
    )
    assert refused.status_code == 404
    school = await signed_in("school", region_code="360104", school_code="2136010477")
    assert (await school.get("/reviewer")).status_code == 404
    assert (await world.get(app["id"], vendor.headers))["stage"] == "submitted"


async def test_queue_says_which_applications_are_mine_to_act_on(client, accounts, db, signed_in):
    """A file in final review is the city's turn: the county's queue offers 查看, the city's 办理."""
    world = await _world(client, accounts, db)
    vendor = await world.vendor()
    county_headers = await world.reviewer("360104")
    await world.to_final_review(vendor, county_headers)

    def op(html: str) -> str:
        return html.split('<td class="ops">')[1].split("</td>")[0]

    county = await signed_in("reviewer", region_code="360104")
    cell = op((await county.get("/reviewer")).text)
    assert ">查看</a>" in cell and "待其他层级办理" in cell
    city = await signed_in("reviewer", region_code="360100")
    cell = op((await city.get("/reviewer")).text)
    assert ">办理</a>" in cell and "待其他层级办理" not in cell
    assert ">办理</a>" in op((await city.get("/reviewer/applications")).text)


async def test_the_to_do_count_is_what_waits_for_this_reviewer(client, accounts, db, signed_in):
    """The menu's 待办 count is the files the table gives this reviewer an action on (the
    list's 办理 rows), not every file of its scope in a review stage."""
    world = await _world(client, accounts, db)
    county_headers = await world.reviewer("360104")
    await world.to_final_review(await world.vendor(), county_headers)  # the city's turn
    vendor = await world.vendor()
    await world.step(await world.application(vendor), vendor.headers, "submit")  # the county's turn

    def count(html: str) -> int:
        found = re.search(r'href="/reviewer"[^>]*>待办<span class="count"[^>]*>(\d+)<', html)
        return int(found.group(1)) if found else 0

    county = await signed_in("reviewer", region_code="360104")
    page = (await county.get("/reviewer")).text
    assert "共 2 条" in page and count(page) == 1  # both listed; the final review is the city's
    assert page.count(">办理</a>") == 1
    # The city decides the final review and may take over the county's stages (the table).
    city = await signed_in("reviewer", region_code="360100")
    page = (await city.get("/reviewer")).text
    assert "共 2 条" in page and count(page) == 2 == page.count(">办理</a>")
