"""Reads are scoped: outside the caller's scope looks exactly like missing."""

from __future__ import annotations

import uuid

from tests.factories import vendor_payload


async def register(client, headers, **overrides) -> dict:
    response = await client.post("/api/v1/vendors", json=vendor_payload(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_out_of_scope_vendor_answers_exactly_like_a_missing_one(client, accounts):
    admin = await accounts.headers("admin")
    jiujiang = await register(client, admin, region_code="360402")
    nanchang_county = await accounts.headers("reviewer", region_code="360104")
    hidden = await client.get(f"/api/v1/vendors/{jiujiang['id']}", headers=nanchang_county)
    missing = await client.get(f"/api/v1/vendors/{uuid.uuid4()}", headers=nanchang_county)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == missing.json()["error"]


async def test_vendor_sees_only_itself(client, accounts):
    admin = await accounts.headers("admin")
    mine = vendor_payload()
    other = await register(client, admin)
    own_headers = await accounts.headers("vendor", vendor_credit_code=mine["credit_code"])
    created = (await client.post("/api/v1/vendors", json=mine, headers=own_headers)).json()
    assert (await client.get(f"/api/v1/vendors/{created['id']}", headers=own_headers)).status_code == 200
    assert (await client.get(f"/api/v1/vendors/{other['id']}", headers=own_headers)).status_code == 404


async def test_city_reviewer_sees_its_counties_and_auditor_reads(client, accounts):
    admin = await accounts.headers("admin")
    in_county = await register(client, admin, region_code="360104")
    city = await accounts.headers("reviewer", region_code="360100")
    auditor = await accounts.headers("auditor", region_code="360100")
    province = await accounts.headers("reviewer", region_code="360000")
    for headers in (city, auditor, province):
        assert (await client.get(f"/api/v1/vendors/{in_county['id']}", headers=headers)).status_code == 200
    other_city = await accounts.headers("reviewer", region_code="360400")
    assert (await client.get(f"/api/v1/vendors/{in_county['id']}", headers=other_city)).status_code == 404


async def test_list_is_scoped_filtered_and_paginated(client, accounts):
    admin = await accounts.headers("admin")
    for _ in range(3):
        await register(client, admin, region_code="360104")
    await register(client, admin, region_code="360102", org_type="social_organization", name="东湖区青少年围棋协会")
    await register(client, admin, region_code="360402")
    city = await accounts.headers("reviewer", region_code="360100")

    pages, cursor = [], None
    while True:
        query = "/api/v1/vendors?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(query, headers=city)).json()
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    ids = [v["id"] for page in pages for v in page["items"]]
    assert [len(p["items"]) for p in pages] == [3, 1]
    assert len(set(ids)) == 4  # the Jiujiang vendor is out of scope

    by_region = (await client.get("/api/v1/vendors?region=360102", headers=city)).json()["items"]
    assert [v["region_code"] for v in by_region] == ["360102"]
    by_type = (await client.get("/api/v1/vendors?org_type=social_organization", headers=city)).json()["items"]
    assert len(by_type) == 1
    by_name = (await client.get("/api/v1/vendors?q=围棋", headers=city)).json()["items"]
    assert len(by_name) == 1

    bad_cursor = await client.get("/api/v1/vendors?cursor=garbage", headers=city)
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["error"]["code"] == "invalid_cursor"


async def test_list_is_for_reviewers_auditors_and_admins(client, accounts):
    vendor = await accounts.headers("vendor", vendor_credit_code=vendor_payload()["credit_code"])
    school = await accounts.headers("school", region_code="360104", school_code="2136010401")
    for headers in (vendor, school):
        response = await client.get("/api/v1/vendors", headers=headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "role_not_allowed"
