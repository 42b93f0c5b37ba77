"""Clearance derived at read time: exact expiry, mandatory sets, barring and its lifting."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType

import pytest
from sqlmodel import select

from service import timeutil
from service.audit.models import AuditEvent
from service.personnel.clearance import CheckFact, clearance, expiry_instant
from service.personnel.models import CHECK_TYPES
from service.personnel.settings import DEFAULTS, PersonnelSettings, strictest
from service.timeutil import CHINA_TZ
from tests.personnel.conftest import (
    add_person,
    check_payload,
    make_vendor,
    new_id_number,
    record_all_clear,
)

RECORDED = datetime(2026, 1, 1, tzinfo=UTC)


def fact(
    check_type="criminal_record",
    result="clear",
    query_date=date(2026, 1, 10),
    valid_until=None,
    lifted=False,
    recorded_at=RECORDED,
):
    return CheckFact(uuid.uuid4(), check_type, result, query_date, valid_until, recorded_at, lifted)


def all_clear(**until) -> list[CheckFact]:
    return [fact(t, valid_until=until.get(t)) for t in CHECK_TYPES]


def test_cleared_until_the_earliest_expiry_and_not_a_microsecond_longer():
    facts = all_clear(health_certificate=date(2026, 6, 30), mental_health=date(2026, 8, 1))
    instant = expiry_instant(date(2026, 6, 30))
    assert instant == datetime(2026, 7, 1, 0, 0, tzinfo=CHINA_TZ) == datetime(2026, 6, 30, 16, tzinfo=UTC)
    before = clearance(facts, DEFAULTS, instant - timedelta(microseconds=1))
    assert (before.status, before.cleared_until) == ("cleared", date(2026, 6, 30))
    assert before.expiring() == ["health_certificate"]
    at = clearance(facts, DEFAULTS, instant)
    assert (at.status, at.cleared_until) == ("expired", None)
    assert at.expired() == ["health_certificate"]


def test_default_validity_applies_when_no_expiry_is_printed():
    settings = PersonnelSettings(
        frozenset(CHECK_TYPES), MappingProxyType(dict(DEFAULTS.validity_days, mental_health=30))
    )
    state = clearance(all_clear(), settings, datetime(2026, 1, 20, tzinfo=UTC))
    assert state.cleared_until == date(2026, 2, 9)  # query date 2026-01-10 + 30 days
    assert clearance(all_clear(), DEFAULTS, datetime(2026, 1, 20, tzinfo=UTC)).cleared_until == date(2027, 1, 10)


def test_the_mandatory_set_is_configurable():
    only_police = PersonnelSettings(
        frozenset({"criminal_record", "sexual_offence_entry_query"}), DEFAULTS.validity_days
    )
    facts = [fact("criminal_record"), fact("sexual_offence_entry_query")]
    now = datetime(2026, 2, 1, tzinfo=UTC)
    assert clearance(facts, only_police, now).status == "cleared"
    assert clearance(facts, DEFAULTS, now).status == "pending"
    assert clearance(facts, DEFAULTS, now).missing() == ["health_certificate", "conduct_reference", "mental_health"]


def test_pending_and_non_barring_adverse_results_are_not_cleared():
    now = datetime(2026, 2, 1, tzinfo=UTC)
    pending = [f for f in all_clear() if f.check_type != "health_certificate"] + [fact("health_certificate", "pending")]
    assert clearance(pending, DEFAULTS, now).status == "pending"
    adverse_health = all_clear() + [fact("health_certificate", "adverse", query_date=date(2026, 1, 20))]
    state = clearance(adverse_health, DEFAULTS, now)
    assert state.status == "pending"  # a new clear health certificate is needed, but no bar
    assert {c.check_type: c.public_status for c in state.checks}["health_certificate"] == "present"


def test_a_recheck_in_progress_after_expiry_reads_pending():
    old = fact("health_certificate", valid_until=date(2026, 1, 31))
    recheck = fact("health_certificate", "pending", query_date=date(2026, 2, 2))
    facts = [f for f in all_clear() if f.check_type != "health_certificate"] + [old]
    now = datetime(2026, 2, 3, tzinfo=UTC)
    assert clearance(facts, DEFAULTS, now).status == "expired"
    assert clearance(facts + [recheck], DEFAULTS, now).status == "pending"


@pytest.mark.parametrize("check_type", ["criminal_record", "sexual_offence_entry_query"])
def test_adverse_police_results_bar_whatever_the_mandatory_set(check_type):
    nothing_mandatory = PersonnelSettings(frozenset(), DEFAULTS.validity_days)
    later_clear = fact(check_type, query_date=date(2026, 1, 20))
    facts = all_clear() + [fact(check_type, "adverse", query_date=date(2026, 1, 5)), later_clear]
    now = datetime(2026, 2, 1, tzinfo=UTC)
    assert clearance(facts, nothing_mandatory, now).status == "barred"
    lifted = [
        f
        if f.result != "adverse"
        else CheckFact(f.id, f.check_type, f.result, f.query_date, f.valid_until, f.recorded_at, True)
        for f in facts
    ]
    assert clearance(lifted, DEFAULTS, now).status == "cleared"


def test_the_strictest_settings_apply_across_regions():
    a = PersonnelSettings(
        frozenset({"criminal_record"}), MappingProxyType(dict(DEFAULTS.validity_days, health_certificate=180))
    )
    b = PersonnelSettings(
        frozenset({"health_certificate"}), MappingProxyType(dict(DEFAULTS.validity_days, criminal_record=90))
    )
    combined = strictest([a, b])
    assert combined.mandatory_checks == {"criminal_record", "health_certificate"}
    assert combined.validity_days["health_certificate"] == 180 and combined.validity_days["criminal_record"] == 90
    assert strictest([]) == DEFAULTS


async def test_clearance_changes_at_the_exact_instant_through_the_api(client, vendor, reviewer, consent, monkeypatch):
    person = await add_person(client, vendor)
    today = timeutil.today_in_china()
    last_day = today + timedelta(days=40)
    await record_all_clear(client, person["person_id"], reviewer, consent, query_date=str(today))
    await client.post(
        f"/api/v1/people/{person['person_id']}/checks",
        headers=reviewer,
        json=check_payload(consent, check_type="health_certificate", query_date=str(today), valid_until=str(last_day)),
    )
    view = (await client.get(f"/api/v1/people/{person['person_id']}", headers=vendor.headers)).json()
    assert (view["clearance"], view["cleared_until"]) == ("cleared", str(last_day))

    instant = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=CHINA_TZ)
    monkeypatch.setattr(timeutil, "utcnow", lambda: (instant - timedelta(microseconds=1)).astimezone(UTC))
    before = (await client.get(f"/api/v1/people/{person['person_id']}", headers=vendor.headers)).json()
    roster = (await client.get(f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers)).json()["items"][0]
    assert before["clearance"] == "cleared" and roster["expiring_checks"] == ["health_certificate"]
    monkeypatch.setattr(timeutil, "utcnow", lambda: instant.astimezone(UTC))
    # The health certificate recorded without an expiry is still valid for a year: the
    # later record with the printed expiry is the one that counts (latest by query, then record).
    after = (await client.get(f"/api/v1/people/{person['person_id']}", headers=vendor.headers)).json()
    assert after["clearance"] == "expired" and after["cleared_until"] is None
    assert {c["check_type"]: c["status"] for c in after["checks"]}["health_certificate"] == "expired"
    roster = (await client.get(f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers)).json()["items"][0]
    assert roster["clearance"] == "expired" and roster["expired_checks"] == ["health_certificate"]


async def test_roster_shows_missing_and_expiring_checks(client, vendor, reviewer, consent):
    cleared = await add_person(client, vendor, role="driver")
    today = timeutil.today_in_china()
    await record_all_clear(client, cleared["person_id"], reviewer, consent, query_date=str(today - timedelta(days=350)))
    newcomer = await add_person(client, vendor, role="assistant")
    roster = (await client.get(f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers)).json()["items"]
    by_id = {item["person_id"]: item for item in roster}
    first, second = by_id[cleared["person_id"]], by_id[newcomer["person_id"]]
    assert (first["role"], first["clearance"], first["cleared_until"]) == (
        "driver",
        "cleared",
        str(today - timedelta(days=350) + timedelta(days=365)),
    )
    assert first["expiring_checks"] == list(CHECK_TYPES) and first["missing_checks"] == []
    assert (second["clearance"], second["missing_checks"]) == ("pending", list(CHECK_TYPES))
    assert second["id_number_masked"].count("*") == 8
    reviewer_view = await client.get(f"/api/v1/vendors/{vendor.id}/people", headers=reviewer)
    assert reviewer_view.status_code == 200 and len(reviewer_view.json()["items"]) == 2


async def test_barring_follows_the_person_to_another_vendor(client, accounts, vendor, reviewer, consent):
    number = new_id_number()
    person = await add_person(client, vendor, id_number=number, name="孙强")
    await record_all_clear(client, person["person_id"], reviewer, consent, query_date=str(timeutil.today_in_china()))
    adverse = await client.post(
        f"/api/v1/people/{person['person_id']}/checks",
        headers=reviewer,
        json=check_payload(
            consent,
            check_type="sexual_offence_entry_query",
            result="adverse",
            query_date=str(timeutil.today_in_china()),
        ),
    )
    assert adverse.status_code == 201
    other = await make_vendor(client, accounts, region_code="360402")  # another city altogether
    joined = await add_person(client, other, id_number=number, name="孙强", role="driver")
    assert joined["person_id"] == person["person_id"] and joined["clearance"] == "barred"
    roster = (await client.get(f"/api/v1/vendors/{other.id}/people", headers=other.headers)).json()["items"]
    assert roster[0]["clearance"] == "barred" and roster[0]["cleared_until"] is None
    first_view = (await client.get(f"/api/v1/people/{person['person_id']}", headers=vendor.headers)).json()
    assert first_view["clearance"] == "barred"


async def test_lifting_a_bar_takes_a_province_reviewer_with_a_reason_and_a_second_to_confirm(
    client, accounts, vendor, reviewer, consent, db
):
    person = await add_person(client, vendor)
    await record_all_clear(client, person["person_id"], reviewer, consent, query_date=str(timeutil.today_in_china()))
    adverse = (
        await client.post(
            f"/api/v1/people/{person['person_id']}/checks",
            headers=reviewer,
            json=check_payload(consent, result="adverse", query_date=str(timeutil.today_in_china())),
        )
    ).json()
    lifts = f"/api/v1/people/{person['person_id']}/bar-lifts"
    body = {"check_id": adverse["id"], "reason": "经复核，该记录系同名误报，公安机关已出具更正说明"}
    county = await client.post(lifts, headers=reviewer, json=body)
    assert county.status_code == 403 and county.json()["error"]["code"] == "province_reviewer_required"
    first = await accounts.headers("reviewer", region_code="360000")
    second = await accounts.headers("reviewer", region_code="360000")
    no_reason = await client.post(lifts, headers=first, json=dict(body, reason="  "))
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reason_required"
    clear_record = (await client.get(f"/api/v1/people/{person['person_id']}/checks", headers=first)).json()["items"]
    clear_id = next(c["id"] for c in clear_record if c["result"] == "clear")
    not_barring = await client.post(lifts, headers=first, json=dict(body, check_id=clear_id))
    assert not_barring.status_code == 422 and not_barring.json()["error"]["code"] == "not_barring"
    requested = await client.post(lifts, headers=first, json=body)
    assert requested.status_code == 201 and requested.json()["effective"] is False
    assert (await client.post(lifts, headers=first, json=body)).status_code == 409
    view = await client.get(f"/api/v1/people/{person['person_id']}", headers=vendor.headers)
    assert view.json()["clearance"] == "barred"  # a request alone changes nothing
    confirm = f"{lifts}/{requested.json()['id']}/confirm"
    same = await client.post(confirm, headers=first, json={})
    assert same.status_code == 403 and same.json()["error"]["code"] == "second_reviewer_required"
    confirmed = await client.post(confirm, headers=second, json={"reason": "同意"})
    assert confirmed.status_code == 200 and confirmed.json()["effective"] is True
    assert (await client.post(confirm, headers=second, json={})).status_code == 409
    view = await client.get(f"/api/v1/people/{person['person_id']}", headers=vendor.headers)
    assert view.json()["clearance"] == "cleared"  # the lifted result no longer counts; the clear one does
    async with db.transaction() as session:
        actions = (
            await session.exec(select(AuditEvent.action).where(AuditEvent.object_id == requested.json()["id"]))
        ).all()
    assert sorted(actions) == ["personnel:bar:lift_confirm", "personnel:bar:lift_request"]


async def test_region_settings_decide_mandatory_checks_and_validity(client, accounts, vendor, reviewer, consent, today):
    """A region may shorten a result's validity and may drop optional checks."""
    from datetime import timedelta

    from tests.personnel.conftest import add_person, check_payload

    person = await add_person(client, vendor)
    forty_days_ago = (today - timedelta(days=40)).isoformat()
    for check_type in ("criminal_record", "sexual_offence_entry_query", "health_certificate"):
        response = await client.post(
            f"/api/v1/people/{person['person_id']}/checks",
            headers=reviewer,
            json=check_payload(consent, check_type=check_type, query_date=forty_days_ago),
        )
        assert response.status_code == 201, response.text
    url = f"/api/v1/people/{person['person_id']}"
    assert (await client.get(url, headers=reviewer)).json()["clearance"] == "pending"  # two checks missing

    city = await accounts.headers("reviewer", region_code="360100")
    settings = "/api/v1/regions/360100/settings"
    three = ["criminal_record", "sexual_offence_entry_query", "health_certificate"]
    assert (await client.put(settings, headers=city, json={"mandatory_checks": three})).status_code == 200
    assert (await client.get(url, headers=reviewer)).json()["clearance"] == "cleared"

    shorter = {"check_validity_days": {"health_certificate": 30}}
    assert (await client.put(settings, headers=city, json=shorter)).status_code == 200
    assert (await client.get(url, headers=reviewer)).json()["clearance"] == "expired"


def test_the_lookups_fast_clearance_agrees_with_clearance_on_random_records():
    """`cleared_until` (the person lookups' hot path) is `clearance` reduced to what a
    lookup answers: compare them on many random record sets, settings and instants,
    including ties, lifted bars, pending rechecks and the expiry instant itself."""
    import random

    from service.personnel.clearance import cleared_until

    rng = random.Random(11)
    base = date(2026, 1, 1)
    recorded = datetime(2026, 1, 1, tzinfo=UTC)
    agreements = {True: 0, False: 0}
    for _ in range(4000):
        mandatory = frozenset(t for t in CHECK_TYPES if rng.random() < 0.8)
        validity = {t: rng.choice((30, 180, 365)) for t in CHECK_TYPES}
        settings = PersonnelSettings(mandatory_checks=mandatory, validity_days=MappingProxyType(validity))
        facts = []
        for check_type in CHECK_TYPES:
            for _ in range(rng.choice((0, 1, 1, 1, 2, 3))):
                query = base + timedelta(days=rng.randint(0, 400))
                facts.append(
                    CheckFact(
                        id=uuid.uuid4(),
                        check_type=check_type,
                        result=rng.choices(("clear", "adverse", "pending"), weights=(8, 1, 1))[0],
                        query_date=query,
                        valid_until=query + timedelta(days=rng.randint(0, 400)) if rng.random() < 0.3 else None,
                        recorded_at=recorded + timedelta(seconds=rng.choice((0, 0, 1, 2))),
                        lifted=rng.random() < 0.3,
                    )
                )
        if rng.random() < 0.5 and facts:  # an instant exactly at some record's expiry
            f = rng.choice(facts)
            until = f.valid_until or f.query_date + timedelta(days=validity[f.check_type])
            now = expiry_instant(until) - timedelta(microseconds=rng.choice((0, 1)))
        else:
            now = datetime.combine(
                base + timedelta(days=rng.randint(0, 800)), datetime.min.time(), tzinfo=CHINA_TZ
            ) + timedelta(hours=rng.randint(0, 23))
        expected = clearance(facts, settings, now)
        tuples = [(f.check_type, f.result, f.query_date, f.valid_until, f.recorded_at, f.lifted) for f in facts]
        got = cleared_until(tuples, settings, now)
        assert got == (expected.status == "cleared", expected.cleared_until), (facts, settings, now)
        agreements[got[0]] += 1
    assert agreements[True] > 200 and agreements[False] > 200  # both answers really exercised
