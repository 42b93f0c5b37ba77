"""Service items: a vendor's catalogue, validated field by field, scoped through the vendor."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from service.service_items.models import ServiceItem
from tests.factories import service_item_payload, vendor_payload


@pytest.fixture
async def vendor(client, accounts):
    payload = vendor_payload()
    headers = await accounts.headers("vendor", vendor_credit_code=payload["credit_code"])
    created = await client.post("/api/v1/vendors", json=payload, headers=headers)
    return {"id": created.json()["id"], "headers": headers}


def create(client, vendor, headers=None, **overrides):
    return client.post(
        f"/api/v1/vendors/{vendor['id']}/service-items",
        json=service_item_payload(**overrides),
        headers=headers or vendor["headers"],
    )


async def stored_items(db) -> int:
    async with db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(ServiceItem))).one()[0]


async def add_person(client, vendor) -> str:
    from tests.identifiers.make import make_id_number

    response = await client.post(
        f"/api/v1/vendors/{vendor['id']}/people",
        headers=vendor["headers"],
        json={
            "id_number": make_id_number(born="19880512", sequence=f"{uuid.uuid4().int % 1000:03d}"),
            "name": "张伟",
            "role": "lead_instructor",
            "start_date": "2025-09-01",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["person_id"]


async def test_personnel_must_work_for_the_vendor(client, vendor, db):
    response = await create(client, vendor, personnel_ids=[str(uuid.uuid4())])
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "personnel_ids"
    assert response.json()["error"]["code"] == "unknown_personnel"
    assert await stored_items(db) == 0


async def test_create_list_and_get(client, vendor):
    person = await add_person(client, vendor)
    response = await create(
        client,
        vendor,
        grade_bands=["junior_secondary", "lower_primary", "lower_primary"],
        personnel_ids=[person],
        activity="  少儿机器人编程  ",
    )
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["category_code"] == 2 and item["category_name"] == "科技活动"
    assert item["activity"] == "少儿机器人编程"
    assert item["grade_bands"] == ["lower_primary", "junior_secondary"]  # school order, once each
    assert (item["fee"], item["fee_unit"], item["max_class_size"]) == (3000, "per_session", 30)
    assert item["personnel_ids"] == [person]
    free = (await create(client, vendor, fee=0, fee_unit="free", category_code=6, activity="经典诵读")).json()
    nap = await create(client, vendor, fee=0, fee_unit="free", category_code=7, activity="在校午休看护")
    assert nap.status_code == 201, nap.text  # a free service may be offered, free of charge

    listed = (await client.get(f"/api/v1/vendors/{vendor['id']}/service-items", headers=vendor["headers"])).json()
    assert [i["id"] for i in listed["items"]] == [item["id"], free["id"], nap.json()["id"]]
    one = await client.get(f"/api/v1/vendors/{vendor['id']}/service-items/{item['id']}", headers=vendor["headers"])
    assert one.status_code == 200 and one.json() == item


BAD = {
    "unknown category": ({"category_code": 9}, "category_code", "unknown_category"),
    "category zero": ({"category_code": 0}, "category_code", "unknown_category"),
    "empty grade bands": ({"grade_bands": []}, "grade_bands", "grade_bands_required"),
    "unknown grade band": ({"grade_bands": ["kindergarten"]}, "grade_bands", "invalid_grade_band"),
    "negative fee": ({"fee": -1}, "fee", "negative_fee"),
    "class size 0": ({"max_class_size": 0}, "max_class_size", "invalid_class_size"),
    "free but charged": ({"fee_unit": "free", "fee": 100}, "fee", "fee_unit_mismatch"),
    "unknown fee unit": ({"fee_unit": "per_year"}, "fee_unit", "invalid_fee_unit"),
    "blank activity": ({"activity": "   "}, "activity", "required"),
    "blank venue": ({"venue": ""}, "venue", "required"),
    "fee as text": ({"fee": "30元"}, "fee", "invalid_type"),
    "fee as a float": ({"fee": 30.5}, "fee", "invalid_type"),
    "unknown field": ({"price": 1}, None, None),
    "a fee for 弹性上学 (§3(2))": ({"activity": "弹性上学看护", "category_code": 7}, "fee", "free_service_fee"),
    "a fee for 在校午休 (§3(2))": (
        {"activity": "在校 午休托管", "fee_unit": "per_term", "fee": 50000},
        "fee",
        "free_service_fee",
    ),
}


@pytest.mark.parametrize(("change", "field", "code"), BAD.values(), ids=BAD.keys())
async def test_bad_input_is_422_with_the_field_and_nothing_stored(client, db, vendor, change, field, code):
    response = await create(client, vendor, **change)
    assert response.status_code in (400, 422), response.text
    error = response.json()["error"]
    if field is not None:
        assert response.status_code == 422
        assert {"field": field, "code": code} in [{"field": d["field"], "code": d["code"]} for d in error["details"]]
        assert all(d["message"] for d in error["details"])
    assert await stored_items(db) == 0


async def test_every_problem_is_reported_at_once(client, db, vendor):
    response = await create(client, vendor, category_code=12, grade_bands=[], fee=-5, max_class_size=0)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert {d["field"] for d in error["details"]} == {"category_code", "grade_bands", "fee", "max_class_size"}
    assert await stored_items(db) == 0


async def test_only_the_vendor_itself_or_an_admin_adds_items(client, db, accounts, vendor):
    other_payload = vendor_payload()
    other = await accounts.headers("vendor", vendor_credit_code=other_payload["credit_code"])
    await client.post("/api/v1/vendors", json=other_payload, headers=other)
    assert (await create(client, vendor, headers=other)).status_code == 404
    reviewer = await accounts.headers("reviewer", region_code="360104")
    assert (await create(client, vendor, headers=reviewer)).status_code == 403
    assert await stored_items(db) == 0
    admin = await accounts.headers("admin")
    assert (await create(client, vendor, headers=admin)).status_code == 201


async def test_reads_are_scoped_through_the_vendor(client, accounts, vendor):
    item = (await create(client, vendor)).json()
    base = f"/api/v1/vendors/{vendor['id']}/service-items"
    in_region = await accounts.headers("reviewer", region_code="360100")
    assert (await client.get(f"{base}/{item['id']}", headers=in_region)).status_code == 200
    elsewhere = await accounts.headers("reviewer", region_code="360402")
    for path in (base, f"{base}/{item['id']}"):
        assert (await client.get(path, headers=elsewhere)).status_code == 404
    missing = await client.get(f"{base}/{uuid.uuid4()}", headers=vendor["headers"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "service_item_not_found"


async def test_an_idempotent_create_is_stored_once(client, db, vendor):
    headers = vendor["headers"] | {"Idempotency-Key": "item-create-0001"}
    first = await create(client, vendor, headers=headers)
    again = await create(client, vendor, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert await stored_items(db) == 1
    reused = await create(client, vendor, headers=headers, fee=9900)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert await stored_items(db) == 1
