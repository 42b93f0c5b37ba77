"""Published lists are rendered once and kept in PostgreSQL until the list changes.

Renders are counted by wrapping the renderer the publications module calls; the stored
row (`published_lists`) is read back to show what the workers share.
"""

from __future__ import annotations

import asyncio
import json

from service.printing import publications, rendering
from tests.printing.pdfcheck import attachments, text

WHITELIST = "/api/v1/public/whitelist.pdf"


async def _stored(wl, kind: str = "whitelist") -> list:
    return list(
        await wl.sql(
            "SELECT scope, content_hash, published_at, rendered_at, length(pdf) FROM published_lists WHERE kind = :kind",
            kind=kind,
        )
    )


def _sha(pdf: bytes, name: str = "whitelist.json") -> str:
    return json.loads(attachments(pdf)[name])["sha256"]


async def test_an_unchanged_list_is_served_from_the_stored_render(wl, renders):
    vendor, _ = await wl.approved()
    first = await wl.client.get(WHITELIST, params={"region": "360104"})
    assert first.status_code == 200, first.text
    assert renders.count == 1
    [(scope, _, published_at, rendered_at, size)] = await _stored(wl)
    assert scope == "region=360104&category=" and size == len(first.content)

    second = await wl.client.get(WHITELIST, params={"region": "360104"})
    assert second.status_code == 200
    assert second.content == first.content and renders.count == 1
    assert [(r[2], r[3]) for r in await _stored(wl)] == [(published_at, rendered_at)]

    # The JSON at the API is the same publication: the hash the PDF prints, its date.
    api = (await wl.client.get("/api/v1/public/whitelist.json", params={"region": "360104"})).json()
    assert api["sha256"] == _sha(first.content) and api["sha256"] in text(first.content)
    assert api["document"]["as_of"] == published_at.isoformat()

    # Another query is another publication, rendered once for itself.
    other = await wl.client.get(WHITELIST, params={"region": "360104", "category": 2})
    assert other.status_code == 200 and renders.count == 2
    assert {r[0] for r in await _stored(wl)} == {"region=360104&category=", "region=360104&category=2"}


async def test_a_change_of_the_list_renders_a_new_publication(wl, renders):
    kept, _ = await wl.approved()
    suspended, _ = await wl.approved()
    first = await wl.client.get(WHITELIST)
    assert first.status_code == 200 and renders.count == 1

    reviewer = await wl.reviewer("360104")
    assert (await wl.adjust(reviewer, action="suspend", reason="暂停", vendor_id=suspended.id)).status_code == 200
    after_suspension = await wl.client.get(WHITELIST)
    assert after_suspension.status_code == 200 and renders.count == 2
    assert _sha(after_suspension.content) != _sha(first.content)
    found = text(after_suspension.content)
    assert kept.credit_code in found and suspended.credit_code not in found
    assert len(await _stored(wl)) == 1  # the scope's publication was replaced, not added

    # An expiry passing changes the list too, with no write to the whitelist itself.
    await wl.sql("UPDATE documents SET valid_until = CURRENT_DATE - 2")
    expired = await wl.client.get(WHITELIST)
    assert expired.status_code == 200 and renders.count == 3
    assert "暂无符合条件的机构" in text(expired.content)
    assert (await wl.client.get(WHITELIST)).content == expired.content and renders.count == 3


async def test_a_concurrent_pair_renders_once(wl, renders, monkeypatch):
    await wl.approved()
    waiting = asyncio.Event()
    real_pause = publications._pause

    async def pause(seconds):
        waiting.set()
        await real_pause(seconds)

    async def hold_until_the_other_waits():
        await waiting.wait()  # the second request found the claim taken and is polling

    monkeypatch.setattr(publications, "_pause", pause)
    renders.hook = hold_until_the_other_waits
    one, two = await asyncio.gather(wl.client.get(WHITELIST), wl.client.get(WHITELIST))
    assert one.status_code == two.status_code == 200, (one.text, two.text)
    assert one.content == two.content
    assert renders.count == 1


async def test_a_request_during_another_render_is_503_with_retry_after(wl, renders, monkeypatch):
    await wl.approved()
    monkeypatch.setattr(rendering, "_publication_wait", 0.0)
    during = []

    async def ask_again():
        during.append(await wl.client.get(WHITELIST))

    renders.hook = ask_again
    first = await wl.client.get(WHITELIST)
    assert first.status_code == 200
    [busy] = during
    assert busy.status_code == 503, busy.text
    assert busy.json()["error"]["code"] == "render_in_progress"
    assert 1 <= int(busy.headers["Retry-After"]) <= publications.RETRY_AFTER_MAX_SECONDS
    renders.hook = None
    assert (await wl.client.get(WHITELIST)).content == first.content
    assert renders.count == 1


async def test_a_new_layout_renders_the_same_publication_again(wl, renders, monkeypatch):
    await wl.approved()
    first = await wl.client.get(WHITELIST)
    monkeypatch.setattr(publications, "layout_version", lambda: "another-layout")
    again = await wl.client.get(WHITELIST)
    assert again.status_code == 200 and renders.count == 2
    assert _sha(again.content) == _sha(first.content)  # same publication: number, date, signed JSON
    assert (await wl.client.get(WHITELIST)).content == again.content and renders.count == 2


async def test_the_notice_board_is_rendered_once_per_content(wl, renders):
    vendor = await wl.vendor()
    county, city = await wl.reviewer("360104"), await wl.reviewer("360100")
    first = await wl.client.get("/api/v1/public/notices.pdf", params={"region": "360104"})
    assert first.status_code == 200 and "暂无公示中的申请" in text(first.content)
    app = await wl.to_public_notice(vendor, county, city)
    second = await wl.client.get("/api/v1/public/notices.pdf", params={"region": "360104"})
    third = await wl.client.get("/api/v1/public/notices.pdf", params={"region": "360104"})
    assert app["number"] in text(second.content) and third.content == second.content
    assert renders.count == 2
    [(scope, *_)] = await _stored(wl, "notices")
    assert scope == "region=360104"
