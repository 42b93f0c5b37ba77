"""The reviewer queue: scoped, filtered, oldest in its stage first, with the time waited."""

from __future__ import annotations

import uuid


async def test_queue_scope_order_filters_and_time_in_stage(world):
    vendor = await world.vendor()
    county = await world.reviewer("360104")
    first = await world.step(await world.application(vendor), vendor.headers, "submit")
    second = await world.step(await world.application(vendor), vendor.headers, "submit")
    elsewhere = await world.step(await world.application(vendor, region_code="360402"), vendor.headers, "submit")
    draft = await world.application(vendor)
    # The first has waited longest in its stage.
    await world.sql(
        "UPDATE applications SET stage_entered_at = now() - interval '3 days' WHERE id = CAST(:id AS uuid)",
        id=first["id"],
    )

    city = await world.reviewer("360100")
    queue = (await world.client.get("/api/v1/applications", headers=city)).json()
    assert [row["id"] for row in queue["items"]] == [first["id"], second["id"]]  # no draft, no Jiujiang
    row = queue["items"][0]
    assert row["time_in_stage_seconds"] >= 3 * 86400
    assert (row["stage"], row["stage_label"], row["vendor_name"], row["item_count"]) == (
        "submitted",
        "已提交待受理",
        vendor.name,
        2,
    )

    await world.step(second, county, "accept")
    by_stage = (await world.client.get("/api/v1/applications?stage=preliminary_review", headers=city)).json()
    assert [row["id"] for row in by_stage["items"]] == [second["id"]]
    by_region = (
        await world.client.get("/api/v1/applications?region=360402", headers=await world.reviewer("360000"))
    ).json()
    assert [row["id"] for row in by_region["items"]] == [elsewhere["id"]]

    mine = (await world.client.get("/api/v1/applications", headers=vendor.headers)).json()
    assert {row["id"] for row in mine["items"]} == {first["id"], second["id"], elsewhere["id"], draft["id"]}
    other_vendor = await world.vendor(items=0)
    assert (await world.client.get("/api/v1/applications", headers=other_vendor.headers)).json()["items"] == []

    page = (await world.client.get("/api/v1/applications?limit=1", headers=city)).json()
    rest = (await world.client.get(f"/api/v1/applications?limit=1&cursor={page['next_cursor']}", headers=city)).json()
    assert [r["id"] for r in page["items"] + rest["items"]] == [first["id"], second["id"]]
    assert rest["next_cursor"] is None

    bad = await world.client.get("/api/v1/applications?stage=lost", headers=city)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_stage"


async def test_drafts_and_other_regions_are_invisible_in_the_detail_view(world):
    vendor = await world.vendor()
    draft = await world.application(vendor)
    county = await world.reviewer("360104")
    hidden = await world.client.get(f"/api/v1/applications/{draft['id']}", headers=county)
    missing = await world.client.get(f"/api/v1/applications/{uuid.uuid4()}", headers=county)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == missing.json()["error"]
    submitted = await world.step(draft, vendor.headers, "submit")
    assert (await world.client.get(f"/api/v1/applications/{submitted['id']}", headers=county)).status_code == 200
    far = await world.reviewer("360402")
    assert (await world.client.get(f"/api/v1/applications/{submitted['id']}", headers=far)).status_code == 404
    auditor = await world.accounts.headers("auditor", region_code="360100")
    seen = await world.get(submitted["id"], auditor)
    assert seen["allowed_actions"] == []
