"""Verification passes only when every person delivering the items is cleared now
(issue 4's `personnel_cleared` guard, wired to issue 5's clearance)."""

from __future__ import annotations

from tests.personnel.conftest import authorisation, person_payload, record_all_clear


async def test_verification_waits_for_cleared_personnel(world, client):
    vendor = await world.vendor(items=0)
    person = await client.post(f"/api/v1/vendors/{vendor.id}/people", json=person_payload(), headers=vendor.headers)
    assert person.status_code == 201, person.text
    person_id = person.json()["person_id"]
    vendor.items.append(await world.item(vendor, personnel_ids=[person_id]))
    county = await world.reviewer("360104")

    app = await world.application(vendor)
    app = await world.step(app, vendor.headers, "submit")
    app = await world.step(app, county, "accept")
    app = await world.step(app, county, "pass_preliminary")
    assert "pass_verification" not in app["allowed_actions"]

    blocked = await world.act(app, county, "pass_verification")
    assert blocked.status_code == 409
    assert blocked.json()["error"]["code"] == "personnel_not_cleared"
    assert (await world.get(app["id"], county))["stage"] == "verification"

    await record_all_clear(client, person_id, county, await authorisation(client, county), query_date=_recent())
    app = await world.get(app["id"], county)
    assert "pass_verification" in app["allowed_actions"]
    assert (await world.step(app, county, "pass_verification"))["stage"] == "final_review"


async def _at_verification_with_a_cleared_person(world, client, **person):
    """A vendor whose one item is delivered by a person with every check clear, and its
    application waiting for verification: (vendor, person id, county reviewer, application)."""
    vendor = await world.vendor(items=0)
    person_id = (
        await client.post(f"/api/v1/vendors/{vendor.id}/people", json=person_payload(**person), headers=vendor.headers)
    ).json()["person_id"]
    county = await world.reviewer("360104")
    await record_all_clear(client, person_id, county, await authorisation(client, county), query_date=_recent())
    vendor.items.append(await world.item(vendor, personnel_ids=[person_id]))
    app = await world.application(vendor)
    for action in ("submit", "accept", "pass_preliminary"):
        app = await world.step(app, vendor.headers if action == "submit" else county, action)
    return vendor, person_id, county, app


async def test_a_departed_person_no_longer_counts_as_cleared(world, client):
    vendor, person_id, county, app = await _at_verification_with_a_cleared_person(world, client)
    left = await client.post(
        f"/api/v1/vendors/{vendor.id}/people/{person_id}/departure",
        json={"end_date": _recent(), "reason": "离职"},
        headers=vendor.headers,
    )
    assert left.status_code in (200, 201), left.text
    blocked = await world.act(app, county, "pass_verification")
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "personnel_not_cleared"


async def test_a_person_who_has_not_started_yet_does_not_count_as_cleared(world, client):
    from datetime import timedelta

    from service.timeutil import today_in_china

    later = (today_in_china() + timedelta(days=14)).isoformat()
    _, _, county, app = await _at_verification_with_a_cleared_person(world, client, start_date=later)
    blocked = await world.act(app, county, "pass_verification")
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "personnel_not_cleared"


def _recent() -> str:
    from service.timeutil import today_in_china

    return today_in_china().isoformat()
