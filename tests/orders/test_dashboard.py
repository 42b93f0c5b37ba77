"""The bureau's region dashboard: standings, the orders needing attention with their
causes, overdue timetables, documents ending — as of the read."""

from __future__ import annotations

from datetime import timedelta

from service.timeutil import today_in_china


async def test_the_dashboard_counts_standings_and_names_what_needs_attention(ow, ready):
    vendor, entries, person, term, school = ready
    soon = await ow.cleared_person(vendor, checked_days_ago=350, name="李四")
    fine = (await ow.place(school, ow.order_payload(term, entries[0], [person]))).json()
    risky = (await ow.place(school, ow.order_payload(term, entries[0], [soon]))).json()
    blocked = (await ow.place(school, ow.order_payload(term, entries[1], [person]))).json()
    cancelled = (await ow.place(school, ow.order_payload(term, entries[0], [person]))).json()
    assert (await ow.order_act(cancelled, school.headers, "cancel", reason="重复下单")).status_code == 200
    county = await ow.reviewer("360104")
    assert (
        await ow.adjust(county, action="suspend", reason="接到投诉，暂停待查", entry_ids=[entries[1]["id"]])
    ).status_code == 200
    ending_on = (today_in_china() + timedelta(days=20)).isoformat()
    await ow.document(vendor, doc_type="school_permit", valid_until=ending_on)

    response = await ow.client.get("/api/v1/regions/360104/dashboard", headers=county)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["term_id"] == term["id"]
    assert body["orders_by_standing"] == {"in_force": 1, "at_risk": 1, "blocked": 1}
    assert [(a["order_id"], a["standing"], [r["code"] for r in a["standing_reasons"]]) for a in body["attention"]] == [
        (blocked["id"], "blocked", ["item_suspended"]),
        (risky["id"], "at_risk", ["clearance_ending"]),
    ]
    assert fine["id"] not in {a["order_id"] for a in body["attention"]}
    assert [(d["vendor_id"], d["doc_type"], d["last_day"]) for d in body["documents_ending"]] == [
        (vendor.id, "school_permit", ending_on)
    ]
    assert body["timetables_overdue"] == [] and body["schools"] >= 1  # due in a fortnight

    far = await ow.reviewer("360102")
    assert (await ow.client.get("/api/v1/regions/360104/dashboard", headers=far)).status_code == 403
    assert (await ow.client.get("/api/v1/regions/360104/dashboard", headers=school.headers)).status_code == 403
