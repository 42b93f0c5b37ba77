"""Region settings: inherited county → city → province → defaults; set by the bureau."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from service.audit.models import AuditEvent
from service.region_settings.models import RegionSettings

URL = "/api/v1/regions/{}/settings"


async def rows(db, model=RegionSettings) -> int:
    async with db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def test_defaults_apply_where_nothing_is_set(client, accounts):
    vendor = await accounts.headers("vendor", vendor_credit_code="91360104MA38XK3Q60")
    response = await client.get(URL.format("360104"), headers=vendor)
    assert response.status_code == 200
    body = response.json()
    assert (body["region_name"], body["level"]) == ("青云谱区", "county")
    assert (
        body["notice_days"],
        body["city_review_required"],
        body["mandatory_document_types"],
        body["whitelist_validity_days"],
    ) == (5, True, ["business_license"], 365)
    assert set(body["sources"].values()) == {"default"}
    assert body["own"] == {
        "notice_days": None,
        "city_review_required": None,
        "mandatory_document_types": None,
        "whitelist_validity_days": None,
        "mandatory_checks": None,
        "check_validity_days": None,
        "satisfaction_threshold_percent": None,
    }
    assert body["satisfaction_threshold_percent"] == 80
    assert set(body["mandatory_checks"]) == {
        "criminal_record",
        "sexual_offence_entry_query",
        "health_certificate",
        "conduct_reference",
        "mental_health",
    }
    assert set(body["check_validity_days"].values()) == {365}


async def test_personnel_settings_are_region_settings(client, accounts):
    city = await accounts.headers("reviewer", region_code="360100")
    response = await client.put(
        URL.format("360100"),
        headers=city,
        json={
            "mandatory_checks": ["criminal_record", "sexual_offence_entry_query", "health_certificate"],
            "check_validity_days": {"health_certificate": 180},
        },
    )
    assert response.status_code == 200, response.text
    county = (await client.get(URL.format("360104"), headers=city)).json()
    assert sorted(county["mandatory_checks"]) == ["criminal_record", "health_certificate", "sexual_offence_entry_query"]
    assert county["check_validity_days"]["health_certificate"] == 180
    assert county["check_validity_days"]["criminal_record"] == 365  # the types it omits keep the default
    assert county["sources"]["mandatory_checks"] == "360100"


async def test_the_legally_required_queries_cannot_be_dropped(client, accounts, db):
    admin = await accounts.headers("admin")
    response = await client.put(URL.format("360100"), headers=admin, json={"mandatory_checks": ["health_certificate"]})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0] == {
        "field": "mandatory_checks",
        "code": "invalid_mandatory_checks",
        "message": response.json()["error"]["message"],
    }
    bad_days = await client.put(URL.format("360100"), headers=admin, json={"check_validity_days": {"x_ray": 10}})
    assert bad_days.status_code == 422 and bad_days.json()["error"]["code"] == "invalid_check_validity_days"
    after = (await client.get(URL.format("360100"), headers=admin)).json()
    assert after["own"]["mandatory_checks"] is None and after["own"]["check_validity_days"] is None


async def test_a_county_inherits_from_its_city_until_it_sets_its_own(client, accounts, db):
    city = await accounts.headers("reviewer", region_code="360100")
    set_city = await client.put(
        URL.format("360100"),
        headers=city,
        json={"notice_days": 7, "mandatory_document_types": ["business_license", "school_permit"]},
    )
    assert set_city.status_code == 200, set_city.text
    county = (await client.get(URL.format("360104"), headers=city)).json()
    assert county["notice_days"] == 7 and county["sources"]["notice_days"] == "360100"
    assert county["mandatory_document_types"] == ["business_license", "school_permit"]
    assert county["city_review_required"] is True and county["sources"]["city_review_required"] == "default"

    county_reviewer = await accounts.headers("reviewer", region_code="360104")
    own = await client.put(
        URL.format("360104"),
        headers=county_reviewer,
        json={"notice_days": 0, "city_review_required": False, "mandatory_document_types": []},
    )
    body = own.json()
    assert (body["notice_days"], body["city_review_required"], body["mandatory_document_types"]) == (0, False, [])
    assert body["sources"]["notice_days"] == "360104"
    assert body["own"]["mandatory_document_types"] == []  # an empty list is a value, not "inherit"

    # null clears the county's own value: the city's applies again; omitted fields stay.
    cleared = (await client.put(URL.format("360104"), headers=county_reviewer, json={"notice_days": None})).json()
    assert cleared["notice_days"] == 7 and cleared["sources"]["notice_days"] == "360100"
    assert cleared["city_review_required"] is False
    # A sibling county is untouched by the county's settings.
    sibling = (await client.get(URL.format("360102"), headers=city)).json()
    assert (sibling["notice_days"], sibling["city_review_required"]) == (7, True)

    async with db.transaction() as session:
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "region_settings:settings:update"))
        ).all()
    assert [e.object_id for e in events] == ["360100", "360104", "360104"]


BAD = {
    "notice too long": ({"notice_days": 31}, "notice_days", "invalid_notice_days"),
    "negative notice": ({"notice_days": -1}, "notice_days", "invalid_notice_days"),
    "unknown document type": (
        {"mandatory_document_types": ["passport"]},
        "mandatory_document_types",
        "invalid_document_types",
    ),
    "repeated document type": (
        {"mandatory_document_types": ["school_permit", "school_permit"]},
        "mandatory_document_types",
        "invalid_document_types",
    ),
    "validity zero": ({"whitelist_validity_days": 0}, "whitelist_validity_days", "invalid_validity_days"),
    "not a boolean": ({"city_review_required": "yes"}, "city_review_required", "invalid_type"),
}


@pytest.mark.parametrize(("body", "field", "code"), BAD.values(), ids=BAD.keys())
async def test_bad_settings_are_422_and_nothing_is_stored(client, accounts, db, body, field, code):
    admin = await accounts.headers("admin")
    response = await client.put(URL.format("360104"), headers=admin, json=body)
    assert response.status_code == 422, response.text
    assert [(d["field"], d["code"]) for d in response.json()["error"]["details"]] == [(field, code)]
    assert await rows(db) == 0


async def test_who_may_change_settings(client, accounts, db):
    body = {"notice_days": 10}
    county = await accounts.headers("reviewer", region_code="360104")
    refused = await client.put(URL.format("360100"), headers=county, json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "out_of_scope"
    other_city = await accounts.headers("reviewer", region_code="360400")
    assert (await client.put(URL.format("360104"), headers=other_city, json=body)).status_code == 403
    for role, scope in (
        ("vendor", {"vendor_credit_code": "91360104MA38XK3Q60"}),
        ("auditor", {"region_code": "360000"}),
        ("school", {"region_code": "360104", "school_code": "2136010401"}),
    ):
        headers = await accounts.headers(role, **scope)
        response = await client.put(URL.format("360104"), headers=headers, json=body)
        assert response.status_code == 403 and response.json()["error"]["code"] == "role_not_allowed"
    assert await rows(db) == 0
    province = await accounts.headers("reviewer", region_code="360000")
    assert (await client.put(URL.format("360104"), headers=province, json=body)).status_code == 200
    admin = await accounts.headers("admin")
    assert (await client.put(URL.format("360000"), headers=admin, json=body)).status_code == 200


async def test_unknown_region_is_404(client, accounts):
    admin = await accounts.headers("admin")
    for method in ("get", "put"):
        kwargs = {"json": {}} if method == "put" else {}
        response = await getattr(client, method)(URL.format("999999"), headers=admin, **kwargs)
        assert response.status_code == 404 and response.json()["error"]["code"] == "region_not_found"
