"""A stored publication is served without reading the list while nothing it is made of
can have changed; every kind of change (a write, or an instant passing) is seen.

The list reads are counted by wrapping the domain queries the lists module calls: a
request answered from the stored row calls neither. The clock of the document
controllers is moved to show a change that no write announces.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pytest

from service.printing import controllers, lists
from service.timeutil import CHINA_TZ, today_in_china, utcnow
from tests.printing.pdfcheck import attachments, text

WHITELIST_PDF = "/api/v1/public/whitelist.pdf"
WHITELIST_JSON = "/api/v1/public/whitelist.json"
NOTICES_JSON = "/api/v1/public/notices.json"


class Reads:
    def __init__(self) -> None:
        self.whitelist = 0
        self.notices = 0


@pytest.fixture
def reads(monkeypatch) -> Reads:
    seen = Reads()
    real_whitelist, real_notices = lists.public_whitelist_all, lists.public_notices

    def whitelist(*args, **kwargs):
        seen.whitelist += 1
        return real_whitelist(*args, **kwargs)

    async def notices(*args, **kwargs):
        if kwargs.get("cursor") is None:  # one read of the board, however many pages
            seen.notices += 1
        return await real_notices(*args, **kwargs)

    monkeypatch.setattr(lists, "public_whitelist_all", whitelist)
    monkeypatch.setattr(lists, "public_notices", notices)
    return seen


class Clock:
    """The instant the document controllers see; `shift` moves it with no write."""

    def __init__(self, monkeypatch) -> None:
        self.offset = timedelta(0)
        monkeypatch.setattr(controllers, "utcnow", lambda: utcnow() + self.offset)

    def shift(self, by: timedelta) -> None:
        self.offset += by


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


async def _codes(wl, **params) -> set[str]:
    response = await wl.client.get(WHITELIST_JSON, params=params)
    assert response.status_code == 200, response.text
    return {e["credit_code"] for e in response.json()["document"]["entries"]}


async def _fees(wl, credit_code: str) -> set[int]:
    document = (await wl.client.get(WHITELIST_JSON)).json()["document"]
    return {e["fee"] for e in document["entries"] if e["credit_code"] == credit_code}


async def test_an_unchanged_list_is_not_read_and_a_write_elsewhere_costs_one_read(wl, reads, renders):
    vendor, _ = await wl.approved()
    first = await wl.client.get(WHITELIST_PDF)
    assert first.status_code == 200, first.text
    assert reads.whitelist == 1 and renders.count == 1

    again = await wl.client.get(WHITELIST_PDF)
    api = await wl.client.get(WHITELIST_JSON)
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert api.json()["sha256"] == json.loads(attachments(first.content)["whitelist.json"])["sha256"]
    assert reads.whitelist == 1 and renders.count == 1  # neither the PDF nor the JSON read the list

    # A write to the whitelist's tables that does not change this list (another
    # vendor registers): one read to find out, no new publication, no render.
    await wl.vendor()
    after_write = await wl.client.get(WHITELIST_PDF)
    assert after_write.content == first.content and reads.whitelist == 2 and renders.count == 1
    assert (await wl.client.get(WHITELIST_PDF)).content == first.content and reads.whitelist == 2
    assert vendor.credit_code in text(first.content)


async def test_every_kind_of_change_gives_new_content(wl, reads, clock):
    a, _ = await wl.approved()
    b, _ = await wl.approved()
    first, second = await wl.reviewer("360104"), await wl.reviewer("360100")
    assert await _codes(wl) == {a.credit_code, b.credit_code}
    assert await _codes(wl) == {a.credit_code, b.credit_code}
    assert reads.whitelist == 1

    async def changed_to(expected: set[str]) -> None:
        before = reads.whitelist
        assert await _codes(wl) == expected
        assert reads.whitelist == before + 1  # read once after the change...
        assert await _codes(wl) == expected
        assert reads.whitelist == before + 1  # ...and kept again until the next

    # Suspension (until a set instant), and its end passing with no write.
    until = (utcnow() + timedelta(days=3)).isoformat()
    suspend = await wl.adjust(first, action="suspend", reason="暂停待查", vendor_id=a.id, until=until)
    assert suspend.status_code == 200, suspend.text
    await changed_to({b.credit_code})
    clock.shift(timedelta(days=3, seconds=1))
    await changed_to({a.credit_code, b.credit_code})

    # Revocation and reinstatement (four eyes: applied at confirmation).
    ban = (today_in_china() + timedelta(days=365)).isoformat()
    revoke = await wl.adjust(first, action="revoke", reason="撤销", vendor_id=b.id, ban_until=ban)
    assert revoke.status_code == 200, revoke.text
    assert await _codes(wl) == {a.credit_code, b.credit_code}  # pending: nothing changed
    assert (await wl.confirm(second, revoke.json()["request"]["id"], reason="核实")).status_code == 200
    await changed_to({a.credit_code})
    reinstate = await wl.adjust(first, action="reinstate", reason="复议恢复", vendor_id=b.id)
    assert (await wl.confirm(second, reinstate.json()["request"]["id"], reason="核实")).status_code == 200
    await changed_to({a.credit_code, b.credit_code})

    # Admission of another vendor.
    c, _ = await wl.approved()
    await changed_to({a.credit_code, b.credit_code, c.credit_code})

    # A fee change of a published entry.
    fees = await _fees(wl, c.credit_code)
    await wl.sql(
        "UPDATE whitelist_entries SET fee = fee + 100 WHERE vendor_id = CAST(:id AS uuid)",
        id=c.id,
    )
    before = reads.whitelist
    assert await _fees(wl, c.credit_code) == {fee + 100 for fee in fees} and reads.whitelist == before + 1


async def test_an_expiry_passing_with_no_write_renders_the_new_list(wl, reads, renders, clock):
    vendor, _ = await wl.approved()
    today = today_in_china()
    await wl.sql(
        "UPDATE documents SET valid_until = :today WHERE vendor_id = CAST(:id AS uuid)", today=today, id=vendor.id
    )
    listed = await wl.client.get(WHITELIST_PDF)
    assert listed.status_code == 200 and vendor.credit_code in text(listed.content)
    [(fresh_until,)] = await wl.sql("SELECT fresh_until FROM published_lists WHERE kind = 'whitelist'")
    assert fresh_until == datetime.combine(today + timedelta(days=1), time(0), tzinfo=CHINA_TZ)
    assert (await wl.client.get(WHITELIST_PDF)).content == listed.content and reads.whitelist == 1

    clock.shift(datetime.combine(today + timedelta(days=1), time(0), tzinfo=CHINA_TZ) - utcnow())
    expired = await wl.client.get(WHITELIST_PDF)
    assert expired.status_code == 200 and reads.whitelist == 2 and renders.count == 2
    assert vendor.credit_code not in text(expired.content) and "暂无符合条件的机构" in text(expired.content)
    assert expired.headers["etag"] != listed.headers["etag"]


async def test_if_none_match_gives_304_without_a_body_until_the_list_changes(wl, reads, renders):
    vendor, _ = await wl.approved()
    reviewer = await wl.reviewer("360104")
    for path in (WHITELIST_PDF, WHITELIST_JSON):
        first = await wl.client.get(path)
        tag = first.headers["etag"]
        assert first.status_code == 200 and first.headers["cache-control"] == "public, no-cache"
        held = await wl.client.get(path, headers={"If-None-Match": tag})
        assert held.status_code == 304 and held.content == b"" and held.headers["etag"] == tag
        listed = await wl.client.get(path, headers={"If-None-Match": f'"other", W/{tag}'})
        assert listed.status_code == 304
        assert (await wl.client.get(path, headers={"If-None-Match": '"other"'})).content == first.content
    assert reads.whitelist == 1 and renders.count == 1
    pdf_tag = (await wl.client.get(WHITELIST_PDF)).headers["etag"]
    first_json_response = await wl.client.get(WHITELIST_JSON)
    json_tag, first_json = first_json_response.headers["etag"], first_json_response.json()
    assert pdf_tag != json_tag

    assert (await wl.adjust(reviewer, action="suspend", reason="暂停", vendor_id=vendor.id)).status_code == 200
    changed = await wl.client.get(WHITELIST_PDF, headers={"If-None-Match": pdf_tag})
    assert changed.status_code == 200 and changed.headers["etag"] != pdf_tag
    assert vendor.credit_code not in text(changed.content)
    changed_json = await wl.client.get(WHITELIST_JSON, headers={"If-None-Match": json_tag})
    assert changed_json.status_code == 200 and changed_json.json()["document"]["entries"] == []

    # Back to what it said at first: the same content, but a new publication (its own
    # date and signature), so neither old tag matches it.
    second = await wl.reviewer("360100")
    reinstate = await wl.adjust(reviewer, action="reinstate", reason="复查无误，恢复", vendor_id=vendor.id)
    assert (await wl.confirm(second, reinstate.json()["request"]["id"], reason="核实")).status_code == 200
    back = await wl.client.get(WHITELIST_JSON, headers={"If-None-Match": json_tag})
    assert back.status_code == 200 and back.headers["etag"] != json_tag
    assert back.json()["document"]["entries"] == first_json["document"]["entries"]
    assert back.json()["document"]["as_of"] != first_json["document"]["as_of"]
    back_pdf = await wl.client.get(WHITELIST_PDF, headers={"If-None-Match": pdf_tag})
    assert back_pdf.status_code == 200 and back_pdf.headers["etag"] != pdf_tag
    again = await wl.client.get(WHITELIST_PDF)  # now from the stored row (bytes held by this process or not)
    for pdf in (back_pdf.content, again.content):
        assert json.loads(attachments(pdf)["whitelist.json"])["sha256"] == back.json()["sha256"]


async def test_the_notice_board_is_not_read_until_a_notice_period_ends(wl, reads, clock):
    vendor = await wl.vendor()
    county, city = await wl.reviewer("360104"), await wl.reviewer("360100")
    app = await wl.to_public_notice(vendor, county, city)
    board = (await wl.client.get(NOTICES_JSON, params={"region": "360104"})).json()
    assert [e["application_id"] for e in board["document"]["entries"]] == [app["id"]]
    again = await wl.client.get(NOTICES_JSON, params={"region": "360104"})
    assert again.json() == board and reads.notices == 1

    # The notice period ends with nothing written: the next request reads the board,
    # which concludes the notice (the listing does), and the application leaves it.
    [(ends_at,)] = await wl.sql("SELECT notice_ends_at FROM applications WHERE id = CAST(:id AS uuid)", id=app["id"])
    clock.shift(ends_at - utcnow() + timedelta(seconds=1))
    concluded = (await wl.client.get(NOTICES_JSON, params={"region": "360104"})).json()
    assert concluded["document"]["entries"] == [] and reads.notices == 2
    # The conclusion wrote while the board was read: one more read confirms it, then none.
    await wl.client.get(NOTICES_JSON, params={"region": "360104"})
    count = reads.notices
    assert (await wl.client.get(NOTICES_JSON, params={"region": "360104"})).json()["document"]["entries"] == []
    assert reads.notices == count and count <= 3
    assert (await wl.get(app["id"], county))["stage"] == "approved"


async def test_an_unknown_region_is_422_before_anything_is_served(wl, reads):
    for path in (WHITELIST_PDF, WHITELIST_JSON, "/api/v1/public/notices.pdf", NOTICES_JSON):
        response = await wl.client.get(path, params={"region": "999999"})
        assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "region"
    assert reads.whitelist == reads.notices == 0
