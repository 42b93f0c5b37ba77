"""Return/resubmit, reject, withdraw and the county-only table, through HTTP on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from service.whitelist.models import WhitelistEntry

REASON = "营业执照副本不清晰，请重新上传并补充场地说明"


async def test_return_edit_and_resubmit(world):
    vendor = await world.vendor()
    county = await world.reviewer("360104")
    app = await world.application(vendor)
    app = await world.step(app, vendor.headers, "submit")
    app = await world.step(app, county, "accept")

    missing_reason = await world.act(app, county, "return")
    assert missing_reason.status_code == 422
    assert missing_reason.json()["error"]["details"][0]["field"] == "reason"
    assert (await world.get(app["id"], county))["version"] == app["version"]

    not_editable = await world.client.patch(
        f"/api/v1/applications/{app['id']}",
        headers=vendor.headers,
        json={"service_item_ids": [vendor.items[0]["id"]], "version": app["version"]},
    )
    assert not_editable.status_code == 409 and not_editable.json()["error"]["code"] == "not_editable"

    app = await world.step(app, county, "return", REASON)
    assert app["stage"] == "returned"
    vendor_view = await world.get(app["id"], vendor.headers)
    assert vendor_view["history"][-1]["reason"] == REASON  # the list of required changes
    assert vendor_view["allowed_actions"] == ["resubmit", "withdraw"]

    region_locked = await world.client.patch(
        f"/api/v1/applications/{app['id']}",
        headers=vendor.headers,
        json={"region_code": "360102", "version": app["version"]},
    )
    assert region_locked.status_code == 409 and region_locked.json()["error"]["code"] == "region_locked"

    new_item = await world.item(vendor, activity="创意美术", category_code=3)
    new_doc = await world.document(vendor, doc_type="business_license")
    edited = await world.client.patch(
        f"/api/v1/applications/{app['id']}",
        headers=vendor.headers | {"If-Match": f'"{app["version"]}"'},
        json={"service_item_ids": [vendor.items[0]["id"], new_item["id"]], "document_ids": [new_doc["id"]]},
    )
    assert edited.status_code == 200, edited.text
    app = edited.json()
    assert app["version"] == vendor_view["version"] + 1
    assert [i["activity"] for i in app["service_items"]] == [vendor.items[0]["activity"], "创意美术"]
    assert [d["id"] for d in app["documents"]] == [new_doc["id"]]

    app = await world.step(app, vendor.headers, "resubmit")
    assert app["stage"] == "submitted"
    assert app["history"][-1]["evidence"] == [new_doc["sha256"]]
    assert "applications:application:edit" in await world.audit_actions(app["id"])


async def test_reject_is_final(world):
    vendor = await world.vendor()
    county = await world.reviewer("360104")
    app = await world.application(vendor)
    app = await world.step(app, vendor.headers, "submit")
    app = await world.step(app, county, "accept")
    app = await world.step(app, county, "reject", "提交的资质材料与机构登记信息不符")
    assert app["stage"] == "rejected" and app["allowed_actions"] == []
    again = await world.act(app, vendor.headers, "resubmit")
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "transition_not_allowed" and error["details"][0]["allowed_actions"] == []
    assert (await world.get(app["id"], vendor.headers))["allowed_actions"] == []


async def test_withdraw_from_draft_review_and_notice(world):
    vendor = await world.vendor()
    county, city = await world.reviewer("360104"), await world.reviewer("360100")

    draft = await world.application(vendor)
    assert (await world.step(draft, vendor.headers, "withdraw"))["stage"] == "withdrawn"

    in_review = await world.to_final_review(vendor, county)
    refused = await world.act(in_review, county, "withdraw")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "transition_not_allowed"
    assert refused.json()["error"]["details"][0]["allowed_actions"] == []  # the county has no final-review step
    assert (await world.step(in_review, vendor.headers, "withdraw"))["stage"] == "withdrawn"

    noticed = await world.to_public_notice(vendor, county, city)
    assert len((await world.client.get("/api/v1/public/notices")).json()["items"]) == 1
    withdrawn = await world.step(noticed, vendor.headers, "withdraw")
    assert withdrawn["stage"] == "withdrawn" and withdrawn["notice_ends_at"] is None
    assert (await world.client.get("/api/v1/public/notices")).json()["items"] == []
    assert await world.count(WhitelistEntry) == 0


async def test_missing_or_expired_mandatory_documents_block_submission(world):
    vendor = await world.vendor()
    app = await world.application(vendor, document_ids=[])
    blocked = await world.act(app, vendor.headers, "submit")
    assert blocked.status_code == 409
    error = blocked.json()["error"]
    assert error["code"] == "documents_incomplete"
    assert error["details"][0]["missing_documents"] == ["business_license"]
    assert (await world.get(app["id"], vendor.headers))["allowed_actions"] == ["withdraw"]

    expired = await world.document(vendor, valid_from="2019-01-01", valid_until="2020-12-31")
    app = await world.get(app["id"], vendor.headers)
    patched = await world.client.patch(
        f"/api/v1/applications/{app['id']}",
        headers=vendor.headers,
        json={"document_ids": [expired["id"]], "version": app["version"]},
    )
    app = patched.json()
    assert app["checks"]["expired_documents"] == ["business_license"]
    blocked = await world.act(app, vendor.headers, "submit")
    assert blocked.json()["error"]["details"][0]["expired_documents"] == ["business_license"]
    assert (await world.get(app["id"], vendor.headers))["stage"] == "draft"

    # A licence whose validity has not started yet does not count either (yet).
    from service.timeutil import today_in_china

    later = (today_in_china() + timedelta(days=30)).isoformat()
    future = await world.document(vendor, valid_from=later, valid_until="2070-12-31")
    assert future["status"] == "not_yet_valid"
    app = await world.get(app["id"], vendor.headers)
    patched = await world.client.patch(
        f"/api/v1/applications/{app['id']}",
        headers=vendor.headers,
        json={"document_ids": [expired["id"], future["id"]], "version": app["version"]},
    )
    app = patched.json()
    assert app["checks"]["not_yet_valid_documents"] == ["business_license"] and app["checks"]["expired_documents"] == []
    blocked = await world.act(app, vendor.headers, "submit")
    assert blocked.json()["error"]["details"][0]["not_yet_valid_documents"] == ["business_license"]


async def test_county_only_region_decides_at_verification(world):
    admin = await world.accounts.headers("admin")
    settings = await world.client.put(
        "/api/v1/regions/360104/settings", headers=admin, json={"city_review_required": False}
    )
    assert settings.status_code == 200
    vendor = await world.vendor()
    first, second = await world.reviewer("360104"), await world.reviewer("360104")
    app = await world.application(vendor)
    assert app["workflow"] == "entry_review_county_only"
    app = await world.step(app, vendor.headers, "submit")
    app = await world.step(app, first, "accept")
    app = await world.step(app, first, "pass_preliminary")
    assert (await world.get(app["id"], first))["allowed_actions"] == ["return"]  # four eyes: not approve/reject
    assert (await world.get(app["id"], second))["allowed_actions"] == ["approve", "return", "reject"]
    app = await world.step(app, second, "approve", "县级审核通过，予以公示")
    assert app["stage"] == "public_notice"


async def test_a_later_settings_change_does_not_strand_an_application(world):
    vendor = await world.vendor()
    county, city = await world.reviewer("360104"), await world.reviewer("360100")
    app = await world.to_final_review(vendor, county)
    admin = await world.accounts.headers("admin")
    await world.client.put("/api/v1/regions/360104/settings", headers=admin, json={"city_review_required": False})
    app = await world.get(app["id"], city)
    assert (app["workflow"], app["stage"]) == ("entry_review", "final_review")
    assert (await world.step(app, city, "approve", "同意公示"))["stage"] == "public_notice"


async def test_no_notice_period_admits_at_once(world):
    admin = await world.accounts.headers("admin")
    await world.client.put(
        "/api/v1/regions/360100/settings", headers=admin, json={"notice_days": 0, "whitelist_validity_days": 30}
    )
    vendor = await world.vendor()
    app = await world.to_public_notice(vendor, await world.reviewer("360104"), await world.reviewer("360100"))
    assert app["stage"] == "approved"
    assert [h["action"] for h in app["history"]][-2:] == ["approve", "conclude_notice"]
    assert len(app["whitelist_entries"]) == 2
    entry = app["whitelist_entries"][0]
    from datetime import datetime, timedelta

    span = datetime.fromisoformat(entry["valid_until"]) - datetime.fromisoformat(entry["valid_from"])
    assert span == timedelta(days=30)


async def test_a_get_after_the_window_shows_approved(world):
    vendor = await world.vendor()
    app = await world.to_public_notice(vendor, await world.reviewer("360104"), await world.reviewer("360100"))
    await world.end_notice_now(app["id"])
    # No job runs in tests and nobody acts: reading is enough to see the outcome.
    assert (await world.get(app["id"], vendor.headers))["stage"] == "approved"
    assert await world.count(WhitelistEntry) == 2


async def test_a_list_after_the_window_shows_approved(world):
    vendor = await world.vendor()
    city = await world.reviewer("360100")
    app = await world.to_public_notice(vendor, await world.reviewer("360104"), city)
    await world.end_notice_now(app["id"])
    listed = (await world.client.get("/api/v1/applications", headers=city)).json()["items"]
    assert [(row["id"], row["stage"]) for row in listed] == [(app["id"], "approved")]
