"""The whole road on real PostgreSQL through the HTTP API: draft → ... → approved."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.applications.notices import conclude_due_notices
from service.timeutil import CHINA_TZ, utcnow
from service.whitelist.models import WhitelistEntry


async def test_full_happy_path_to_the_whitelist(world):
    vendor = await world.vendor()
    county_a = await world.reviewer("360104")
    county_b = await world.reviewer("360104")
    city = await world.reviewer("360100")

    app = await world.application(vendor)
    assert (app["stage"], app["version"], app["workflow"]) == ("draft", 1, "entry_review")
    assert app["allowed_actions"] == ["submit", "withdraw"]
    assert [i["id"] for i in app["service_items"]] == [i["id"] for i in vendor.items]

    app = await world.step(app, vendor.headers, "submit")
    assert (app["stage"], app["version"]) == ("submitted", 2)
    reviewer_view = await world.get(app["id"], county_a)
    assert reviewer_view["allowed_actions"] == ["accept", "return"]

    app = await world.step(app, county_a, "accept")
    app = await world.step(app, county_a, "pass_preliminary")
    assert app["stage"] == "verification"
    app = await world.step(app, county_b, "pass_verification")
    assert app["stage"] == "final_review"
    city_view = await world.get(app["id"], city)
    assert city_view["allowed_actions"] == ["approve", "return", "reject"]

    app = await world.step(app, city, "approve", "材料真实齐全，人员核查无异常，同意公示")
    assert app["stage"] == "public_notice" and app["version"] == 6
    assert app["whitelist_entries"] == []
    started = app["notice_started_at"]
    assert app["notice_ends_at"] is not None

    notices = (await world.client.get("/api/v1/public/notices")).json()["items"]
    assert [n["application_id"] for n in notices] == [app["id"]]
    notice = notices[0]
    assert (notice["vendor_name"], notice["vendor_credit_code"], notice["status"]) == (
        vendor.name,
        vendor.credit_code,
        "in_notice",
    )
    assert [(i["activity"], i["fee"], i["fee_unit"], i["grade_bands"]) for i in notice["service_items"]] == [
        (i["activity"], i["fee"], i["fee_unit"], i["grade_bands"]) for i in vendor.items
    ]
    assert notice["notice_ends_on"] is not None

    # Nobody acts: the job function, run at a time after the window, admits the items.
    assert await conclude_due_notices(world.db, utcnow() + timedelta(days=5, seconds=1)) == 1
    app = await world.get(app["id"], vendor.headers)
    assert (app["stage"], app["version"], app["allowed_actions"]) == ("approved", 7, [])
    entries = app["whitelist_entries"]
    assert len(entries) == len(vendor.items) == await world.count(WhitelistEntry)
    notice_start_day = str(_china_date(started))
    for entry, item in zip(entries, vendor.items):
        assert entry["service_item_id"] == item["id"]
        assert (entry["region_code"], entry["status"], entry["fee"], entry["fee_unit"]) == (
            "360104",
            "active",
            item["fee"],
            item["fee_unit"],
        )
        assert entry["fee_published_on"] == notice_start_day
        # In force from the end of the notice, for the default year.
        assert _at(entry["valid_from"]) == _at(app["notice_ends_at"])
        assert _at(entry["valid_until"]) - _at(entry["valid_from"]) == timedelta(days=365)
    assert (await world.client.get("/api/v1/public/notices")).json()["items"] == []

    # The history: who, when, why, on which documents.
    history = app["history"]
    assert [(h["action"], h["from_stage"], h["to_stage"]) for h in history] == [
        ("submit", "draft", "submitted"),
        ("accept", "submitted", "preliminary_review"),
        ("pass_preliminary", "preliminary_review", "verification"),
        ("pass_verification", "verification", "final_review"),
        ("approve", "final_review", "public_notice"),
        ("conclude_notice", "public_notice", "approved"),
    ]
    assert [h["actor"]["role"] for h in history] == [
        "vendor",
        "county_reviewer",
        "county_reviewer",
        "county_reviewer",
        "city_reviewer",
        "system",
    ]
    assert history[4]["reason"] == "材料真实齐全，人员核查无异常，同意公示"
    assert history[4]["actor"]["name"].startswith("测试reviewer")
    assert history[5]["actor"]["account_id"] is None
    assert all(h["evidence"] == [vendor.documents[0]["sha256"]] for h in history)
    assert [h["version"] for h in history] == [2, 3, 4, 5, 6, 7]

    # One audit event per transition, in the same order.
    actions = await world.audit_actions(app["id"])
    assert actions == ["applications:application:create"] + [f"applications:application:{h['action']}" for h in history]


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _china_date(iso: str):
    return _at(iso).astimezone(CHINA_TZ).date()
