"""Rating pages over HTTP: the school rates an order once and issues codes (a printable
list shown once, no-store, by Post/Redirect/Get); a parent rates with a code on the
public page, no sign-in, and the code then fails; the reviewer sees the re-review the
ratings opened and closes it with a reason. Refusals sit beside their field, in Chinese,
and store nothing; another school's order is 404."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.ratings.conftest import RatingsWorld

CODE = re.compile(r"PJ-[0-9A-Z]{5}-[0-9A-Z]{5}")


async def _accepted_at_term_end(rw: RatingsWorld, class_size: int = 10):
    vendor, entries = await rw.approved()
    person = await rw.cleared_person(vendor)
    term, school = await rw.term(starts_in=-100, days=105), await rw.new_school()  # ends in five days
    order = (await rw.place(school, rw.order_payload(term, entries[0], [person], class_size=class_size))).json()
    assert (await rw.order_act(order, vendor.headers, "accept")).status_code == 200
    return term, school, order


async def _counts(db) -> tuple[int, int]:
    async with db.transaction() as session:
        ratings = (await session.exec(text("SELECT count(*) FROM order_ratings"))).one()[0]
        codes = (await session.exec(text("SELECT count(*) FROM rating_codes"))).one()[0]
    return ratings, codes


async def test_the_school_rates_once_and_prints_codes_a_parent_uses_once(client, accounts, db, signed_in, new_browser):
    rw = RatingsWorld(client, accounts, db)
    term, school, order = await _accepted_at_term_end(rw)
    page = await signed_in("school", region_code="360104", school_code=school.code)

    listed = await page.get("/school/ratings")
    assert listed.status_code == 200 and "少儿机器人编程" in listed.text and "评价进行中" in listed.text
    assert "已发放 0 / 10" in listed.text

    # Bad input: beside its field, nothing stored.
    no_verdict = await page.post(f"/school/ratings/{order['id']}", {"term": term["id"], "satisfied": "maybe"})
    assert no_verdict.status_code == 422 and "请选择“满意”或“不满意”" in no_verdict.text
    too_many = await page.post(f"/school/ratings/{order['id']}/codes", {"term": term["id"], "count": "11"})
    assert too_many.status_code == 422 and 'class="field-error"' in too_many.text
    assert "合计不超过班额 10" in too_many.text.split('class="field-error"')[1]
    not_a_number = await page.post(f"/school/ratings/{order['id']}/codes", {"term": term["id"], "count": "三"})
    assert not_a_number.status_code == 422 and "评价码数量请填写整数" in not_a_number.text
    forged = await page.http.post(f"/school/ratings/{order['id']}", data={"term": term["id"], "satisfied": "yes"})
    assert forged.status_code == 403
    assert await _counts(db) == (0, 0)

    # Another school's order: not found, nothing stored.
    other = await signed_in("school", region_code="360104", school_code=(await rw.new_school()).code)
    assert (
        await other.post(f"/school/ratings/{order['id']}", {"term": term["id"], "satisfied": "yes"})
    ).status_code == 404
    assert (
        await other.post(f"/school/ratings/{order['id']}/codes", {"term": term["id"], "count": "2"})
    ).status_code == 404
    assert (await other.get(f"/school/ratings/{order['id']}/codes", params={"term": term["id"]})).status_code == 404
    assert await _counts(db) == (0, 0)

    rated = await page.post(f"/school/ratings/{order['id']}", {"term": term["id"], "satisfied": "yes"})
    assert rated.status_code == 303 and rated.headers["location"] == f"/school/ratings?term={term['id']}&done=rated"
    shown = await page.get(rated.headers["location"])
    assert "已提交本校评价" in shown.text and "已评价" in shown.text
    twice = await page.post(f"/school/ratings/{order['id']}", {"term": term["id"], "satisfied": "no"})
    assert twice.status_code == 409 and "本校已评价过该订单" in twice.text
    assert await _counts(db) == (1, 0)

    issued = await page.post(f"/school/ratings/{order['id']}/codes", {"term": term["id"], "count": "3"})
    assert issued.status_code == 303, issued.text
    assert issued.headers["location"] == f"/school/ratings/{order['id']}/codes?term={term['id']}"
    printable = await page.get(issued.headers["location"])
    assert printable.status_code == 200 and printable.headers["cache-control"] == "no-store"
    codes = CODE.findall(printable.text.split('data-testid="codes"')[1])
    assert len(codes) == 3 and len(set(codes)) == 3 and "只显示这一次" in printable.text
    refreshed = await page.get(issued.headers["location"])
    assert refreshed.headers["cache-control"] == "no-store" and 'data-testid="codes-gone"' in refreshed.text
    assert not any(c in refreshed.text for c in codes)
    assert await _counts(db) == (1, 3)
    assert "已发放 3 / 10" in (await page.get("/school/ratings")).text

    # A parent, signed in nowhere, on the public page.
    parent = new_browser()
    form = await parent.get("/public/rating")
    assert form.status_code == 200 and "评价码" in form.text and 'name="satisfied"' in form.text
    unknown = await parent.post("/public/rating", {"code": "PJ-00000-00000", "satisfied": "yes"})
    assert unknown.status_code == 404 and "评价码无效" in unknown.text.split('id="err-code"')[1]
    no_choice = await parent.post("/public/rating", {"code": codes[0]})
    assert no_choice.status_code == 422 and "请选择“满意”或“不满意”" in no_choice.text.split('id="err-satisfied"')[1]
    assert f'value="{codes[0]}"' in no_choice.text  # what was typed stays
    assert await _counts(db) == (1, 3)
    done = await parent.post("/public/rating", {"code": codes[0].lower().replace("-", ""), "satisfied": "no"})
    assert done.status_code == 303 and done.headers["location"] == "/public/rating/thanks"
    assert "感谢您的评价" in (await parent.get(done.headers["location"])).text
    used = await parent.post("/public/rating", {"code": codes[0], "satisfied": "yes"})
    assert used.status_code == 409 and "该评价码已使用过" in used.text.split('id="err-code"')[1]
    assert await _counts(db) == (2, 3)
    assert "已使用 1" in (await page.get("/school/ratings")).text


async def test_the_reviewer_sees_the_re_review_and_closes_it_with_a_reason(client, accounts, db, signed_in):
    rw = RatingsWorld(client, accounts, db)
    term, school, order = await _accepted_at_term_end(rw)
    assert (await rw.rate_school(school, order, False)).status_code == 201
    codes = (await rw.codes(school, order, 4)).json()["codes"]
    for code, satisfied in zip(codes, [True, True, False, False]):  # 2 of 5: below 80 %
        assert (await rw.rate_code(code, satisfied)).status_code == 201

    reviewer = await signed_in("reviewer", region_code="360104")
    listed = await reviewer.get("/reviewer/re-reviews")
    assert listed.status_code == 200, listed.text
    rows = listed.text.split('data-testid="re-reviews"')[1].split("</table>")[0]
    assert "少儿机器人编程" in rows and "2/5 满意" in rows and "40%" in rows and "80%" in rows and term["name"] in rows
    (review_id,) = re.findall(r'id="review-([0-9a-f-]{36})"', rows)
    board = await reviewer.get("/supervision/dashboard")  # the dashboard leads to this page
    assert 'href="/reviewer/re-reviews?region=360104" data-testid="re-reviews-link"' in board.text

    blank = await reviewer.post(f"/reviewer/re-reviews/{review_id}/close", {"region": "360104", "reason": "  "})
    assert blank.status_code == 422 and "请填写理由" in blank.text.split('class="field-error"')[1]
    forged = await reviewer.http.post(f"/reviewer/re-reviews/{review_id}/close", data={"reason": "已约谈机构"})
    assert forged.status_code == 403
    far = await signed_in("reviewer", region_code="360102")
    assert (await far.post(f"/reviewer/re-reviews/{review_id}/close", {"reason": "已约谈机构"})).status_code == 404
    auditor = await signed_in("auditor", region_code="360104")
    seen = await auditor.get("/reviewer/re-reviews")
    assert seen.status_code == 200 and "少儿机器人编程" in seen.text and "确认办结" not in seen.text
    assert (await rw.client.get("/api/v1/regions/360104/re-reviews", headers=await rw.reviewer("360104"))).json()[
        "items"
    ][0]["state"] == "open"

    closed = await reviewer.post(
        f"/reviewer/re-reviews/{review_id}/close", {"region": "360104", "reason": "已约谈机构，<b>限期整改</b>"}
    )
    assert closed.status_code == 303 and closed.headers["location"] == "/reviewer/re-reviews?region=360104&done=closed"
    after = await reviewer.get(closed.headers["location"])
    assert "已办结该复核" in after.text and "暂无待处理的满意度复核" in after.text
    history = await reviewer.get("/reviewer/re-reviews", params={"status": "closed"})
    assert "已约谈机构，&lt;b&gt;限期整改&lt;/b&gt;" in history.text and "已办结" in history.text  # as text
    again = await reviewer.post(f"/reviewer/re-reviews/{review_id}/close", {"region": "360104", "reason": "再次"})
    assert again.status_code == 409 and "该复核已办结" in again.text
    school_page = await signed_in("school", region_code="360104", school_code=school.code)
    assert (await school_page.get("/reviewer/re-reviews")).status_code == 404
