"""GET /api/v1/public/whitelist: no token, only what is usable now, cursor pages, CSV."""

from __future__ import annotations

import csv
import io


async def _all_pages(client, **params) -> list[dict]:
    rows, cursor = [], None
    while True:
        response = await client.get("/api/v1/public/whitelist", params=params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return rows


def _from_csv(text: str) -> list[dict]:
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        row["category_code"], row["fee"] = int(row["category_code"]), int(row["fee"])
        row["grade_bands"] = row["grade_bands"].split(";") if row["grade_bands"] else []
        rows.append(row)
    return rows


async def test_public_list_pages_filters_and_csv(wl):
    robots, _ = await wl.approved(region_code="360104")
    city = await wl.vendor("360102", items=0, name="东湖区青少年体育俱乐部")
    city.items.append(await wl.item(city, activity="校园足球", category_code=4, fee=2000))
    city.items.append(await wl.item(city, activity="篮球_100%", category_code=4, fee=0, fee_unit="free"))
    await wl.approved(city, region_code="360100")
    suspended, _ = await wl.approved(region_code="360104")
    reviewer = await wl.reviewer("360104")
    assert (await wl.adjust(reviewer, action="suspend", reason="暂停", vendor_id=suspended.id)).status_code == 200

    rows = await _all_pages(wl.client, limit=1)  # one row per page: the cursor walks them all
    assert len(rows) == 4
    assert {r["credit_code"] for r in rows} == {robots.credit_code, city.credit_code}
    assert suspended.credit_code not in {r["credit_code"] for r in rows}
    row = next(r for r in rows if r["activity"] == "校园足球")
    assert row["vendor_name"] == "东湖区青少年体育俱乐部" and row["region_code"] == "360100"
    assert row["category_name"] == "体育锻炼" and row["fee"] == 2000 and row["grade_bands"]
    assert not any("personnel" in key or "person" in key for key in row)

    # Filters: a county sees its own and its city's entries; category; text (wildcards are literal).
    assert len(await _all_pages(wl.client, region="360104")) == 4
    assert {r["credit_code"] for r in await _all_pages(wl.client, region="360102")} == {city.credit_code}
    assert len(await _all_pages(wl.client, region="360202")) == 0
    assert {r["activity"] for r in await _all_pages(wl.client, category=4)} == {"校园足球", "篮球_100%"}
    assert [r["activity"] for r in await _all_pages(wl.client, q="_100%")] == ["篮球_100%"]
    assert len(await _all_pages(wl.client, q="体育俱乐部")) == 2
    assert len(await _all_pages(wl.client, q=city.credit_code.lower())) == 2

    # CSV: the same content as the JSON pages.
    exported = await wl.client.get("/api/v1/public/whitelist", headers={"Accept": "text/csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert _from_csv(exported.text) == rows
    filtered = await wl.client.get("/api/v1/public/whitelist", params={"category": 4}, headers={"Accept": "text/csv"})
    assert _from_csv(filtered.text) == await _all_pages(wl.client, category=4)


async def test_expired_entries_are_not_public(wl):
    vendor, _ = await wl.approved()
    await wl.sql("UPDATE documents SET valid_until = CURRENT_DATE - 2")
    assert await _all_pages(wl.client) == []
    await wl.sql("UPDATE documents SET valid_until = CURRENT_DATE + 10")
    assert len(await _all_pages(wl.client)) == 2


async def test_bad_filters_are_422(wl):
    for params, code in [
        ({"region": "999999"}, "unknown_region"),
        ({"category": 9}, "unknown_category"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
    ]:
        response = await wl.client.get("/api/v1/public/whitelist", params=params)
        assert response.status_code == 422 and response.json()["error"]["code"] == code, response.text


async def test_a_document_not_valid_yet_does_not_put_a_vendor_back_on_the_public_list(wl, monkeypatch):
    """A vendor whose licence expired leaves the list; a new licence valid from a future
    date brings it back only from midnight (China time) of that date."""
    from datetime import datetime, time, timedelta

    from service.timeutil import CHINA_TZ, today_in_china
    from service.whitelist import queries

    vendor, _ = await wl.approved(region_code="360104")
    assert {r["credit_code"] for r in await _all_pages(wl.client)} == {vendor.credit_code}
    await wl.sql("UPDATE documents SET valid_until = CURRENT_DATE - 2")
    assert await _all_pages(wl.client) == []
    starts = today_in_china() + timedelta(days=90)
    await wl.document(vendor, valid_from=starts.isoformat(), valid_until=(starts + timedelta(days=365)).isoformat())
    assert await _all_pages(wl.client) == []
    exported = await wl.client.get("/api/v1/public/whitelist", headers={"Accept": "text/csv"})
    assert _from_csv(exported.text) == []

    start = datetime.combine(starts, time(0), tzinfo=CHINA_TZ)
    monkeypatch.setattr(queries, "utcnow", lambda: start - timedelta(microseconds=1))
    assert await _all_pages(wl.client) == []
    monkeypatch.setattr(queries, "utcnow", lambda: start)
    assert {r["credit_code"] for r in await _all_pages(wl.client)} == {vendor.credit_code}
