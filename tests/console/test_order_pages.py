"""Order pages over HTTP: the school orders from the whitelist (refusals next to their
field), the vendor accepts and declines, the school cancels, a stale version is a
conflict in words, a suspension shows as 受阻 with its cause; the bureau's dashboard."""

from __future__ import annotations

from tests.orders.conftest import OrdersWorld


async def _world(client, accounts, db, signed_in):
    ow = OrdersWorld(client, accounts, db)
    vendor, entries = await ow.approved()
    person = await ow.cleared_person(vendor)
    soon = await ow.cleared_person(vendor, checked_days_ago=350, name="李四")
    term, school = await ow.term(), await ow.new_school()
    school_page = await signed_in("school", region_code="360104", school_code=school.code)
    vendor_page = await signed_in("vendor", vendor_credit_code=vendor.credit_code)
    return ow, vendor, entries, person, soon, term, school, school_page, vendor_page


def _order_form(term, entry, people, **overrides) -> dict:
    return {
        "term_id": term["id"],
        "service_item_id": entry["service_item_id"],
        "weekdays": ["2", "4"],
        "start_time": "15:40",
        "end_time": "17:10",
        "venue": "科学教室",
        "class_size": "25",
        "grade_bands": ["upper_primary"],
        "people": [p["person_id"] for p in people],
    } | overrides


async def test_a_school_orders_the_vendor_answers_and_standings_show_in_words(client, accounts, db, signed_in):
    ow, vendor, entries, person, soon, term, school, page, vendor_page = await _world(client, accounts, db, signed_in)

    empty = await page.get("/school/orders")
    assert empty.status_code == 200 and "本学期尚未点单" in empty.text and term["name"] in empty.text
    form = await page.get("/school/orders/new", params={"term": term["id"], "item": entries[0]["service_item_id"]})
    assert form.status_code == 200 and 'name="people"' in form.text and person["person_id"] in form.text
    assert "30.00 元 每课时" in form.text  # the published fee, not a field

    too_big = await page.post("/school/orders", _order_form(term, entries[0], [person], class_size="999"))
    assert too_big.status_code == 422 and "班额不能超过该服务项目的上限" in too_big.text
    assert 'class="field-error"' in too_big.text and 'value="科学教室"' in too_big.text  # the form keeps its values
    assert await ow.orders(school) == []  # nothing saved

    # Post/Redirect/Get: placing answers 303 to the list with that order's confirmation,
    # so a refresh of the confirmation reads again and orders nothing.
    placed = await page.post("/school/orders", _order_form(term, entries[0], [person]))
    assert placed.status_code == 303, placed.text
    (only,) = await ow.orders(school)
    assert placed.headers["location"] == f"/school/orders?term={term['id']}&placed={only['id']}"
    shown = await page.get(placed.headers["location"])
    assert shown.status_code == 200 and 'data-testid="message"' in shown.text
    assert "等待机构确认" in shown.text and "待机构确认" in shown.text and "正常" in shown.text
    assert (await page.get(placed.headers["location"])).status_code == 200 and len(await ow.orders(school)) == 1
    risky = await page.post("/school/orders", _order_form(term, entries[0], [soon], weekdays=["3"]))
    assert risky.status_code == 303
    risky = await page.get(risky.headers["location"])
    assert risky.status_code == 200 and "存在风险" in risky.text and "的入校核验有效期至" in risky.text
    assert 'data-testid="warning"' in risky.text  # the clearance ends before the term does
    third = await page.post("/school/orders", _order_form(term, entries[1], [person], weekdays=["5"]))
    assert third.status_code == 303
    first, second, last = sorted(await ow.orders(school), key=lambda o: o["created_at"])
    assert 'data-testid="warning"' not in (await page.get(third.headers["location"])).text  # warnings are its own
    # Another school's order is not confirmed here: not found.
    other_school = await signed_in("school", region_code="360104", school_code=(await ow.new_school()).code)
    assert (await other_school.get(third.headers["location"])).status_code == 404
    assert (await page.get("/school/orders", params={"placed": "nope"})).status_code == 422

    incoming = await vendor_page.get("/vendor/orders")
    assert incoming.status_code == 200 and incoming.text.count("待机构确认") == 3 and school.code in incoming.text
    accepted = await vendor_page.post(f"/vendor/orders/{first['id']}/act", {"action": "accept", "version": "1"})
    assert accepted.status_code == 303
    no_reason = await vendor_page.post(f"/vendor/orders/{second['id']}/act", {"action": "decline", "version": "1"})
    assert no_reason.status_code == 422 and "field-error" in no_reason.text
    declined = await vendor_page.post(
        f"/vendor/orders/{second['id']}/act", {"action": "decline", "version": "1", "reason": "该时段教师已排满"}
    )
    assert declined.status_code == 303
    assert (
        await vendor_page.post(f"/vendor/orders/{last['id']}/act", {"action": "accept", "version": "1"})
    ).status_code == 303
    again = await vendor_page.post(f"/vendor/orders/{second['id']}/act", {"action": "accept", "version": "1"})
    assert again.status_code == 409 and "该订单已由对方处理或已被更新，请查看最新状态" in again.text

    # The school's cancel, on a version the vendor's accept made stale, is a conflict in words.
    stale = await page.post(
        f"/school/orders/{first['id']}/act",
        {"action": "cancel", "version": "1", "reason": "课时调整", "term": term["id"]},
    )
    assert stale.status_code == 409 and "请查看最新状态" in stale.text and "机构已接单" in stale.text

    county = await ow.reviewer("360104")
    assert (
        await ow.adjust(county, action="suspend", reason="接到投诉，暂停待查", entry_ids=[entries[1]["id"]])
    ).status_code == 200
    listed = await page.get("/school/orders", params={"term": term["id"]})
    assert "受阻" in listed.text and "该服务项目在本地区白名单中已被暂停" in listed.text
    assert "机构已拒绝" in listed.text

    cancelled = await page.post(
        f"/school/orders/{first['id']}/act",
        {"action": "cancel", "version": "2", "reason": "课时调整", "term": term["id"]},
    )
    assert cancelled.status_code == 303
    assert [o["state"] for o in sorted(await ow.orders(school), key=lambda o: o["created_at"])] == [
        "cancelled",
        "declined",
        "accepted",
    ]

    # Another vendor cannot act on these orders: not found, not a button.
    other = await signed_in("vendor", vendor_credit_code=(await ow.vendor()).credit_code)
    assert (
        await other.post(f"/vendor/orders/{last['id']}/act", {"action": "decline", "version": "2", "reason": "x"})
    ).status_code == 404


async def test_the_bureau_dashboard_page_names_what_needs_attention(client, accounts, db, signed_in):
    ow, vendor, entries, person, soon, term, school, page, _ = await _world(client, accounts, db, signed_in)
    for entry, who in ((entries[0], person), (entries[0], soon), (entries[1], person)):
        assert (await ow.place(school, ow.order_payload(term, entry, [who]))).status_code == 201
    county = await ow.reviewer("360104")
    assert (
        await ow.adjust(county, action="suspend", reason="接到投诉，暂停待查", entry_ids=[entries[1]["id"]])
    ).status_code == 200

    filed = await client.post(
        "/api/v1/complaints",
        headers=school.headers,
        json={"school_code": school.code, "category": "fee_bundling", "description": "另收教材费，未公示"},
    )
    assert filed.status_code == 201, filed.text

    reviewer = await signed_in("reviewer", region_code="360104")
    board = await reviewer.get("/supervision/dashboard")
    assert board.status_code == 200, board.text
    attention = board.text.split('data-testid="attention"')[1].split("</table>")[0]
    assert attention.index("受阻") < attention.index("存在风险")
    assert "该服务项目在本地区白名单中已被暂停" in attention and "李*" in attention
    clearances = board.text.split('data-testid="clearances"')[1].split("</table>")[0]
    assert "李*" in clearances and "1 个" in clearances
    complaints = board.text.split('data-testid="complaints"')[1].split("</table>")[0]
    assert school.code in complaints and "捆绑收费、搭车收费" in complaints and "0 天" in complaints
    case_link = complaints.split('<a href="')[1].split('"')[0]  # each open case opens its case page
    assert (
        case_link == f"/reviewer/complaints/{filed.json()['id']}" and (await reviewer.get(case_link)).status_code == 200
    )
    api = (await client.get("/api/v1/regions/360104/dashboard", headers=county)).json()
    assert [c["masked_name"] for c in api["clearances_ending"]] == ["李*"]
    assert api["open_complaints_by_age"] == {"within_7_days": 1, "8_to_30_days": 0, "over_30_days": 0}
    assert [(c["school_code"], c["category"], c["age_days"]) for c in api["open_complaints"]] == [
        (school.code, "fee_bundling", 0)
    ]

    far = await signed_in("reviewer", region_code="360102")
    assert (await far.get("/supervision/dashboard", params={"region": "360104"})).status_code in (403, 404)
    assert (await page.get("/supervision/dashboard")).status_code == 404  # a school has no such page


async def test_the_dashboard_lists_items_below_the_satisfaction_threshold(client, accounts, db, signed_in):
    ow = OrdersWorld(client, accounts, db)
    vendor, entries = await ow.approved()
    person = await ow.cleared_person(vendor)
    term, school = await ow.term(starts_in=-100, days=105), await ow.new_school()  # ends in five days
    order = (await ow.place(school, ow.order_payload(term, entries[0], [person]))).json()
    assert (await ow.order_act(order, vendor.headers, "accept")).status_code == 200
    rated = await client.post(f"/api/v1/orders/{order['id']}/rating", json={"satisfied": False}, headers=school.headers)
    assert rated.status_code in (200, 201), rated.text
    codes = (
        await client.post(f"/api/v1/orders/{order['id']}/rating-codes", json={"count": 4}, headers=school.headers)
    ).json()["codes"]
    for code, satisfied in zip(codes, [True, True, False, False]):  # 2 of 5 satisfied: below 80 %
        assert (
            await client.post("/api/v1/public/ratings", json={"code": code, "satisfied": satisfied})
        ).status_code == 201

    county = await ow.reviewer("360104")
    api = (await client.get("/api/v1/regions/360104/dashboard", headers=county)).json()
    assert [
        (b["service_item_id"], b["satisfied"], b["ratings"], b["threshold_percent"]) for b in api["below_threshold"]
    ] == [(entries[0]["service_item_id"], 2, 5, 80)]
    reviewer = await signed_in("reviewer", region_code="360104")
    board = await reviewer.get("/supervision/dashboard")
    below = board.text.split('data-testid="below-threshold"')[1].split("</table>")[0]
    assert "少儿机器人编程" in below and "2/5 满意" in below and "40%" in below and "80%" in below
