"""The application guard, the person view and the school lookup apply the same
region's mandatory checks to a person: those of the vendors engaging them in force
today. An engagement that has not started yet does not bring its region's settings."""

from __future__ import annotations

from datetime import timedelta

from service.timeutil import today_in_china
from tests.lookup.people_world import RECENT, authorisation, engage, lookup, record


async def test_a_future_engagement_elsewhere_changes_no_ones_mandatory_checks(wl):
    whitelisted, _ = await wl.approved(region_code="360104")
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    person_id, number = await engage(wl, whitelisted)
    three = ["criminal_record", "sexual_offence_entry_query", "health_certificate"]
    for check_type in three:
        await record(wl, person_id, reviewer, consent, check_type=check_type, query_date=RECENT)
    city = await wl.reviewer("360100")
    settings = await wl.client.put("/api/v1/regions/360100/settings", headers=city, json={"mandatory_checks": three})
    assert settings.status_code == 200, settings.text

    # A second vendor of the same county applies with the person on an item.
    applicant = await wl.vendor(items=0)
    await engage(wl, applicant, id_number=number)
    applicant.items.append(await wl.item(applicant, personnel_ids=[person_id]))
    app = await wl.application(applicant)
    for action in ("submit", "accept", "pass_preliminary"):
        app = await wl.step(app, applicant.headers if action == "submit" else reviewer, action)
    # A vendor of another city, whose region keeps all five checks mandatory, engages the
    # person from a fortnight on.
    elsewhere = await wl.vendor(region_code="360203", items=0)
    await engage(wl, elsewhere, id_number=number, start_date=(today_in_china() + timedelta(days=14)).isoformat())

    school = await wl.school("360104")
    assert (await lookup(wl, school, number)).json()["result"] == "cleared"
    view = await wl.client.get(f"/api/v1/people/{person_id}", headers=reviewer)
    assert view.json()["clearance"] == "cleared"
    app = await wl.get(app["id"], reviewer)
    assert "pass_verification" in app["allowed_actions"]
    assert (await wl.step(app, reviewer, "pass_verification"))["stage"] == "final_review"
