"""Fee conformity (§3(2)): a school's fee list is public before the term starts, each fee
chargeable only from its publication; free services carry no fee (tests/service_items)."""

from __future__ import annotations

from datetime import timedelta

from service.orders.fees import chargeable
from service.timeutil import today_in_china


async def _fees(ow, school, term, **params):
    return await ow.client.get(f"/api/v1/public/schools/{school.code}/fees/{term['id']}", params=params)


async def test_the_fee_list_is_public_before_the_term_and_chargeable_from_publication(ow):
    vendor, entries = await ow.approved()
    person = await ow.cleared_person(vendor)
    term, school = await ow.term(starts_in=20), await ow.new_school()  # the term starts in 20 days
    first = (await ow.place(school, ow.order_payload(term, entries[0], [person]))).json()
    second = (await ow.place(school, ow.order_payload(term, entries[1], [person], weekdays=[3]))).json()
    assert (await _fees(ow, school, term)).json()["items"] == []  # placed, not yet accepted: not on the list
    accepted = await ow.order_act(first, vendor.headers, "accept")
    assert accepted.status_code == 200, accepted.text
    await ow.order_act(second, vendor.headers, "accept")
    # Accepted yesterday: on the list from yesterday on.
    await ow.sql(
        "UPDATE school_orders SET accepted_at = accepted_at - interval '1 day' WHERE id = CAST(:id AS uuid)",
        id=second["id"],
    )

    response = await _fees(ow, school, term)  # no sign-in
    assert response.status_code == 200, response.text
    body = response.json()
    today = today_in_china()
    assert (body["school_code"], body["on"], body["starts_on"]) == (school.code, today.isoformat(), term["starts_on"])
    rows = {r["order_id"]: r for r in body["items"]}
    assert list(rows) == [second["id"], first["id"]]  # in order of publication
    assert (rows[first["id"]]["fee"], rows[first["id"]]["fee_unit"]) == (first["fee"], first["fee_unit"])
    assert rows[first["id"]]["published_on"] == today.isoformat()
    assert rows[second["id"]]["published_on"] == (today - timedelta(days=1)).isoformat()
    assert all(r["chargeable"] and r["published_before_term_start"] for r in rows.values())

    yesterday = (await _fees(ow, school, term, on=(today - timedelta(days=1)).isoformat())).json()
    assert {r["order_id"]: r["chargeable"] for r in yesterday["items"]} == {second["id"]: True, first["id"]: False}

    cancelled = await ow.order_act(accepted.json(), school.headers, "cancel", reason="课程调整")
    assert cancelled.status_code == 200
    assert [r["order_id"] for r in (await _fees(ow, school, term)).json()["items"]] == [second["id"]]


async def test_a_fee_list_of_an_unknown_school_or_a_foreign_term_is_not_found(ow):
    school = await ow.new_school()
    foreign = await ow.term("360102")
    missing = await ow.client.get(f"/api/v1/public/schools/3601049999/fees/{foreign['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "school_not_found"
    other = await _fees(ow, school, foreign)
    assert other.status_code == 404 and other.json()["error"]["code"] == "term_not_found"


def test_a_fee_is_chargeable_only_from_its_publication_day():
    day = today_in_china()
    assert chargeable(day, day) and chargeable(day, day + timedelta(days=1))
    assert not chargeable(day, day - timedelta(days=1))
