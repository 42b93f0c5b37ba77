"""Vendor registration through the HTTP API, on the real database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.vendors.models import Vendor
from tests.factories import credit_code, vendor_payload
from tests.identifiers.make import make_credit_code, make_credit_code_with_org


async def count(db, model) -> int:
    async with db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()[0]


async def test_vendor_account_registers_its_own_vendor(client, accounts, db):
    payload = vendor_payload()
    headers = await accounts.headers("vendor", vendor_credit_code=payload["credit_code"])
    response = await client.post("/api/v1/vendors", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"]
    for field, value in payload.items():
        assert body[field] == value
    assert body["warnings"] == []
    fetched = await client.get(f"/api/v1/vendors/{body['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json()["credit_code"] == payload["credit_code"]


async def test_registration_is_audited_with_personal_data_masked(client, accounts, db):
    payload = vendor_payload(contact_name="刘晓燕", legal_representative="陈建国", contact_phone="13907971234")
    headers = await accounts.headers("reviewer", region_code="360100")
    response = await client.post("/api/v1/vendors", json=payload, headers=headers)
    assert response.status_code == 201
    async with db.transaction() as session:
        events = (await session.exec(select(AuditEvent).where(AuditEvent.action == "vendors:vendor:register"))).all()
    assert len(events) == 1
    event = events[0][0]
    text = event.canonical.decode()
    assert event.object_id == response.json()["id"]
    assert event.region_code == "360104"
    assert "刘晓燕" not in text and "陈建国" not in text and "13907971234" not in text
    assert "刘**" in text and "139****1234" in text
    assert payload["credit_code"] in text


async def test_reviewer_registers_only_inside_its_region(client, accounts):
    county = await accounts.headers("reviewer", region_code="360104")  # 青云谱区
    inside = await client.post("/api/v1/vendors", json=vendor_payload(region_code="360104"), headers=county)
    assert inside.status_code == 201
    outside = await client.post("/api/v1/vendors", json=vendor_payload(region_code="360402"), headers=county)
    assert outside.status_code == 403
    assert outside.json()["error"]["code"] == "out_of_scope"


async def test_vendor_account_cannot_register_another_credit_code(client, accounts, db):
    headers = await accounts.headers("vendor", vendor_credit_code=credit_code())
    response = await client.post("/api/v1/vendors", json=vendor_payload(), headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "vendor_mismatch"
    assert await count(db, Vendor) == 0


@pytest.mark.parametrize(
    "bad_code",
    [
        "91360104MA3",  # too short
        "91360104MA38XK2Q1XX",  # too long
        "91360104MA38XK2QIO",  # I and O are not in the alphabet
        "!!360104MA38XK2Q1X",
    ],
)
async def test_malformed_credit_codes_are_422(client, accounts, db, bad_code):
    headers = await accounts.headers("admin")
    response = await client.post("/api/v1/vendors", json=vendor_payload(credit_code=bad_code), headers=headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_credit_code"
    assert error["details"][0]["field"] == "credit_code"
    assert await count(db, Vendor) == 0


async def test_wrong_check_character_is_422(client, accounts, db):
    good = credit_code()
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = await client.post(
        "/api/v1/vendors", json=vendor_payload(credit_code=wrong), headers=await accounts.headers("admin")
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_credit_code"
    assert await count(db, Vendor) == 0


async def test_bad_organisation_code_check_is_a_warning_not_a_rejection(client, accounts):
    code = make_credit_code_with_org("91360104", "MA38XK2Q", org_check="0")
    from tests.identifiers.make import org_check_char

    assert org_check_char("MA38XK2Q") != "0"
    response = await client.post(
        "/api/v1/vendors", json=vendor_payload(credit_code=code), headers=await accounts.headers("admin")
    )
    assert response.status_code == 201, response.text
    assert response.json()["warnings"] == ["organization_code_check_failed"]


async def test_unknown_region_is_422_and_nothing_is_stored(client, accounts, db):
    response = await client.post(
        "/api/v1/vendors", json=vendor_payload(region_code="110101"), headers=await accounts.headers("admin")
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"field": "region_code", "code": "unknown_region", "message": response.json()["error"]["message"]}
    ]
    assert await count(db, Vendor) == 0
    assert await count(db, AuditEvent) == 1  # only the admin account's creation


async def test_several_problems_are_reported_together(client, accounts):
    payload = vendor_payload(name="", org_type="company", contact_phone="x", public_welfare_pledge=False)
    response = await client.post("/api/v1/vendors", json=payload, headers=await accounts.headers("admin"))
    assert response.status_code == 422
    fields = {d["field"]: d["code"] for d in response.json()["error"]["details"]}
    assert fields == {
        "name": "required",
        "org_type": "invalid_org_type",
        "contact_phone": "invalid_phone",
        "public_welfare_pledge": "pledge_required",
    }


async def test_missing_and_mistyped_fields_are_422_with_the_field(client, accounts):
    headers = await accounts.headers("admin")
    payload = vendor_payload()
    del payload["name"]
    missing = await client.post("/api/v1/vendors", json=payload, headers=headers)
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "name"
    mistyped = await client.post("/api/v1/vendors", json=vendor_payload(public_welfare_pledge="yes"), headers=headers)
    assert mistyped.status_code == 422
    assert mistyped.json()["error"]["details"][0]["field"] == "public_welfare_pledge"


async def test_duplicate_credit_code_is_409(client, accounts, db):
    headers = await accounts.headers("admin")
    payload = vendor_payload()
    assert (await client.post("/api/v1/vendors", json=payload, headers=headers)).status_code == 201
    again = await client.post(
        "/api/v1/vendors", json=vendor_payload(credit_code=payload["credit_code"].lower()), headers=headers
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_credit_code"
    assert await count(db, Vendor) == 1


async def test_lowercase_code_is_normalised(client, accounts):
    code = make_credit_code("91360104MA38XK2Q1")
    response = await client.post(
        "/api/v1/vendors", json=vendor_payload(credit_code=code.lower()), headers=await accounts.headers("admin")
    )
    assert response.status_code == 201
    assert response.json()["credit_code"] == code
