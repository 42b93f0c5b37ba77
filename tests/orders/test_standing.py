"""An order's standing follows the whitelist and the named people by itself, on read."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from uuid import UUID

from service import orders as services
from service.security.actor import Actor, Role
from service.timeutil import CHINA_TZ, today_in_china


async def test_a_suspension_blocks_the_order_on_the_next_read_and_names_its_cause(ow, ready):
    vendor, entries, person, term, school = ready
    order = (await ow.place(school, ow.order_payload(term, entries[0], [person]))).json()
    accepted = (await ow.order_act(order, vendor.headers, "accept")).json()
    assert accepted["standing"] == "in_force"
    reviewer = await ow.reviewer("360104")
    response = await ow.adjust(reviewer, action="suspend", reason="接到投诉，暂停待查", entry_ids=[entries[0]["id"]])
    assert response.status_code == 200, response.text

    [listed] = await ow.orders(school)
    assert listed["standing"] == "blocked"
    assert [(r["code"], r["message"]) for r in listed["standing_reasons"]] == [
        ("item_suspended", "该服务项目在本地区白名单中已被暂停")
    ]
    county_view = (await ow.client.get(f"/api/v1/orders/{order['id']}", headers=reviewer)).json()
    assert county_view["standing"] == "blocked"


async def test_a_departure_blocks_the_order_without_telling_why_beyond_entry(ow, ready):
    vendor, entries, person, term, school = ready
    order = (await ow.place(school, ow.order_payload(term, entries[0], [person]))).json()
    left = await ow.client.post(
        f"/api/v1/vendors/{vendor.id}/people/{person['person_id']}/departure",
        json={"reason": "合同到期离职"},
        headers=vendor.headers,
    )
    assert left.status_code == 200, left.text
    [listed] = await ow.orders(school)
    assert listed["standing"] == "blocked"
    [reason] = listed["standing_reasons"]
    assert reason["code"] == "person_not_cleared" and reason["person_id"] == person["person_id"]
    assert "离职" not in reason["message"] and "合同" not in reason["message"]
    assert order["id"] == listed["id"]


async def test_the_standing_changes_at_the_exact_instant_a_clearance_ends(ow, ready):
    vendor, entries, person, term, school = ready
    soon = await ow.cleared_person(vendor, checked_days_ago=350, name="李四")  # last valid day: today + 15
    placed = await ow.place(school, ow.order_payload(term, entries[0], [soon]))
    assert placed.status_code == 201, placed.text
    ends = datetime.combine(today_in_china() + timedelta(days=16), time(0), tzinfo=CHINA_TZ)
    actor = Actor(account_id=None, role=Role.ADMIN)

    async def standing_at(at: datetime) -> tuple[str, list[str]]:
        [view] = await services.list_school_orders(ow.db, actor, school.code, now=at)
        return view.standing.standing, [r["code"] for r in view.standing.reasons]

    assert await standing_at(ends - timedelta(microseconds=1)) == ("at_risk", ["clearance_ending"])
    assert await standing_at(ends) == ("blocked", ["person_not_cleared"])
    assert UUID(placed.json()["people"][0]["person_id"]) == UUID(soon["person_id"])
