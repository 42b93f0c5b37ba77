"""A school's check never lags the end of a public notice (docs/applications.md, "The
end of the notice"): the vendor is on the whitelist from the notice's end, whether or
not the job (every 30 s) or a reviewer's read has concluded it yet. Through HTTP on the
real database; the notice job is never run here."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.lookup import vendors
from service.printing import controllers
from tests.lookup.people_world import authorisation, cleared_person, lookup

WHITELIST = "/api/v1/public/whitelist"
WHITELIST_JSON = "/api/v1/public/whitelist.json"


async def _in_notice(wl):
    vendor = await wl.vendor()
    county, city = await wl.reviewer("360104"), await wl.reviewer("360100")
    app = await wl.to_public_notice(vendor, county, city)
    assert app["stage"] == "public_notice"
    return vendor, app, county


async def _listed(wl, credit_code: str) -> tuple[bool, bool]:
    """Is the vendor in the public whitelist (the paged API) and its signed publication?"""
    page = await wl.client.get(WHITELIST, params={"q": credit_code})
    published = await wl.client.get(WHITELIST_JSON)
    assert page.status_code == 200 and published.status_code == 200, (page.text, published.text)
    return (
        any(row["credit_code"] == credit_code for row in page.json()["items"]),
        any(e["credit_code"] == credit_code for e in published.json()["document"]["entries"]),
    )


async def test_right_after_the_notice_ends_the_school_sees_the_vendor_on_the_whitelist(wl):
    vendor, app, county = await _in_notice(wl)
    school = await wl.school("360104")
    # During the notice: not listed — answered twice, so the worker's caches hold it and
    # the publication is stored, as on a busy day.
    for _ in range(2):
        assert await wl.status(school, vendor.credit_code) == "not_listed"
        assert await _listed(wl, vendor.credit_code) == (False, False)

    await wl.end_notice_now(app["id"])  # the days go by; no job runs, nobody reads the file

    body = (await wl.lookup(school, vendor.credit_code)).json()
    assert body["status"] == "active", body
    assert {s["item_id"] for s in body["services"]} == {i["id"] for i in vendor.items}
    assert await _listed(wl, vendor.credit_code) == (True, True)
    detail = await wl.get(app["id"], county)
    assert detail["stage"] == "approved"
    # Concluded once, effective at the notice's end (not at the lookup's instant).
    assert (await wl.audit_actions(app["id"])).count("applications:application:conclude_notice") == 1
    rows = await wl.sql(
        "SELECT DISTINCT e.valid_from = a.notice_ends_at FROM whitelist_entries e"
        " JOIN applications a ON a.id = e.application_id WHERE a.id = CAST(:id AS uuid)",
        id=app["id"],
    )
    assert [row[0] for row in rows] == [True]


async def test_a_cached_answer_turns_active_at_the_notice_end_with_nothing_written(wl, monkeypatch):
    """No write announces the end of a notice: the worker's cached state ends at that
    instant (its horizon), and the lookup then concludes the notice before answering."""
    vendor, app, _ = await _in_notice(wl)
    school = await wl.school("360104")
    assert await wl.status(school, vendor.credit_code) == "not_listed"
    assert await wl.status(school, vendor.credit_code) == "not_listed"  # from the caches
    ends = datetime.fromisoformat(app["notice_ends_at"])
    monkeypatch.setattr(vendors, "utcnow", lambda: ends - timedelta(microseconds=1))
    assert await wl.status(school, vendor.credit_code) == "not_listed"
    monkeypatch.setattr(vendors, "utcnow", lambda: ends)
    assert await wl.status(school, vendor.credit_code) == "active"
    # The published list's stored copy also stops at that instant.
    monkeypatch.setattr(controllers, "utcnow", lambda: ends)
    published = (await wl.client.get(WHITELIST_JSON)).json()["document"]["entries"]
    assert vendor.credit_code in {e["credit_code"] for e in published}


async def test_a_person_check_right_after_the_notice_ends_clears_the_vendors_staff(wl):
    vendor = await wl.vendor()
    county, city = await wl.reviewer("360104"), await wl.reviewer("360100")
    consent = await authorisation(wl.client, county)
    _, number = await cleared_person(wl, vendor, county, consent)
    app = await wl.to_public_notice(vendor, county, city)
    school = await wl.school("360104")
    assert (await lookup(wl, school, number)).json()["result"] == "not_cleared"  # not whitelisted yet

    await wl.end_notice_now(app["id"])

    body = (await lookup(wl, school, number)).json()
    assert body["result"] == "cleared", body
    assert body["vendors"] == [{"credit_code": vendor.credit_code, "name": vendor.name}]
