"""Schools order whitelisted items for a term; refusals name who or what; the vendor
accepts or declines and the school cancels, through the workflow table."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.orders.models import SchoolOrder, SchoolOrderPerson
from service.timeutil import today_in_china
from tests.personnel.conftest import add_person


async def _count(ow, model) -> int:
    async with ow.db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()[0]


async def test_an_order_carries_the_published_fee_and_is_in_force(ow, ready):
    vendor, entries, person, term, school = ready
    response = await ow.place(school, ow.order_payload(term, entries[0], [person]))
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["standing"] == "in_force" and order["standing_reasons"] == []
    assert order["state"] == "placed" and order["version"] == 1 and order["warnings"] == []
    assert (order["fee"], order["fee_unit"]) == (3000, "per_session")  # the entry's published fee
    assert order["people"] == [{"person_id": person["person_id"], "masked_name": "王**"}]
    assert order["allowed_actions"] == ["cancel"]  # the school's, from the table
    assert await ow.orders(school) == [order | {"warnings": []}]
    async with ow.db.transaction() as session:
        events = (await session.exec(select(AuditEvent).where(AuditEvent.action == "orders:order:place"))).all()
    assert [e[0].object_id for e in events] == [order["id"]]


async def test_no_price_can_be_entered(ow, ready):
    vendor, entries, person, term, school = ready
    response = await ow.place(school, ow.order_payload(term, entries[0], [person], fee=1))
    assert response.status_code == 422, response.text  # an unknown field: the body is refused
    assert await _count(ow, SchoolOrder) == 0


async def test_refusals_name_what_is_wrong_and_leave_no_trace(ow, ready):
    vendor, entries, person, term, school = ready
    stranger = await add_person(ow.client, vendor, name="赵六")  # engaged, but no checks yet
    other_vendor, _ = await ow.approved()
    outsider = await ow.cleared_person(other_vendor)
    unlisted = await ow.item(vendor)  # in the catalogue, never admitted
    other_region_term = await ow.term("360102")
    cases = [
        (ow.order_payload(term, entries[0], [person], class_size=31), 422, "class_size_too_large", "class_size"),
        (
            ow.order_payload(term, entries[0], [person], grade_bands=["lower_primary"]),
            422,
            "grade_band_mismatch",
            "grade_bands",
        ),
        (ow.order_payload(term, entries[0], [person, stranger]), 422, "person_not_cleared", "people[1]"),
        (ow.order_payload(term, entries[0], [outsider]), 422, "person_not_cleared", "people[0]"),
        (
            ow.order_payload(term, {"service_item_id": unlisted["id"]}, [person]),
            422,
            "item_not_active",
            "service_item_id",
        ),
        (ow.order_payload(other_region_term, entries[0], [person]), 404, "term_not_found", None),
        (ow.order_payload(term, entries[0], [person], weekdays=[0, 8]), 422, "invalid_weekday", "weekdays"),
        (
            ow.order_payload(term, entries[0], [person], start_time="17:00", end_time="16:00"),
            422,
            "times_inverted",
            "end_time",
        ),
        (ow.order_payload(term, entries[0], []), 422, "people_required", "people"),
    ]
    for payload, status, code, field in cases:
        response = await ow.place(school, payload)
        assert response.status_code == status, (code, response.text)
        error = response.json()["error"]
        assert error["code"] == code, response.text
        if field:
            assert error["details"][0]["field"] == field
    stranger_detail = (await ow.place(school, cases[2][0])).json()["error"]["details"][0]
    assert "赵*" in stranger_detail["message"] and stranger_detail["person_id"] == stranger["person_id"]
    assert await _count(ow, SchoolOrder) == 0 and await _count(ow, SchoolOrderPerson) == 0


async def test_a_suspended_item_or_an_ended_term_cannot_be_ordered(ow, ready):
    vendor, entries, person, term, school = ready
    reviewer = await ow.reviewer("360104")
    response = await ow.adjust(reviewer, action="suspend", reason="接到投诉，暂停待查", entry_ids=[entries[0]["id"]])
    assert response.status_code == 200, response.text
    refused = await ow.place(school, ow.order_payload(term, entries[0], [person]))
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["status"] == "suspended"
    past = await ow.term(starts_in=-200, days=100)
    ended = await ow.place(school, ow.order_payload(past, entries[1], [person]))
    assert ended.status_code == 422 and ended.json()["error"]["code"] == "term_ended"


async def test_an_unpublished_fee_cannot_be_ordered(ow, ready):
    vendor, entries, person, term, school = ready
    await ow.sql(
        "UPDATE whitelist_entries SET fee_published_on = :day WHERE id = CAST(:id AS uuid)",
        day=today_in_china() + timedelta(days=3),
        id=entries[0]["id"],
    )
    response = await ow.place(school, ow.order_payload(term, entries[0], [person]))
    assert response.status_code == 422 and response.json()["error"]["code"] == "fee_not_published", response.text


async def test_a_clearance_ending_before_the_term_is_a_warning_and_puts_the_order_at_risk(ow, ready):
    vendor, entries, person, term, school = ready
    soon = await ow.cleared_person(vendor, checked_days_ago=350, name="李四")  # cleared for 15 more days
    response = await ow.place(school, ow.order_payload(term, entries[0], [person, soon]))
    assert response.status_code == 201, response.text
    order = response.json()
    until = (today_in_china() + timedelta(days=15)).isoformat()
    assert [(w["code"], w["until"], w["person_id"]) for w in order["warnings"]] == [
        ("clearance_ends_before_term_end", until, soon["person_id"])
    ]
    assert order["standing"] == "at_risk"
    assert [(r["code"], r["until"]) for r in order["standing_reasons"]] == [("clearance_ending", until)]
    assert "李*" in order["standing_reasons"][0]["message"]


async def test_the_vendor_accepts_and_the_school_cancels_through_the_table(ow, ready):
    vendor, entries, person, term, school = ready
    order = (await ow.place(school, ow.order_payload(term, entries[0], [person]))).json()

    received = await ow.client.get("/api/v1/orders", headers=vendor.headers)
    assert [o["id"] for o in received.json()["items"]] == [order["id"]]
    assert received.json()["items"][0]["allowed_actions"] == ["accept", "decline"]

    wrong_role = await ow.order_act(order, vendor.headers, "cancel", reason="不想做了")
    assert wrong_role.status_code == 409 and wrong_role.json()["error"]["code"] == "transition_not_allowed"
    accepted = await ow.order_act(order, vendor.headers, "accept")
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["state"], accepted.json()["version"]) == ("accepted", 2)

    stale = await ow.order_act(order, school.headers, "cancel", reason="课程调整")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    assert stale.json()["error"]["details"][0]["state"] == "accepted"
    no_reason = await ow.order_act(accepted.json(), school.headers, "cancel")
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reason_required"
    cancelled = await ow.order_act(accepted.json(), school.headers, "cancel", reason="学校课程调整")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["state"], body["standing"], body["allowed_actions"]) == ("cancelled", "closed", [])
    async with ow.db.transaction() as session:
        actions = [
            e[0].action
            for e in (
                await session.exec(
                    select(AuditEvent).where(AuditEvent.object_id == order["id"]).order_by(AuditEvent.id)
                )
            ).all()
        ]
    assert actions == ["orders:order:place", "orders:order:accept", "orders:order:cancel"]


async def test_orders_are_seen_only_by_their_school_vendor_and_bureau(ow, ready):
    vendor, entries, person, term, school = ready
    order = (await ow.place(school, ow.order_payload(term, entries[0], [person]))).json()
    other_school = await ow.new_school()
    other_vendor, _ = await ow.approved()
    assert (await ow.client.get(f"/api/v1/orders/{order['id']}", headers=other_school.headers)).status_code == 404
    assert (await ow.client.get(f"/api/v1/orders/{order['id']}", headers=other_vendor.headers)).status_code == 404
    listing = await ow.client.get(f"/api/v1/schools/{school.code}/orders", headers=other_school.headers)
    assert listing.status_code == 404
    far_reviewer = await ow.reviewer("360102")
    assert (await ow.client.get(f"/api/v1/orders/{order['id']}", headers=far_reviewer)).status_code == 404
    county = await ow.reviewer("360104")
    assert [o["id"] for o in await ow.orders(school, county)] == [order["id"]]
    other_order = await ow.place(
        other_school,
        ow.order_payload(term, entries[0], [person]),
    )
    assert other_order.status_code == 201
    placed_elsewhere = await ow.client.post(
        f"/api/v1/schools/{school.code}/orders",
        headers=other_school.headers,
        json=ow.order_payload(term, entries[0], [person]),
    )
    assert placed_elsewhere.status_code == 404
