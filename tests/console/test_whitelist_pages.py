"""Whitelist actions through the reviewer's pages: suspend at once; revoke by request,
confirmed by a second reviewer (four eyes), never by the requester."""

from __future__ import annotations

import re
from datetime import timedelta

from service.timeutil import today_in_china
from tests.whitelist.conftest import WhitelistWorld

BAN = (today_in_china() + timedelta(days=365)).isoformat()


async def test_suspend_then_revoke_with_four_eyes(client, accounts, db, signed_in):
    wl = WhitelistWorld(client, accounts, db)
    vendor, entries = await wl.approved()
    school = await wl.school("360104")
    first = await signed_in("reviewer", region_code="360104")
    page = await first.get("/reviewer/whitelist")
    assert page.status_code == 200 and "在白名单" in page.text and "暂无待确认的申请" in page.text
    # Each entry's form sits under its 办理 (a native disclosure), one per entry.
    assert page.text.count('<details class="op-form"><summary>办理</summary>') == len(entries)
    entry = entries[0]["id"]

    no_reason = await first.post("/reviewer/whitelist/act", {"entry_id": entry, "action": "suspend", "reason": ""})
    assert no_reason.status_code == 422
    done = await first.post(
        "/reviewer/whitelist/act", {"entry_id": entry, "action": "suspend", "reason": "家长反映收费问题，暂停待查"}
    )
    assert done.status_code == 303
    assert "暂停" in (await first.get("/reviewer/whitelist")).text

    asked = await first.post(
        "/reviewer/whitelist/act", {"entry_id": entry, "action": "revoke", "reason": "查实超标准收费", "ban_until": BAN}
    )
    # Post/Redirect/Get: the request is confirmed on the page it redirects to (a refresh asks nothing again).
    assert asked.status_code == 303 and asked.headers["location"] == "/reviewer/whitelist?requested=revoke"
    asked = await first.get(asked.headers["location"])
    assert asked.status_code == 200 and "已提交撤销申请，须由另一名审核员确认" in asked.text, re.findall(
        r"alert error[^<]*<", asked.text
    )
    request_id = re.search(r'name="request_id" value="([^"]+)"', asked.text).group(1)
    own = await first.post("/reviewer/whitelist/requests/decide", {"request_id": request_id, "decision": "confirm"})
    assert own.status_code == 403  # four eyes: not the requester
    second = await signed_in("reviewer", region_code="360104")
    confirmed = await second.post(
        "/reviewer/whitelist/requests/decide", {"request_id": request_id, "decision": "confirm", "reason": "同意"}
    )
    assert confirmed.status_code == 303
    assert "已撤销" in (await second.get("/reviewer/whitelist")).text
    usable = (await wl.lookup(school, vendor.credit_code)).json()["services"]
    assert entries[0]["service_item_id"] not in [s["item_id"] for s in usable]  # the lookup agrees
