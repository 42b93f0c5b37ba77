"""Objections during the public notice: pause, uphold, dismiss and resume, reject."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from uuid import UUID

from service.applications import notices, objections, services
from service.applications.models import Objection
from service.security.actor import Actor, Role

APPROVE = "材料真实齐全，同意公示"


async def noticed(world):
    vendor = await world.vendor()
    county, city, city_b = (
        await world.reviewer("360104"),
        await world.reviewer("360100"),
        await world.reviewer("360100"),
    )
    app = await world.to_public_notice(vendor, county, city)
    return vendor, county, city, city_b, app


def object_to(world, app, headers, reason="该机构曾被家长投诉存在超额收费情况", **extra):
    return world.client.post(
        f"/api/v1/applications/{app['id']}/objections", json={"reason": reason}, headers=headers | extra
    )


def resolve(world, objection_id, headers, outcome, version, reason="经核实，异议成立"):
    return world.client.post(
        f"/api/v1/objections/{objection_id}/resolution",
        headers=headers,
        json={"outcome": outcome, "reason": reason, "version": version},
    )


async def test_an_objection_pauses_the_notice_and_upheld_goes_back_to_final_review(world):
    vendor, county, city, city_b, app = await noticed(world)
    school = await world.accounts.headers("school", region_code="360104", school_code="2136010401")
    filed = await object_to(world, app, school)
    assert filed.status_code == 201, filed.text
    objection = filed.json()
    assert (objection["status"], objection["application_stage"]) == ("open", "objection_review")
    assert objection["filed_by"] is None  # a school does not see who objected, not even itself

    board = (await world.client.get("/api/v1/public/notices")).json()["items"]
    assert [(n["status"], n["notice_ends_at"]) for n in board] == [("paused", None)]

    app = await world.get(app["id"], city)
    assert app["stage"] == "objection_review" and app["allowed_actions"] == ["reject"]
    assert app["history"][-1]["action"] == "pause_for_objection"
    assert app["history"][-1]["actor"] == {"account_id": None, "name": None, "role": "system"}
    assert app["objections"][0]["filed_by"] is not None  # reviewers see the objector

    upheld = await resolve(world, objection["id"], city_b, "upheld", app["version"])
    assert upheld.status_code == 200, upheld.text
    assert (upheld.json()["status"], upheld.json()["application_stage"]) == ("upheld", "final_review")
    app = await world.get(app["id"], city)
    assert app["notice_ends_at"] is None
    assert [h["action"] for h in app["history"]][-2:] == ["pause_for_objection", "uphold_objection"]
    # The deciding level takes it up again; a new notice starts on approval.
    app = await world.step(app, city_b, "approve", "整改到位，重新公示")
    assert app["stage"] == "public_notice"
    actions = await world.audit_actions(app["id"])
    assert actions[-3:] == [
        "applications:application:pause_for_objection",
        "applications:application:uphold_objection",
        "applications:application:approve",
    ]
    assert "applications:objection:file" in await world.audit_actions(objection["id"])


async def test_dismissed_resumes_the_notice_for_the_time_it_had_left(world, db):
    vendor, county, city, city_b, app = await noticed(world)
    ends = datetime.fromisoformat(app["notice_ends_at"])
    school = await world.accounts.headers("school", region_code="360104", school_code="2136010401")
    reviewer = Actor(account_id=await _account_id(world, city_b), role=Role.REVIEWER, region_code="360100")
    objector = Actor(account_id=(await _account_id(world, school)), role=Role.SCHOOL, region_code="360104")

    paused_at = ends - timedelta(days=3)
    filed = await objections.file_objection(db, objector, UUID(app["id"]), "收费标准与公示不符", now=paused_at)
    resumed_at = paused_at + timedelta(days=2)
    result = (
        await objections.resolve_objection(
            db,
            reviewer,
            filed.value.objection.id,
            outcome="dismissed",
            reason="经核实，收费标准与公示一致",
            version=app["version"] + 1,
            now=resumed_at,
        )
    ).value
    assert (result.objection.status, result.application_stage) == ("dismissed", "public_notice")
    view = await services.get_application(db, reviewer, UUID(app["id"]), now=resumed_at)
    assert view.application.notice_ends_at == ends + timedelta(days=2)
    # Not yet over at the old end; over at the new one.
    assert await notices.conclude_due_notices(db, ends + timedelta(hours=1)) == 0
    assert await notices.conclude_due_notices(db, ends + timedelta(days=2)) == 1


async def _account_id(world, headers) -> UUID:
    return UUID((await world.client.get("/api/v1/me", headers=headers)).json()["account_id"])


async def test_every_objection_must_be_settled_before_the_notice_resumes(world):
    vendor, county, city, city_b, app = await noticed(world)
    school = await world.accounts.headers("school", region_code="360104", school_code="2136010401")
    other_vendor = await world.vendor(items=0)
    first = (await object_to(world, app, school)).json()
    second = await object_to(world, app, other_vendor.headers, reason="该机构场地不符合安全要求")
    assert second.status_code == 201 and second.json()["application_stage"] == "objection_review"
    app = await world.get(app["id"], city)

    dismissed = await resolve(world, first["id"], city_b, "dismissed", app["version"], reason="投诉不实")
    assert dismissed.status_code == 200
    assert dismissed.json()["application_stage"] == "objection_review"  # the second is still open
    again = await resolve(world, first["id"], city_b, "dismissed", dismissed.json()["application_version"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "objection_not_open"

    done = await resolve(
        world, second.json()["id"], city_b, "dismissed", dismissed.json()["application_version"], reason="场地已整改"
    )
    assert done.json()["application_stage"] == "public_notice"


async def test_reject_during_objection_review_closes_the_open_objections(world):
    vendor, county, city, city_b, app = await noticed(world)
    school = await world.accounts.headers("school", region_code="360104", school_code="2136010401")
    objection = (await object_to(world, app, school)).json()
    app = await world.get(app["id"], city_b)
    app = await world.step(app, city_b, "reject", "经核实存在违规收费，不予准入")
    assert app["stage"] == "rejected"
    assert [(o["id"], o["status"]) for o in app["objections"]] == [(objection["id"], "closed")]


async def test_objection_rules(world, db):
    vendor, county, city, city_b, app = await noticed(world)
    school = await world.accounts.headers("school", region_code="360104", school_code="2136010401")

    own = await object_to(world, app, vendor.headers)
    assert own.status_code == 403 and own.json()["error"]["code"] == "own_application"
    blank = await object_to(world, app, school, reason="   ")
    assert blank.status_code == 422 and blank.json()["error"]["details"][0]["field"] == "reason"
    assert await world.count(Objection) == 0

    # Not in notice: hidden from outsiders (404), a conflict for those who can see it.
    draft = await world.application(vendor)
    assert (await object_to(world, draft, school)).status_code == 404
    in_review = await world.step(draft, vendor.headers, "submit")
    conflict = await object_to(world, in_review, county)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "not_in_public_notice"
    assert (await object_to(world, {"id": str(uuid.uuid4())}, school)).status_code == 404

    # Resolving: reviewers in scope only; the preliminary reviewer may not dismiss.
    objection = (await object_to(world, app, school)).json()
    app = await world.get(app["id"], city)
    assert (await resolve(world, objection["id"], vendor.headers, "dismissed", app["version"])).status_code == 403
    elsewhere = await world.reviewer("360400")
    outside = await resolve(world, objection["id"], elsewhere, "dismissed", app["version"])
    assert outside.status_code == 404 and outside.json()["error"]["code"] == "objection_not_found"
    bad = await resolve(world, objection["id"], city, "ignored", app["version"])
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_outcome"
    stale = await resolve(world, objection["id"], city, "dismissed", app["version"] - 1)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"

    # After the window nobody can object any more: the notice has ended in admission.
    other = await world.vendor()
    later = await world.to_public_notice(other, county, city)
    await world.end_notice_now(later["id"])
    closed = await object_to(world, later, county)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "not_in_public_notice"
    assert (await object_to(world, later, school)).status_code == 404  # no longer public: no oracle
    assert (await world.get(later["id"], city))["stage"] == "approved"


async def test_the_preliminary_reviewer_may_not_dismiss(world):
    vendor = await world.vendor()
    county = await world.reviewer("360100")  # a city reviewer works the whole file ...
    city_b = await world.reviewer("360100")
    app = await world.to_final_review(vendor, county)
    app = await world.step(app, city_b, "approve", APPROVE)
    school = await world.accounts.headers("school", region_code="360104", school_code="2136010401")
    objection = (await object_to(world, app, school)).json()
    app = await world.get(app["id"], county)
    refused = await resolve(world, objection["id"], county, "dismissed", app["version"])  # ... but not this
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "four_eyes_violation"
    assert (await world.get(app["id"], county))["version"] == app["version"]
