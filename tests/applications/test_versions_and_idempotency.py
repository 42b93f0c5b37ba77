"""No lost decisions: versions on every transition, Idempotency-Key on every create and transition."""

from __future__ import annotations

import asyncio

from service.applications.models import Application, StageChange
from service.audit.models import AuditEvent


async def submitted(world):
    vendor = await world.vendor()
    county = await world.reviewer("360104")
    app = await world.step(await world.application(vendor), vendor.headers, "submit")
    return vendor, county, app


async def test_a_stale_version_is_409_with_the_current_version_and_changes_nothing(world):
    vendor, county, app = await submitted(world)
    stale = await world.act(app, county, "accept", version=app["version"] - 1)
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "version_conflict"
    assert error["details"][0]["current_version"] == app["version"]
    assert (await world.get(app["id"], county))["stage"] == "submitted"
    assert await world.count(StageChange) == 1 and await world.count(AuditEvent) > 0
    events = await world.audit_actions(app["id"])
    assert events[-1] == "applications:application:submit"


async def test_version_from_if_match_or_body(world):
    vendor, county, app = await submitted(world)
    path = f"/api/v1/applications/{app['id']}/transitions"
    missing = await world.client.post(path, json={"action": "accept"}, headers=county)
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "version_required"
    mismatch = await world.client.post(
        path,
        json={"action": "accept", "version": app["version"]},
        headers=county | {"If-Match": str(app["version"] + 1)},
    )
    assert mismatch.status_code == 422 and mismatch.json()["error"]["code"] == "version_mismatch"
    garbage = await world.client.post(path, json={"action": "accept"}, headers=county | {"If-Match": "*"})
    assert garbage.status_code == 422 and garbage.json()["error"]["code"] == "invalid_if_match"
    detail = await world.client.get(f"/api/v1/applications/{app['id']}", headers=county)
    assert detail.headers["etag"] == f'"{app["version"]}"'
    ok = await world.client.post(path, json={"action": "accept"}, headers=county | {"If-Match": detail.headers["etag"]})
    assert ok.status_code == 200 and ok.json()["stage"] == "preliminary_review"


async def test_unknown_and_misplaced_actions(world):
    vendor, county, app = await submitted(world)
    unknown = await world.act(app, county, "fly")
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_action"
    wrong_stage = await world.act(app, county, "approve", reason="同意")
    assert wrong_stage.status_code == 409
    error = wrong_stage.json()["error"]
    assert error["code"] == "transition_not_allowed"
    assert error["details"][0]["allowed_actions"] == ["accept", "return"]
    system_only = await world.act(app, county, "conclude_notice")
    assert system_only.status_code == 409 and system_only.json()["error"]["code"] == "transition_not_allowed"


async def test_replayed_transition_returns_the_first_answer_and_changes_nothing(world):
    vendor, county, app = await submitted(world)
    headers = county | {"Idempotency-Key": "accept-7f3a"}
    first = await world.act(app, headers, "accept")
    assert first.status_code == 200
    events = await world.audit_actions(app["id"])
    replay = await world.act(app, headers, "accept")  # same body, now a stale version: still the replay
    assert replay.status_code == 200 and replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert await world.audit_actions(app["id"]) == events
    assert (await world.get(app["id"], county))["version"] == first.json()["version"]

    reused = await world.act(app, headers, "return", version=first.json()["version"], reason="请补充材料")
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert (await world.get(app["id"], county))["stage"] == "preliminary_review"

    # Keys are per account: another reviewer's same key is a different request.
    other = await world.reviewer("360104")
    fresh = await world.act(first.json(), other | {"Idempotency-Key": "accept-7f3a"}, "pass_preliminary")
    assert fresh.status_code == 200 and fresh.json()["stage"] == "verification"


async def test_replayed_create_stores_one_application(world):
    vendor = await world.vendor()
    payload = {
        "vendor_id": vendor.id,
        "region_code": "360104",
        "service_item_ids": [vendor.items[0]["id"]],
        "document_ids": [vendor.documents[0]["id"]],
    }
    headers = vendor.headers | {"Idempotency-Key": "create-2025-03-01-0001"}
    first = await world.client.post("/api/v1/applications", json=payload, headers=headers)
    # Same request, keys in another order: the same request.
    again = await world.client.post("/api/v1/applications", json=dict(reversed(list(payload.items()))), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await world.count(Application) == 1
    different = await world.client.post(
        "/api/v1/applications", json=payload | {"service_item_ids": []}, headers=headers
    )
    assert different.status_code == 422 and different.json()["error"]["code"] == "idempotency_key_reused"
    bad_key = await world.client.post(
        "/api/v1/applications", json=payload, headers=vendor.headers | {"Idempotency-Key": "with space"}
    )
    assert bad_key.status_code == 422 and bad_key.json()["error"]["code"] == "invalid_idempotency_key"
    assert await world.count(Application) == 1


async def test_a_failed_request_does_not_use_up_its_key(world):
    vendor, county, app = await submitted(world)
    headers = county | {"Idempotency-Key": "retry-after-fix"}
    failed = await world.act(app, headers, "return")  # no reason
    assert failed.status_code == 422
    fixed = await world.act(app, headers, "return", reason="请补充场地安全说明")
    assert fixed.status_code == 200 and fixed.json()["stage"] == "returned"


async def test_the_same_key_sent_twice_at_once_runs_once(world):
    vendor, county, app = await submitted(world)
    headers = county | {"Idempotency-Key": "double-click"}
    first, second = await asyncio.gather(world.act(app, headers, "accept"), world.act(app, headers, "accept"))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert {first.headers.get("idempotent-replayed"), second.headers.get("idempotent-replayed")} == {None, "true"}
    assert (await world.audit_actions(app["id"])).count("applications:application:accept") == 1


async def test_objection_and_resolution_are_idempotent(world):
    vendor = await world.vendor()
    county, city, city_b = (
        await world.reviewer("360104"),
        await world.reviewer("360100"),
        await world.reviewer("360100"),
    )
    app = await world.to_public_notice(vendor, county, city)
    school = await world.accounts.headers("school", region_code="360104", school_code="2136010401")
    path = f"/api/v1/applications/{app['id']}/objections"
    headers = school | {"Idempotency-Key": "objection-1"}
    first = await world.client.post(path, json={"reason": "收费过高"}, headers=headers)
    again = await world.client.post(path, json={"reason": "收费过高"}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    app = await world.get(app["id"], city_b)
    assert len(app["objections"]) == 1
    resolution = {"outcome": "dismissed", "reason": "收费符合标准", "version": app["version"]}
    path = f"/api/v1/objections/{first.json()['id']}/resolution"
    headers = city_b | {"Idempotency-Key": "resolution-1"}
    done = await world.client.post(path, json=resolution, headers=headers)
    replay = await world.client.post(path, json=resolution, headers=headers)
    assert done.status_code == replay.status_code == 200 and done.json() == replay.json()
    assert (await world.get(app["id"], city_b))["version"] == app["version"] + 1
