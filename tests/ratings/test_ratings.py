"""Ratings at term end: a one-time code works once and anonymously; the school rates once
in the window; an item below the region's threshold goes to re-review by itself."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, inspect, select

from service.audit.models import AuditEvent
from service.ratings import items_below_threshold
from service.ratings.models import ItemReReview, OrderRating


async def _count(rw, model) -> int:
    async with rw.db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()[0]


async def test_a_rating_code_works_once_and_leaves_no_link_to_who_rated(rw, term_end):
    vendor, entries, person, term, school, order = term_end
    issued = await rw.codes(school, order, 3)
    assert issued.status_code == 201, issued.text
    codes = issued.json()["codes"]
    assert len(set(codes)) == 3 and all(c.startswith("PJ-") and len(c) == 14 for c in codes)

    first = await rw.rate_code(codes[0], True)
    assert first.status_code == 201 and first.json() == {"accepted": True}, first.text
    again = await rw.rate_code(codes[0], False)
    assert again.status_code == 409 and again.json()["error"]["code"] == "rating_code_used"
    loosely = await rw.rate_code(codes[1].replace("-", "").lower(), False)  # typed on a phone
    assert loosely.status_code == 201
    unknown = await rw.rate_code("PJ-00000-00000", True)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "rating_code_not_found"
    assert await _count(rw, OrderRating) == 2  # counted once each
    # Anonymous: a rating row holds nothing of the code or of anyone.
    columns = {c.key for c in inspect(OrderRating).columns}
    assert columns == {
        "id",
        "order_id",
        "service_item_id",
        "term_id",
        "region_code",
        "rater",
        "satisfied",
        "created_at",
    }

    too_many = await rw.codes(school, order, 8)  # 3 issued, class size 10
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "invalid_count"
    other = await rw.new_school()
    assert (await rw.codes(other, order, 1)).status_code == 404


async def test_the_school_rates_each_order_once_and_only_at_term_end(rw, term_end):
    vendor, entries, person, term, school, order = term_end
    rated = await rw.rate_school(school, order, True)
    assert rated.status_code == 201, rated.text
    body = rated.json()
    assert (body["rater"], body["satisfied"]) == ("school", True)
    assert body["satisfaction"] == {
        "satisfied": 1,
        "ratings": 1,
        "share": 1.0,
        "threshold_percent": 80,
        "re_review_id": None,
    }
    twice = await rw.rate_school(school, order, False)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_rated"
    assert (await rw.rate_school(await rw.new_school(), order, True)).status_code == 404

    early_term = await rw.term(starts_in=-10, days=120)
    early = (await rw.place(school, rw.order_payload(early_term, entries[1], [person]))).json()
    await rw.order_act(early, vendor.headers, "accept")
    too_early = await rw.rate_school(school, early, True)
    assert too_early.status_code == 409 and too_early.json()["error"]["code"] == "rating_window_closed"
    async with rw.db.transaction() as session:
        actions = [
            e[0].action
            for e in (await session.exec(select(AuditEvent).where(AuditEvent.action.like("ratings:%")))).all()
        ]
    assert actions == ["ratings:rating:school"]


async def _ratings(rw, school, order, satisfied: list[bool]) -> dict:
    codes = (await rw.codes(school, order, len(satisfied))).json()["codes"]
    last = None
    for code, ok in zip(codes, satisfied):
        last = await rw.rate_code(code, ok)
        assert last.status_code == 201, last.text
    return last


async def test_an_item_below_the_threshold_goes_to_re_review_by_itself(rw, term_end):
    vendor, entries, person, term, school, order = term_end
    reviewer = await rw.reviewer("360104")
    await rw.rate_school(school, order, True)
    await _ratings(rw, school, order, [True, True, True, False])  # 4 of 5: 80 %, not below
    assert await _count(rw, ItemReReview) == 0
    await _ratings(rw, school, order, [False])  # 4 of 6: below 80 %
    listed = await rw.client.get("/api/v1/regions/360104/re-reviews", headers=reviewer)
    assert listed.status_code == 200, listed.text
    [review] = listed.json()["items"]
    assert (
        review["service_item_id"],
        review["satisfied"],
        review["ratings"],
        review["threshold_percent"],
        review["state"],
    ) == (entries[0]["service_item_id"], 4, 6, 80, "open")
    await _ratings(rw, school, order, [False])  # still below: the same re-review, not a second one
    assert await _count(rw, ItemReReview) == 1
    school_view = await rw.client.get("/api/v1/regions/360104/re-reviews", headers=school.headers)
    assert school_view.status_code == 403
    async with rw.db.transaction() as session:
        assert [r.id for r in await items_below_threshold(session, ["360104"])] == [UUID(review["id"])]

    no_reason = await rw.client.post(f"/api/v1/re-reviews/{review['id']}/close", headers=reviewer, json={"reason": ""})
    assert no_reason.status_code == 422
    closed = await rw.client.post(
        f"/api/v1/re-reviews/{review['id']}/close",
        headers=reviewer,
        json={"reason": "约谈机构，已暂停该项目并要求整改"},
    )
    assert closed.status_code == 200 and closed.json()["state"] == "closed", closed.text
    assert (await rw.client.get("/api/v1/regions/360104/re-reviews", headers=reviewer)).json()["items"] == []
    async with rw.db.transaction() as session:
        actions = [
            e[0].action
            for e in (
                await session.exec(
                    select(AuditEvent).where(AuditEvent.object_id == review["id"]).order_by(AuditEvent.id)
                )
            ).all()
        ]
    assert actions == ["ratings:re_review:open", "ratings:re_review:close"]


async def test_the_threshold_is_a_region_setting(rw, term_end):
    vendor, entries, person, term, school, order = term_end
    city = await rw.reviewer("360100")
    response = await rw.client.put(
        "/api/v1/regions/360100/settings", headers=city, json={"satisfaction_threshold_percent": 90}
    )
    assert response.status_code == 200, response.text
    assert (
        await rw.client.put(
            "/api/v1/regions/360100/settings", headers=city, json={"satisfaction_threshold_percent": 101}
        )
    ).status_code == 422
    await _ratings(rw, school, order, [True, True, True, True])
    assert await _count(rw, ItemReReview) == 0  # four ratings: not enough to judge
    last = await rw.rate_school(school, order, False)  # 4 of 5 = 80 %, below the county's inherited 90 %
    assert last.json()["satisfaction"]["threshold_percent"] == 90
    assert last.json()["satisfaction"]["re_review_id"] is not None
