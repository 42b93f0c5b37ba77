"""Four eyes: the preliminary reviewer never records the final decision, and the
vendor's own accounts never review. Violations are 403 with a clear code, and change nothing."""

from __future__ import annotations

import pytest

REVIEW_ACTIONS = ["accept", "pass_preliminary", "pass_verification", "approve", "return", "reject"]


async def test_the_preliminary_reviewer_may_not_decide_finally(world):
    vendor = await world.vendor()
    city_a, city_b = await world.reviewer("360100"), await world.reviewer("360100")
    app = await world.application(vendor)
    app = await world.step(app, vendor.headers, "submit")
    app = await world.step(app, city_a, "accept")
    app = await world.step(app, city_a, "pass_preliminary")
    app = await world.step(app, city_a, "pass_verification")
    assert (await world.get(app["id"], city_a))["allowed_actions"] == ["return"]
    events = await world.audit_actions(app["id"])
    for action in ("approve", "reject"):
        refused = await world.act(app, city_a, action, reason="同意")
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert (
            error["code"] == "four_eyes_violation"
            and error["message"] == "初审人员不得作出终审决定，请由其他审核人员办理"
        )
    assert await world.audit_actions(app["id"]) == events
    assert (await world.get(app["id"], city_a))["version"] == app["version"]
    assert (await world.step(app, city_b, "approve", "同意公示"))["stage"] == "public_notice"


@pytest.mark.parametrize("action", REVIEW_ACTIONS)
async def test_the_vendor_can_never_review(world, action):
    vendor = await world.vendor()
    app = await world.application(vendor)
    app = await world.step(app, vendor.headers, "submit")
    refused = await world.act(app, vendor.headers, action, reason="自己审核")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "vendor_cannot_review"
    assert (await world.get(app["id"], vendor.headers))["version"] == app["version"]


async def test_other_roles_cannot_take_decisions(world):
    vendor = await world.vendor()
    app = await world.step(await world.application(vendor), vendor.headers, "submit")
    for role, scope in (
        ("auditor", {"region_code": "360104"}),
        ("admin", {}),
        ("school", {"region_code": "360104", "school_code": "2136010401"}),
    ):
        headers = await world.accounts.headers(role, **scope)
        refused = await world.act(app, headers, "accept")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_not_allowed"
    other_vendor = await world.vendor(items=0)
    assert (await world.act(app, other_vendor.headers, "withdraw")).status_code == 404
    out_of_scope = await world.reviewer("360402")
    assert (await world.act(app, out_of_scope, "accept")).status_code == 404
