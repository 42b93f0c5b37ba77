"""Point-in-time answers: every change is kept with its interval, `as_of` reads it."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.timeutil import utcnow

SEPT_1_0800 = "2026-09-01T08:00:00+08:00"


async def test_as_of_before_and_after_each_change(wl):
    vendor, entries = await wl.approved()
    reviewer, school = await wl.reviewer("360104"), await wl.school("360104")
    admitted_at = datetime.fromisoformat(entries[0]["valid_from"])
    before_admission = (admitted_at - timedelta(seconds=1)).isoformat()

    assert (await wl.adjust(reviewer, action="suspend", reason="暂停待查", vendor_id=vendor.id)).status_code == 200
    history = (await wl.client.get(f"/api/v1/whitelist/entries/{entries[0]['id']}", headers=reviewer)).json()
    suspended_at = datetime.fromisoformat(history["history"][1]["valid_from"])
    assert [h["status"] for h in history["history"]] == ["active", "suspended"]
    assert history["history"][0]["valid_to"] == history["history"][1]["valid_from"]
    assert history["history"][1]["valid_to"] is None and history["history"][1]["reason"] == "暂停待查"

    between = (suspended_at - timedelta(microseconds=1)).isoformat()
    assert await wl.status(school, vendor.credit_code, as_of=before_admission) == "not_listed"
    assert await wl.status(school, vendor.credit_code, as_of=between) == "active"
    assert await wl.status(school, vendor.credit_code, as_of=suspended_at.isoformat()) == "suspended"
    assert await wl.status(school, vendor.credit_code) == "suspended"
    # The entry view answers as_of too.
    old = await wl.client.get(
        f"/api/v1/whitelist/entries/{entries[0]['id']}", params={"as_of": between}, headers=reviewer
    )
    assert old.json()["status"] == "active"


async def test_was_the_football_item_whitelisted_on_september_first(wl):
    vendor = await wl.vendor("360102", items=0)
    vendor.items.append(await wl.item(vendor, activity="校园足球", category_code=4, fee=2000))
    vendor, entries = await wl.approved(vendor, region_code="360102")
    school = await wl.school("360102")
    # The admission happened in August (time travel on the stored intervals).
    await wl.sql(
        "UPDATE whitelist_entry_status SET valid_from = '2026-08-20T10:00:00+08:00', "
        "entry_valid_until = '2027-08-20T10:00:00+08:00'"
    )
    await wl.sql("UPDATE documents SET uploaded_at = '2026-08-01T09:00:00+08:00'")
    answer = (await wl.lookup(school, vendor.credit_code, as_of=SEPT_1_0800)).json()
    assert answer["status"] == "active"
    assert [(s["activity"], s["category_code"], s["region_codes"]) for s in answer["services"]] == [
        ("校园足球", 4, ["360102"])
    ]
    assert answer["as_of"] == "2026-09-01T00:00:00+00:00"
    reviewer = await wl.reviewer("360102")
    assert (await wl.adjust(reviewer, action="suspend", reason="暂停", vendor_id=vendor.id)).status_code == 200
    # A later change does not rewrite the past.
    assert await wl.status(school, vendor.credit_code, as_of=SEPT_1_0800) == "active"
    assert await wl.status(school, vendor.credit_code, as_of="2026-08-01T08:00:00+08:00") == "not_listed"


async def test_renewal_does_not_rewrite_an_expiry_in_the_past(wl):
    vendor, entries = await wl.approved()
    reviewer, school = await wl.reviewer("360104"), await wl.school("360104")
    lapsed = utcnow() - timedelta(minutes=10)
    await wl.sql(
        "UPDATE whitelist_entry_status SET valid_from = now() - interval '30 days', "
        "entry_valid_until = now() - interval '10 minutes'"
    )
    await wl.sql("UPDATE documents SET uploaded_at = now() - interval '40 days'")
    assert (await wl.adjust(reviewer, action="renew", reason="续期", vendor_id=vendor.id)).status_code == 200
    assert await wl.status(school, vendor.credit_code) == "active"
    assert await wl.status(school, vendor.credit_code, as_of=(lapsed + timedelta(minutes=5)).isoformat()) == "expired"
    assert await wl.status(school, vendor.credit_code, as_of=(lapsed - timedelta(minutes=5)).isoformat()) == "active"


async def test_document_expiry_is_judged_at_the_instant_asked(wl):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    await wl.sql("UPDATE whitelist_entry_status SET valid_from = now() - interval '30 days'")
    await wl.sql("UPDATE documents SET valid_until = CURRENT_DATE - 5, uploaded_at = now() - interval '30 days'")
    assert await wl.status(school, vendor.credit_code) == "expired"
    ten_days_ago = (utcnow() - timedelta(days=10)).isoformat()
    assert await wl.status(school, vendor.credit_code, as_of=ten_days_ago) == "active"


async def test_entry_list_in_scope_with_status_as_of(wl):
    vendor, entries = await wl.approved()
    reviewer, outsider = await wl.reviewer("360104"), await wl.reviewer("360102")
    listed = await wl.client.get("/api/v1/whitelist/entries", params={"vendor_id": vendor.id}, headers=reviewer)
    assert {e["id"] for e in listed.json()} == {e["id"] for e in entries}
    assert {e["status"] for e in listed.json()} == {"active"}
    own = await wl.client.get("/api/v1/whitelist/entries", headers=vendor.headers)
    assert len(own.json()) == 2
    hidden = await wl.client.get("/api/v1/whitelist/entries", params={"vendor_id": vendor.id}, headers=outsider)
    assert hidden.json() == []
    missing = await wl.client.get(f"/api/v1/whitelist/entries/{entries[0]['id']}", headers=outsider)
    assert missing.status_code == 404
    naive = await wl.client.get("/api/v1/whitelist/entries", params={"as_of": "2026-09-01T08:00:00"}, headers=reviewer)
    assert naive.status_code == 422 and naive.json()["error"]["code"] == "invalid_as_of"
