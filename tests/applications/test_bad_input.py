"""Bad applications: 422 naming the field, and nothing stored."""

from __future__ import annotations

import uuid

from service.applications.models import Application

BAD = {
    "items of another vendor": ("service_item_ids", "service_item_not_of_vendor"),
    "unknown item": ("service_item_ids", "service_item_not_of_vendor"),
    "no items": ("service_item_ids", "service_items_required"),
    "repeated item": ("service_item_ids", "duplicate_service_item"),
    "documents of another vendor": ("document_ids", "document_not_of_vendor"),
    "unknown region": ("region_code", "unknown_region"),
    "the province": ("region_code", "invalid_application_region"),
}


async def test_bad_applications_are_422_with_field_details_and_nothing_stored(world):
    vendor = await world.vendor()
    other = await world.vendor(region_code="360102")
    own_items = [i["id"] for i in vendor.items]
    cases = {
        "items of another vendor": {"service_item_ids": [own_items[0], other.items[0]["id"]]},
        "unknown item": {"service_item_ids": [str(uuid.uuid4())]},
        "no items": {"service_item_ids": []},
        "repeated item": {"service_item_ids": [own_items[0], own_items[0]]},
        "documents of another vendor": {"document_ids": [other.documents[0]["id"]]},
        "unknown region": {"region_code": "369999"},
        "the province": {"region_code": "360000"},
    }
    for name, change in cases.items():
        payload = {
            "vendor_id": vendor.id,
            "region_code": "360104",
            "service_item_ids": own_items,
            "document_ids": [vendor.documents[0]["id"]],
        } | change
        response = await world.client.post("/api/v1/applications", json=payload, headers=vendor.headers)
        assert response.status_code == 422, (name, response.text)
        field, code = BAD[name]
        details = response.json()["error"]["details"]
        assert any(d["field"].startswith(field) and d["code"] == code and d["message"] for d in details), (
            name,
            details,
        )
    items_of_other = await world.client.post(
        "/api/v1/applications",
        headers=vendor.headers,
        json={"vendor_id": vendor.id, "region_code": "360104", "service_item_ids": [other.items[0]["id"]]},
    )
    assert items_of_other.json()["error"]["details"][0]["field"] == "service_item_ids[0]"
    another_vendors_application = await world.client.post(
        "/api/v1/applications",
        headers=vendor.headers,
        json={"vendor_id": other.id, "region_code": "360104", "service_item_ids": [other.items[0]["id"]]},
    )
    assert another_vendors_application.status_code == 404
    assert await world.count(Application) == 0


async def test_an_edit_that_changes_nothing_keeps_the_version(world):
    vendor = await world.vendor()
    app = await world.application(vendor)
    same = await world.client.patch(
        f"/api/v1/applications/{app['id']}",
        headers=vendor.headers,
        json={"service_item_ids": [i["id"] for i in vendor.items], "version": app["version"]},
    )
    assert same.status_code == 200 and same.json()["version"] == app["version"]
    bad = await world.client.patch(
        f"/api/v1/applications/{app['id']}",
        headers=vendor.headers,
        json={"service_item_ids": [str(uuid.uuid4())], "version": app["version"]},
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "service_item_ids[0]"
    assert (await world.get(app["id"], vendor.headers))["service_items"] == app["service_items"]
    stale = await world.client.patch(
        f"/api/v1/applications/{app['id']}",
        headers=vendor.headers,
        json={"document_ids": [], "version": app["version"] - 1},
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
