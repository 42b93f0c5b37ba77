"""GET /api/v1/lookup/vendors/{credit_code}: the contract, region containment, receipts stored."""

from __future__ import annotations

from sqlalchemy import func, select

from service.lookup.models import LookupReceipt
from tests.factories import credit_code


async def _receipts(wl) -> int:
    return await wl.count(LookupReceipt)


async def test_answer_shape_for_a_listed_vendor(wl):
    vendor, entries = await wl.approved()
    school = await wl.school("360104")
    response = await wl.lookup(school, vendor.credit_code)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"credit_code", "name", "status", "services", "checked_at", "receipt_id"}
    assert body["credit_code"] == vendor.credit_code and body["name"] == vendor.name and body["status"] == "active"
    service = body["services"][0]
    assert set(service) == {
        "item_id",
        "category_code",
        "activity",
        "grade_bands",
        "fee",
        "fee_unit",
        "fee_published_on",
        "valid_until",
        "region_codes",
    }
    assert service["item_id"] == entries[0]["service_item_id"] and service["fee"] == 3000
    assert service["fee_unit"] == "per_session" and service["region_codes"] == ["360104"]
    assert service["valid_until"] == entries[0]["valid_until"].replace("Z", "+00:00")
    assert await _receipts(wl) == 1


async def test_lowercase_and_spaced_codes_are_normalised(wl):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    messy = " " + vendor.credit_code.lower() + " "
    assert (await wl.lookup(school, messy)).json()["credit_code"] == vendor.credit_code


async def test_region_containment(wl):
    """A county school sees its own county's and its city's entries, not another county's."""
    city_vendor, _ = await wl.approved(region_code="360100")  # city-wide (南昌市)
    county_vendor, _ = await wl.approved(region_code="360104")  # 青云谱区 only
    in_county = await wl.school("360104")
    other_county = await wl.school("360102")  # 东湖区, also in 南昌市
    other_city = await wl.school("360202")  # 景德镇 昌江区

    assert await wl.status(in_county, city_vendor.credit_code) == "active"
    assert await wl.status(other_county, city_vendor.credit_code) == "active"
    assert await wl.status(other_city, city_vendor.credit_code) == "not_listed"
    assert await wl.status(in_county, county_vendor.credit_code) == "active"
    assert await wl.status(other_county, county_vendor.credit_code) == "not_listed"
    assert await wl.status(other_city, county_vendor.credit_code) == "not_listed"
    # A reviewer of the city judges for the city as a whole unless it names a county.
    city_reviewer = await wl.reviewer("360100")
    assert await wl.status(city_reviewer, county_vendor.credit_code) == "not_listed"
    assert await wl.status(city_reviewer, county_vendor.credit_code, region="360104") == "active"


async def test_bad_check_character_is_422_and_unknown_code_is_not_listed(wl):
    school = await wl.school("360104")
    good = credit_code()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = await wl.lookup(school, bad)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_credit_code"
    assert response.json()["error"]["details"][0]["field"] == "credit_code"
    assert await _receipts(wl) == 0

    unknown = await wl.lookup(school, good)
    assert unknown.status_code == 200
    body = unknown.json()
    assert body["status"] == "not_listed" and body["name"] is None and body["services"] == []
    assert body["receipt_id"] and await _receipts(wl) == 1


async def test_bad_as_of_and_region_are_refused(wl):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    cases = [
        ({"as_of": "2026-09-01T08:00:00"}, "invalid_as_of"),
        ({"as_of": "2070-01-01T00:00:00+08:00"}, "as_of_in_future"),
        ({"region": "360102"}, "region_not_allowed"),
    ]
    for params, code in cases:
        response = await wl.lookup(school, vendor.credit_code, **params)
        assert response.status_code == 422 and response.json()["error"]["code"] == code, response.text
    outsider = await wl.reviewer("360102")
    out = await wl.lookup(outsider, vendor.credit_code, region="360104")
    assert out.status_code == 422 and out.json()["error"]["code"] == "region_not_allowed"
    assert await _receipts(wl) == 0


async def test_vendors_and_anonymous_callers_may_not_look_up(wl):
    vendor, _ = await wl.approved()
    assert (await wl.lookup(vendor.headers, vendor.credit_code)).status_code == 403
    assert (await wl.client.get(f"/api/v1/lookup/vendors/{vendor.credit_code}")).status_code == 401


async def test_lookups_are_not_audit_events(wl):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    before = len(await wl.audit_actions())
    for _ in range(3):
        assert (await wl.lookup(school, vendor.credit_code)).status_code == 200
    assert len(await wl.audit_actions()) == before
    async with wl.db.transaction() as session:
        kinds = (await session.exec(select(LookupReceipt.kind, func.count()).group_by(LookupReceipt.kind))).all()
    assert [tuple(k) for k in kinds] == [("vendor", 3)]


async def test_the_looked_up_side_can_list_who_checked(wl):
    from service.lookup.records import lookups_of

    vendor, _ = await wl.approved()
    first, second = await wl.school("360104"), await wl.school("360104")
    ids = [(await wl.lookup(h, vendor.credit_code)).json()["receipt_id"] for h in (first, second, first)]
    records = await lookups_of(wl.db, vendor.credit_code)
    assert [str(r.receipt_id) for r in records] == ids[::-1]
    assert len({r.school_id for r in records}) == 2 and {r.kind for r in records} == {"vendor"}
