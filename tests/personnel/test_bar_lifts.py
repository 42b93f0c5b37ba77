"""A pending bar-lift request may be declined by a second province-level reviewer (with a
reason) or withdrawn by its requester; either way it stays as a record, lifts nothing,
and a new request for the same check may follow."""

from __future__ import annotations

import json
import uuid

from sqlmodel import col, select

from service import timeutil
from service.audit.models import AuditEvent
from service.personnel.models import BarLift
from tests.personnel.conftest import add_person, check_payload, record_all_clear

REASON = "经复核，该记录系同名误报，公安机关已出具更正说明"


async def _barred(client, vendor, reviewer, consent) -> tuple[str, str, str]:
    """A person cleared but for one adverse criminal-record result: (person id, check id, lifts URL)."""
    person = await add_person(client, vendor)
    today = str(timeutil.today_in_china())
    await record_all_clear(client, person["person_id"], reviewer, consent, query_date=today)
    adverse = await client.post(
        f"/api/v1/people/{person['person_id']}/checks",
        headers=reviewer,
        json=check_payload(consent, result="adverse", query_date=today),
    )
    assert adverse.status_code == 201, adverse.text
    return person["person_id"], adverse.json()["id"], f"/api/v1/people/{person['person_id']}/bar-lifts"


async def _province(accounts) -> dict:
    return await accounts.headers("reviewer", region_code="360000")


async def _request(client, lifts: str, headers: dict, check_id: str) -> dict:
    response = await client.post(lifts, headers=headers, json={"check_id": check_id, "reason": REASON})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    return response.json()


async def _pending(client, accounts, vendor, reviewer, consent) -> tuple[str, str, str, dict, dict, dict]:
    """A barred person whose bar one province reviewer asked to lift: (person id, check
    id, lifts URL, the requester's headers, a second province reviewer's, the request)."""
    person_id, check_id, lifts = await _barred(client, vendor, reviewer, consent)
    first, second = await _province(accounts), await _province(accounts)
    return person_id, check_id, lifts, first, second, await _request(client, lifts, first, check_id)


async def _events(db, lift_id: str) -> list[dict]:
    async with db.transaction() as session:
        rows = (
            await session.exec(
                select(AuditEvent.canonical).where(AuditEvent.object_id == lift_id).order_by(col(AuditEvent.id))
            )
        ).all()
    return [json.loads(row) for row in rows]


async def _lift_row(db, lift_id: str) -> BarLift:
    async with db.transaction() as session:
        return (await session.exec(select(BarLift).where(BarLift.id == uuid.UUID(lift_id)))).one()


async def _clearance(client, person_id: str, headers: dict) -> str:
    response = await client.get(f"/api/v1/people/{person_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["clearance"]


async def test_a_second_province_reviewer_declines_with_a_reason_and_a_new_request_may_follow(
    client, accounts, vendor, reviewer, consent, db
):
    person_id, check_id, lifts, first, second, lift = await _pending(client, accounts, vendor, reviewer, consent)
    second_request = await client.post(lifts, headers=second, json={"check_id": check_id, "reason": REASON})
    assert second_request.json()["error"]["code"] == "lift_exists"  # the pending request stands

    declined = await client.post(
        f"{lifts}/{lift['id']}/decline", headers=second, json={"reason": " 更正说明不足以证明 "}
    )
    assert declined.status_code == 200, declined.text
    body = declined.json()
    assert (body["status"], body["effective"], body["close_reason"]) == ("declined", False, "更正说明不足以证明")
    assert body["closed_by"] is not None and body["closed_at"] is not None and body["confirmed_at"] is None
    assert await _clearance(client, person_id, vendor.headers) == "barred"

    again = await _request(client, lifts, second, check_id)  # the declined one no longer blocks the check
    assert again["id"] != lift["id"]
    async with db.transaction() as session:
        rows = (await session.exec(select(BarLift).where(BarLift.check_id == uuid.UUID(check_id)))).all()
    assert sorted(lift_row.closed_as or "open" for lift_row in rows) == ["declined", "open"]  # nothing deleted

    events = await _events(db, lift["id"])
    assert [e["action"] for e in events] == ["personnel:bar:lift_request", "personnel:bar:lift_decline"]
    assert events[1]["reason"] == "更正说明不足以证明"
    assert events[1]["changes"] == {"status": {"before": "pending", "after": "declined"}}


async def test_a_decline_takes_a_second_province_reviewer_and_a_reason_and_refused_ones_change_nothing(
    client, accounts, vendor, reviewer, consent, db
):
    person_id, check_id, lifts, first, second, lift = await _pending(client, accounts, vendor, reviewer, consent)
    decline = f"{lifts}/{lift['id']}/decline"

    by_requester = await client.post(decline, headers=first, json={"reason": "我撤不了自己的"})
    assert by_requester.status_code == 403
    assert by_requester.json()["error"]["code"] == "second_reviewer_required"  # as confirm's four eyes
    by_county = await client.post(decline, headers=reviewer, json={"reason": "不同意"})
    assert by_county.status_code == 403 and by_county.json()["error"]["code"] == "province_reviewer_required"
    by_vendor = await client.post(decline, headers=vendor.headers, json={"reason": "不同意"})
    assert by_vendor.status_code == 403
    for body in ({}, {"reason": None}, {"reason": ""}, {"reason": "  \n "}):
        response = await client.post(decline, headers=second, json=body)
        assert response.status_code == 422, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == "reason_required" and error["details"][0]["field"] == "reason", body
    too_long = await client.post(decline, headers=second, json={"reason": "长" * 1001})
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "too_long"
    unknown = await client.post(f"{lifts}/{uuid.uuid4()}/decline", headers=second, json={"reason": "不同意"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "lift_not_found"
    other_id, _, other_lifts = await _barred(client, vendor, reviewer, consent)
    wrong_person = await client.post(f"{other_lifts}/{lift['id']}/decline", headers=second, json={"reason": "不同意"})
    assert wrong_person.status_code == 404 and wrong_person.json()["error"]["code"] == "lift_not_found"

    row = await _lift_row(db, lift["id"])
    assert (row.closed_as, row.closed_at, row.closed_by, row.close_reason, row.confirmed_at) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert [e["action"] for e in await _events(db, lift["id"])] == ["personnel:bar:lift_request"]
    # Still pending: the second reviewer can still confirm it.
    confirmed = await client.post(f"{lifts}/{lift['id']}/confirm", headers=second, json={})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert await _clearance(client, person_id, vendor.headers) == "cleared"
    assert await _clearance(client, other_id, vendor.headers) == "barred"


async def test_the_requester_withdraws_their_own_pending_request_and_nobody_else_can(
    client, accounts, vendor, reviewer, consent, db
):
    person_id, check_id, lifts, first, second, lift = await _pending(client, accounts, vendor, reviewer, consent)
    withdraw = f"{lifts}/{lift['id']}/withdraw"

    by_other = await client.post(withdraw, headers=second, json={})
    assert by_other.status_code == 403 and by_other.json()["error"]["code"] == "lift_requester_required"
    by_county = await client.post(withdraw, headers=reviewer, json={})
    assert by_county.status_code == 403 and by_county.json()["error"]["code"] == "lift_requester_required"
    assert (await client.post(withdraw, headers=vendor.headers, json={})).status_code == 403
    assert (await _lift_row(db, lift["id"])).closed_at is None

    withdrawn = await client.post(withdraw, headers=first, json={"reason": "选错了记录"})
    assert withdrawn.status_code == 200, withdrawn.text
    body = withdrawn.json()
    assert (body["status"], body["effective"], body["close_reason"]) == ("withdrawn", False, "选错了记录")
    assert await _clearance(client, person_id, vendor.headers) == "barred"
    events = await _events(db, lift["id"])
    assert [e["action"] for e in events] == ["personnel:bar:lift_request", "personnel:bar:lift_withdraw"]
    assert events[1]["reason"] == "选错了记录"

    # A withdrawal needs no reason, and the check is open to a new request each time.
    again = await _request(client, lifts, first, check_id)
    bare = await client.post(f"{lifts}/{again['id']}/withdraw", headers=first, json={})
    assert bare.status_code == 200 and bare.json()["close_reason"] is None
    assert (await _request(client, lifts, first, check_id))["status"] == "pending"


async def test_only_a_pending_request_may_be_declined_withdrawn_or_confirmed(
    client, accounts, vendor, reviewer, consent, db
):
    _, check_id, lifts = await _barred(client, vendor, reviewer, consent)
    first, second = await _province(accounts), await _province(accounts)

    lift = await _request(client, lifts, first, check_id)
    assert (await client.post(f"{lifts}/{lift['id']}/confirm", headers=second, json={})).status_code == 200
    for verb, headers, body in (("decline", second, {"reason": "不同意"}), ("withdraw", first, {})):
        response = await client.post(f"{lifts}/{lift['id']}/{verb}", headers=headers, json=body)
        assert response.status_code == 409, (verb, response.text)
        assert response.json()["error"]["code"] == "lift_not_pending", verb
    assert (await _lift_row(db, lift["id"])).closed_at is None
    # A confirmed lift still blocks a new request for the check.
    again = await client.post(lifts, headers=first, json={"check_id": check_id, "reason": REASON})
    assert again.status_code == 409 and again.json()["error"]["code"] == "lift_exists"

    _, other_check, other_lifts = await _barred(client, vendor, reviewer, consent)
    declined = await _request(client, other_lifts, first, other_check)
    assert (
        await client.post(f"{other_lifts}/{declined['id']}/decline", headers=second, json={"reason": "不同意"})
    ).status_code == 200
    for verb, headers, body in (
        ("confirm", second, {}),
        ("decline", second, {"reason": "再次驳回"}),
        ("withdraw", first, {}),
    ):
        response = await client.post(f"{other_lifts}/{declined['id']}/{verb}", headers=headers, json=body)
        assert response.status_code == 409, (verb, response.text)
        assert response.json()["error"]["code"] == "lift_not_pending", verb
    row = await _lift_row(db, declined["id"])
    assert (row.closed_as, row.close_reason, row.confirmed_at) == ("declined", "不同意", None)
    assert [e["action"] for e in await _events(db, declined["id"])] == [
        "personnel:bar:lift_request",
        "personnel:bar:lift_decline",
    ]


async def test_clearance_counts_only_the_confirmed_request_among_several_for_one_check(
    client, accounts, vendor, reviewer, consent
):
    """A declined and a withdrawn request, then a confirmed one, on the same check: the
    person is cleared (one fact per check, lifted), not barred by the closed rows."""
    person_id, check_id, lifts = await _barred(client, vendor, reviewer, consent)
    first, second = await _province(accounts), await _province(accounts)
    declined = await _request(client, lifts, first, check_id)
    assert (
        await client.post(f"{lifts}/{declined['id']}/decline", headers=second, json={"reason": "不同意"})
    ).status_code == 200
    withdrawn = await _request(client, lifts, first, check_id)
    assert (await client.post(f"{lifts}/{withdrawn['id']}/withdraw", headers=first, json={})).status_code == 200
    assert await _clearance(client, person_id, vendor.headers) == "barred"
    lift = await _request(client, lifts, first, check_id)
    assert await _clearance(client, person_id, vendor.headers) == "barred"  # a request alone changes nothing
    assert (await client.post(f"{lifts}/{lift['id']}/confirm", headers=second, json={})).status_code == 200
    view = (await client.get(f"/api/v1/people/{person_id}", headers=vendor.headers)).json()
    assert view["clearance"] == "cleared", view
    roster = (await client.get(f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers)).json()["items"]
    assert [item["clearance"] for item in roster if item["person_id"] == person_id] == ["cleared"]
