"""Dynamic adjustment over HTTP on PostgreSQL: every status path with its audit event,
four eyes for revoke and reinstate, partial and whole-vendor actions, the ban."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from service.audit.models import AuditEvent
from service.timeutil import today_in_china, utcnow
from service.whitelist.models import WhitelistActionRequest, WhitelistEntryStatus

BAN = (today_in_china() + timedelta(days=365)).isoformat()


async def _events(wl, action: str) -> list[AuditEvent]:
    async with wl.db.transaction() as session:
        return list(
            (await session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
            .scalars()
            .all()
        )


async def test_suspend_takes_effect_at_once_with_reason_and_audit_event(wl):
    vendor, entries = await wl.approved()
    reviewer, school = await wl.reviewer("360104"), await wl.school("360104")
    assert await wl.status(school, vendor.credit_code) == "active"

    response = await wl.adjust(reviewer, action="suspend", reason="接到家长投诉，暂停待查", vendor_id=vendor.id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "applied" and {e["status_after"] for e in body["entries"]} == {"suspended"}
    assert await wl.status(school, vendor.credit_code) == "suspended"
    lookup = (await wl.lookup(school, vendor.credit_code)).json()
    assert lookup["services"] == []

    events = await _events(wl, "whitelist:entry:suspend")
    assert len(events) == 2 and {e.object_id for e in events} == {e["id"] for e in entries}
    assert all(e.region_code == "360104" for e in events)
    assert b"\xe6\x8e\xa5\xe5\x88\xb0" in events[0].canonical  # the reason is in the event ("接到")
    assert b'"status":{"after":"suspended","before":"active"}' in events[0].canonical


async def test_suspension_with_an_end_lifts_itself(wl):
    vendor, entries = await wl.approved()
    reviewer, school = await wl.reviewer("360104"), await wl.school("360104")
    until = (utcnow() + timedelta(days=7)).isoformat()
    response = await wl.adjust(
        reviewer, action="suspend", reason="调查期间暂停一周", entry_ids=[entries[0]["id"]], until=until
    )
    assert response.status_code == 200, response.text
    lookup = (await wl.lookup(school, vendor.credit_code)).json()
    assert lookup["status"] == "active" and [s["item_id"] for s in lookup["services"]] == [
        entries[1]["service_item_id"]
    ]
    # A week goes by: the suspension's end is now in the past.
    await wl.sql(
        "UPDATE whitelist_entry_status SET suspended_until = now() - interval '1 second' "
        "WHERE suspended_until IS NOT NULL"
    )
    lookup = (await wl.lookup(school, vendor.credit_code)).json()
    assert len(lookup["services"]) == 2


async def test_renew_extends_validity_and_an_expired_entry_comes_back(wl):
    vendor, entries = await wl.approved()
    reviewer, school = await wl.reviewer("360104"), await wl.school("360104")
    await wl.sql("UPDATE whitelist_entry_status SET entry_valid_until = now() - interval '1 minute'")
    assert await wl.status(school, vendor.credit_code) == "expired"

    new_until = (utcnow() + timedelta(days=400)).isoformat()
    response = await wl.adjust(
        reviewer, action="renew", reason="年度复核通过，续期", vendor_id=vendor.id, valid_until=new_until
    )
    assert response.status_code == 200, response.text
    assert {e["status_before"] for e in response.json()["entries"]} == {"expired"}
    assert {e["status_after"] for e in response.json()["entries"]} == {"active"}
    assert await wl.status(school, vendor.credit_code) == "active"
    events = await _events(wl, "whitelist:entry:renew")
    assert len(events) == 2 and b'"valid_until"' in events[0].canonical


async def test_revoke_needs_a_second_reviewer_then_bans_new_applications(wl):
    vendor, entries = await wl.approved()
    first, second = await wl.reviewer("360104"), await wl.reviewer("360100")
    outsider = await wl.reviewer("360102")
    school = await wl.school("360104")

    response = await wl.adjust(first, action="revoke", reason="发现无证办学，撤销", vendor_id=vendor.id, ban_until=BAN)
    assert response.status_code == 200, response.text
    request = response.json()["request"]
    assert response.json()["status"] == "pending" and request["status"] == "pending"
    assert await wl.status(school, vendor.credit_code) == "active"  # nothing happens before confirmation

    same = await wl.confirm(first, request["id"])
    assert same.status_code == 403 and same.json()["error"]["code"] == "four_eyes_violation"
    other_county = await wl.confirm(outsider, request["id"])
    assert other_county.status_code == 404
    again = await wl.adjust(second, action="revoke", reason="重复申请", vendor_id=vendor.id, ban_until=BAN)
    assert again.status_code == 409 and again.json()["error"]["code"] == "request_pending"

    confirmed = await wl.confirm(second, request["id"], reason="核实无误")
    assert confirmed.status_code == 200, confirmed.text
    assert {e["status_after"] for e in confirmed.json()["entries"]} == {"revoked"}
    assert await wl.status(school, vendor.credit_code) == "revoked"
    twice = await wl.confirm(second, request["id"])
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "request_not_pending"

    assert len(await _events(wl, "whitelist:request:revoke")) == 1
    assert len(await _events(wl, "whitelist:entry:revoke")) == 2
    assert len(await _events(wl, "whitelist:request:confirm")) == 1

    # The ban: no new application in that region (or inside it) before the ban date...
    refused = await wl.client.post(
        "/api/v1/applications",
        headers=vendor.headers,
        json={
            "vendor_id": vendor.id,
            "region_code": "360104",
            "service_item_ids": [vendor.items[0]["id"]],
            "document_ids": [vendor.documents[0]["id"]],
        },
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "vendor_banned"
    assert refused.json()["error"]["details"][0]["ban_until"] == BAN
    # ... but elsewhere it may.
    elsewhere = await wl.application(vendor, region_code="360102")
    assert elsewhere["stage"] == "draft"


async def test_a_draft_made_before_the_revocation_cannot_be_submitted(wl):
    vendor, entries = await wl.approved()
    draft = await wl.application(vendor, region_code="360104")
    first, second = await wl.reviewer("360104"), await wl.reviewer("360104")
    request = (await wl.adjust(first, action="revoke", reason="撤销", vendor_id=vendor.id, ban_until=BAN)).json()
    assert (await wl.confirm(second, request["request"]["id"])).status_code == 200
    submitted = await wl.act(draft, vendor.headers, "submit")
    assert submitted.status_code == 409 and submitted.json()["error"]["code"] == "vendor_banned"


async def test_an_application_under_review_when_the_ban_came_cannot_be_approved(wl):
    """Submitted before the revocation, it reaches the final decision during the ban: the
    approval is refused as the submission would have been, and nothing changes."""
    vendor, _ = await wl.approved(region_code="360104")
    county, city = await wl.reviewer("360104"), await wl.reviewer("360100")
    pending = await wl.to_final_review(vendor, county, region_code="360104")
    request = (await wl.adjust(county, action="revoke", reason="撤销", vendor_id=vendor.id, ban_until=BAN)).json()
    assert (await wl.confirm(city, request["request"]["id"])).status_code == 200
    refused = await wl.act(pending, city, "approve", reason="材料齐全")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "vendor_banned"
    assert (await wl.get(pending["id"], city))["stage"] == pending["stage"]


async def test_a_ban_also_covers_the_regions_containing_and_inside_the_revoked_region(wl):
    """Issue 6: a revoked vendor may not apply again "in that region" before the ban
    date. A city entry covers the city's county schools, so applying to the city
    containing the revoked county would route around the ban: refused as well."""
    from service.applications.models import Application

    vendor, _ = await wl.approved(region_code="360104")
    city_draft = await wl.application(vendor, region_code="360100")  # made before the revocation
    first, second = await wl.reviewer("360104"), await wl.reviewer("360100")
    request = (await wl.adjust(first, action="revoke", reason="撤销", vendor_id=vendor.id, ban_until=BAN)).json()
    assert (await wl.confirm(second, request["request"]["id"])).status_code == 200

    applications = await wl.count(Application)
    refused = await wl.client.post(
        "/api/v1/applications",
        headers=vendor.headers,
        json={
            "vendor_id": vendor.id,
            "region_code": "360100",
            "service_item_ids": [vendor.items[0]["id"]],
            "document_ids": [vendor.documents[0]["id"]],
        },
    )
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "vendor_banned" and error["details"][0]["field"] == "region_code"
    assert error["details"][0]["ban_until"] == BAN
    assert await wl.count(Application) == applications  # nothing stored
    submitted = await wl.act(city_draft, vendor.headers, "submit")
    assert submitted.status_code == 409 and submitted.json()["error"]["code"] == "vendor_banned"
    # A county beside it (not inside the revoked region, not containing it) may still.
    assert (await wl.application(vendor, region_code="360102"))["stage"] == "draft"

    # The other way round: a ban in a city refuses its counties.
    city_vendor, _ = await wl.approved(region_code="360100")
    province = await wl.reviewer("360000")
    request = (await wl.adjust(second, action="revoke", reason="撤销", vendor_id=city_vendor.id, ban_until=BAN)).json()
    assert (await wl.confirm(province, request["request"]["id"])).status_code == 200
    inside = await wl.client.post(
        "/api/v1/applications",
        headers=city_vendor.headers,
        json={
            "vendor_id": city_vendor.id,
            "region_code": "360104",
            "service_item_ids": [city_vendor.items[0]["id"]],
            "document_ids": [city_vendor.documents[0]["id"]],
        },
    )
    assert inside.status_code == 409 and inside.json()["error"]["code"] == "vendor_banned"


async def test_reinstate_after_revoke_needs_confirmation_too(wl):
    vendor, entries = await wl.approved()
    first, second = await wl.reviewer("360104"), await wl.reviewer("360104")
    school = await wl.school("360104")
    request = (await wl.adjust(first, action="revoke", reason="撤销", vendor_id=vendor.id, ban_until=BAN)).json()
    assert (await wl.confirm(second, request["request"]["id"])).status_code == 200

    back = await wl.adjust(second, action="reinstate", reason="复议撤销决定，恢复", vendor_id=vendor.id)
    assert back.status_code == 200 and back.json()["status"] == "pending"
    assert await wl.status(school, vendor.credit_code) == "revoked"
    assert (await wl.confirm(first, back.json()["request"]["id"])).status_code == 200
    assert await wl.status(school, vendor.credit_code) == "active"
    assert len(await _events(wl, "whitelist:entry:reinstate")) == 2
    # Reinstated: the ban no longer holds.
    assert (await wl.application(vendor, region_code="360104"))["stage"] == "draft"


async def test_decline_drops_a_request(wl):
    vendor, _ = await wl.approved()
    first, second = await wl.reviewer("360104"), await wl.reviewer("360104")
    request = (await wl.adjust(first, action="revoke", reason="撤销", vendor_id=vendor.id, ban_until=BAN)).json()
    no_reason = await wl.client.post(
        f"/api/v1/whitelist/requests/{request['request']['id']}/decline", json={}, headers=second
    )
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reason_required"
    declined = await wl.client.post(
        f"/api/v1/whitelist/requests/{request['request']['id']}/decline", json={"reason": "证据不足"}, headers=second
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert (await wl.confirm(second, request["request"]["id"])).status_code == 409
    listed = await wl.client.get("/api/v1/whitelist/requests", params={"status": "declined"}, headers=first)
    assert [r["id"] for r in listed.json()] == [request["request"]["id"]]
    assert len(await _events(wl, "whitelist:request:decline")) == 1


async def test_partial_actions_by_entry_and_by_region(wl):
    vendor, county_entries = await wl.approved(region_code="360104")
    _, city_entries = await wl.approved(vendor, region_code="360100")
    city_reviewer = await wl.reviewer("360100")
    school = await wl.school("360104")
    lookup = (await wl.lookup(school, vendor.credit_code)).json()
    assert {tuple(s["region_codes"]) for s in lookup["services"]} == {("360100", "360104")}

    # One item in one region.
    one = county_entries[0]
    assert (
        await wl.adjust(city_reviewer, action="suspend", reason="单项暂停", entry_ids=[one["id"]])
    ).status_code == 200
    lookup = (await wl.lookup(school, vendor.credit_code)).json()
    by_item = {s["item_id"]: s["region_codes"] for s in lookup["services"]}
    assert by_item[one["service_item_id"]] == ["360100"] and len(by_item) == 2

    # The vendor in one region: a city selects its own entries and those of its counties still active.
    response = await wl.adjust(
        city_reviewer, action="suspend", reason="市级暂停", vendor_id=vendor.id, region_code="360100"
    )
    assert response.status_code == 200, response.text
    assert {e["region_code"] for e in response.json()["entries"]} == {"360100", "360104"}
    lookup = (await wl.lookup(school, vendor.credit_code)).json()
    assert lookup["status"] == "suspended" and lookup["services"] == []


async def test_whole_vendor_action_stays_in_the_reviewers_scope(wl):
    vendor, _ = await wl.approved(region_code="360104")
    await wl.approved(vendor, region_code="360102")
    county = await wl.reviewer("360104")
    response = await wl.adjust(county, action="suspend", reason="本县暂停", vendor_id=vendor.id)
    assert {e["region_code"] for e in response.json()["entries"]} == {"360104"}
    assert await wl.status(await wl.school("360102"), vendor.credit_code) == "active"
    assert await wl.status(await wl.school("360104"), vendor.credit_code) == "suspended"


async def test_bad_actions_are_refused_and_store_nothing(wl):
    vendor, entries = await wl.approved()
    reviewer, outsider, school = await wl.reviewer("360104"), await wl.reviewer("360102"), await wl.school("360104")
    rows_before = await wl.count(WhitelistEntryStatus)
    events_before = len(await wl.audit_actions())

    cases = [
        ({"action": "suspend", "reason": "", "vendor_id": vendor.id}, 422, "reason_required"),
        ({"action": "delete", "reason": "x", "vendor_id": vendor.id}, 422, "unknown_action"),
        ({"action": "revoke", "reason": "x", "vendor_id": vendor.id}, 422, "ban_until_required"),
        (
            {"action": "revoke", "reason": "x", "vendor_id": vendor.id, "ban_until": "2020-01-01"},
            422,
            "invalid_ban_until",
        ),
        ({"action": "suspend", "reason": "x"}, 422, "target_required"),
        (
            {"action": "suspend", "reason": "x", "vendor_id": vendor.id, "entry_ids": [entries[0]["id"]]},
            422,
            "ambiguous_target",
        ),
        (
            {"action": "suspend", "reason": "x", "vendor_id": vendor.id, "until": "2020-01-01T00:00:00+08:00"},
            422,
            "invalid_until",
        ),
        ({"action": "reinstate", "reason": "x", "entry_ids": [entries[0]["id"]]}, 409, "invalid_entry_status"),
        (
            {"action": "suspend", "reason": "x", "entry_ids": ["00000000-0000-4000-8000-000000000000"]},
            404,
            "entry_not_found",
        ),
    ]
    for body, status, code in cases:
        response = await wl.adjust(reviewer, **body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"] == code, (body, response.text)
    not_mine = await wl.adjust(outsider, action="suspend", reason="x", entry_ids=[entries[0]["id"]])
    assert not_mine.status_code == 404
    as_school = await wl.adjust(school, action="suspend", reason="x", vendor_id=vendor.id)
    assert as_school.status_code == 403
    assert await wl.count(WhitelistEntryStatus) == rows_before
    assert await wl.count(WhitelistActionRequest) == 0
    assert len(await wl.audit_actions()) == events_before


async def test_expired_when_a_mandatory_document_expires(wl):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    await wl.sql("UPDATE documents SET valid_until = CURRENT_DATE - 2")
    assert await wl.status(school, vendor.credit_code) == "expired"
    await wl.sql("UPDATE documents SET valid_until = CURRENT_DATE + 300")
    assert await wl.status(school, vendor.credit_code) == "active"
    # The region now requires a school-running permit the vendor never uploaded.
    admin = await wl.accounts.headers("admin")
    put = await wl.client.put(
        "/api/v1/regions/360104/settings",
        headers=admin,
        json={"mandatory_document_types": ["business_license", "school_permit"]},
    )
    assert put.status_code == 200, put.text
    assert await wl.status(school, vendor.credit_code) == "expired"


async def test_a_document_not_valid_yet_does_not_count(wl):
    """A document counts from the China date `valid_from` only: a new business licence
    that starts in 90 days does not bring an expired vendor back today."""
    vendor, entries = await wl.approved()
    school, reviewer = await wl.school("360104"), await wl.reviewer("360104")
    await wl.sql("UPDATE documents SET valid_until = CURRENT_DATE - 2")
    assert await wl.status(school, vendor.credit_code) == "expired"
    starts = today_in_china() + timedelta(days=90)
    await wl.document(vendor, valid_from=starts.isoformat(), valid_until=(starts + timedelta(days=365)).isoformat())

    assert await wl.status(school, vendor.credit_code) == "expired"
    as_of = (utcnow() - timedelta(seconds=1)).isoformat()
    assert await wl.status(school, vendor.credit_code, as_of=as_of) == "expired"
    entry = await wl.client.get(f"/api/v1/whitelist/entries/{entries[0]['id']}", headers=reviewer)
    assert entry.status_code == 200 and entry.json()["status"] == "expired"
    # The same licence starting today counts today.
    await wl.sql(
        "UPDATE documents SET valid_from = CAST(:day AS date) WHERE valid_from = CAST(:starts AS date)",
        day=today_in_china().isoformat(),
        starts=starts.isoformat(),
    )
    assert await wl.status(school, vendor.credit_code) == "active"


async def test_readmission_after_the_ban_supersedes_the_revoked_entry(wl):
    vendor, entries = await wl.approved()
    first, second = await wl.reviewer("360104"), await wl.reviewer("360104")
    request = (await wl.adjust(first, action="revoke", reason="撤销", vendor_id=vendor.id, ban_until=BAN)).json()
    assert (await wl.confirm(second, request["request"]["id"])).status_code == 200
    await wl.sql("UPDATE whitelist_entry_status SET ban_until = CURRENT_DATE - 1 WHERE ban_until IS NOT NULL")
    _, new_entries = await wl.approved(vendor, region_code="360104")  # the ban is over: reviewed again
    assert await wl.status(await wl.school("360104"), vendor.credit_code) == "active"
    old = await wl.client.get(f"/api/v1/whitelist/entries/{entries[0]['id']}", headers=first)
    assert old.json()["status"] == "not_listed" and old.json()["history"][-1]["action"] == "supersede"
    stale = await wl.adjust(first, action="reinstate", reason="恢复旧条目", entry_ids=[entries[0]["id"]])
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "invalid_entry_status"


async def test_a_suspended_item_cannot_be_readmitted_by_a_new_application(wl):
    """A suspension is an investigation: applying again must not route around it — here,
    or in the city, whose entry would cover the county's schools."""
    vendor, entries = await wl.approved()
    reviewer = await wl.reviewer("360104")
    response = await wl.adjust(reviewer, action="suspend", reason="接到投诉，暂停待查", entry_ids=[entries[0]["id"]])
    assert response.status_code == 200, response.text
    draft = await wl.application(vendor, region_code="360104")
    refused = await wl.act(draft, vendor.headers, "submit")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "item_suspended"
    assert [d["item_id"] for d in error["details"]] == [entries[0]["service_item_id"]]
    city = await wl.application(vendor, region_code="360100")
    refused = await wl.act(city, vendor.headers, "submit")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "item_suspended"
    neighbour = await wl.application(vendor, region_code="360102")
    assert (await wl.act(neighbour, vendor.headers, "submit")).status_code == 200
    # Once the suspension is lifted, the vendor may apply again.
    await wl.sql(
        "UPDATE whitelist_entry_status SET suspended_until = now() - interval '1 second' "
        "WHERE suspended_until IS NULL AND status = 'suspended'"
    )
    submitted = await wl.act(draft, vendor.headers, "submit")
    assert submitted.status_code == 200, submitted.text
