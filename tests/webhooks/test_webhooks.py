"""Webhooks: the outbox written with the change, one delivery per subscribed school,
signed, retried in order to a real local receiver, and only to allowed addresses."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from datetime import time as clock

import httpx
from sqlalchemy import text

from service.app import create_app
from service.config import Settings
from service.orders import order_standings
from service.timeutil import CHINA_TZ, today_in_china
from service.webhooks import signing
from service.webhooks.addresses import AddressPolicy
from service.webhooks.fanout import scan_round


async def subscribe(ow, school, url: str) -> dict:
    response = await ow.client.post(
        f"/api/v1/schools/{school.code}/webhooks", json={"url": url}, headers=school.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def log(ow, school, webhook: dict, headers: dict | None = None) -> list[dict]:
    response = await ow.client.get(
        f"/api/v1/schools/{school.code}/webhooks/{webhook['id']}/deliveries", headers=headers or school.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def accepted_order(ow, vendor, school, term, entry, people) -> dict:
    placed = await ow.place(school, ow.order_payload(term, entry, people))
    assert placed.status_code == 201, placed.text
    accepted = await ow.order_act(placed.json(), vendor.headers, "accept")
    assert accepted.status_code == 200, accepted.text
    return accepted.json()


async def revoke(ow, entry: dict) -> None:
    first, second = await ow.reviewer("360104"), await ow.reviewer("360104")
    ban = (today_in_china() + timedelta(days=365)).isoformat()
    requested = await ow.adjust(
        first, action="revoke", reason="多次投诉查实，撤销", entry_ids=[entry["id"]], ban_until=ban
    )
    assert requested.status_code in (200, 202), requested.text
    confirmed = await ow.confirm(second, requested.json()["request"]["id"], reason="复核属实")
    assert confirmed.status_code == 200, confirmed.text


async def suspend(ow, entry: dict) -> None:
    response = await ow.adjust(
        await ow.reviewer("360104"), action="suspend", reason="接到投诉，暂停待查", entry_ids=[entry["id"]]
    )
    assert response.status_code == 200, response.text


async def outbox(db) -> list[tuple]:
    async with db.transaction() as session:
        return [
            tuple(r)
            for r in (
                await session.exec(
                    text(
                        "SELECT cause, cardinality(item_ids), cardinality(person_ids) FROM standing_changes ORDER BY id"
                    )
                )
            ).all()
        ]


async def test_a_revocation_blocks_the_orders_and_queues_exactly_one_webhook_per_subscribed_school(
    ow, ready, receiver, dispatcher
):
    vendor, entries, person, term, first = ready
    second, unsubscribed = await ow.new_school(), await ow.new_school()
    revoked = {
        s.code: await accepted_order(ow, vendor, s, term, entries[0], [person]) for s in (first, second, unsubscribed)
    }
    untouched = await accepted_order(ow, vendor, first, term, entries[1], [person])
    await dispatcher.fan_out()  # the setup's own changes (check results) go before anyone subscribes
    hooks = {s.code: await subscribe(ow, s, receiver.url) for s in (first, second)}

    await revoke(ow, entries[0])

    assert await outbox(ow.db) == [("whitelist:entry:revoke", 1, 0)]  # written with the change
    for school in (first, second, unsubscribed):
        standing = {o["id"]: o["standing"] for o in await ow.orders(school)}
        assert standing[revoked[school.code]["id"]] == "blocked"
    fanned = await dispatcher.fan_out()
    assert (fanned.changes, fanned.deliveries) == (1, 2)
    for school in (first, second):
        [queued] = await log(ow, school, hooks[school.code])
        assert queued["status"] == "pending" and queued["cause"] == "whitelist:entry:revoke"
        [order] = queued["payload"]["orders"]
        assert order["id"] == revoked[school.code]["id"] and order["standing"] == "blocked"
        assert [r["code"] for r in order["standing_reasons"]] == ["item_revoked"]
        assert queued["payload"]["id"] == queued["id"] and queued["payload"]["school_code"] == school.code
    assert untouched["id"] not in json.dumps([await log(ow, first, hooks[first.code])])
    assert await outbox(ow.db) == []
    assert (await dispatcher.fan_out()).deliveries == 0  # nothing is queued twice

    assert await dispatcher.run() == 2
    queued_ids = [(await log(ow, s, hooks[s.code]))[0]["id"] for s in (first, second)]
    assert sorted(r.headers["SchoolGate-Delivery"] for r in receiver.requests) == sorted(queued_ids)


async def test_the_signature_verifies_a_replay_is_detectable_and_failed_first_attempts_are_retried(
    ow, ready, receiver, dispatcher
):
    vendor, entries, person, term, school = ready
    receiver.fail_first = lambda delivery_id: True  # every delivery's first attempt answers 500
    order = await accepted_order(ow, vendor, school, term, entries[0], [person])
    hook = await subscribe(ow, school, receiver.url)
    secret = hook["secret"]
    assert (
        secret.startswith("whsec_")
        and "secret"
        not in (await ow.client.get(f"/api/v1/schools/{school.code}/webhooks", headers=school.headers)).json()["items"][
            0
        ]
    )

    await suspend(ow, entries[0])
    assert await dispatcher.run() == 1

    failed, retried = receiver.requests
    assert (failed.answered, retried.answered) == (500, 204)
    delivery_id = failed.headers["SchoolGate-Delivery"]
    assert retried.headers["SchoolGate-Delivery"] == delivery_id and failed.body == retried.body
    assert retried.headers["Host"] == receiver.url.split("/")[2] and retried.path == "/hook"
    now = time.time()
    assert signing.verify(secret, retried.headers, retried.body, now=now) == "ok"
    assert signing.verify(secret, retried.headers, retried.body, now=now, seen={delivery_id}) == "replay"
    assert signing.verify(secret, retried.headers, retried.body + b" ", now=now) == "bad_signature"
    assert signing.verify("whsec_other", retried.headers, retried.body, now=now) == "bad_signature"
    assert signing.verify(secret, retried.headers, retried.body, now=now + 3600) == "stale"
    payload = json.loads(retried.body)
    assert payload["type"] == "order.standing_changed" and payload["orders"][0]["id"] == order["id"]

    [entry] = await log(ow, school, hook)
    assert (entry["id"], entry["status"], entry["attempts"], entry["last_status_code"]) == (
        delivery_id,
        "delivered",
        2,
        204,
    )
    async with ow.db.transaction() as session:
        stored = (await session.exec(text("SELECT secret_ciphertext FROM webhooks"))).scalar_one()
    assert secret.encode() not in bytes(stored)  # encrypted under the service keyring


async def test_deliveries_to_one_school_keep_their_order_when_the_first_fails(ow, ready, receiver, dispatcher):
    vendor, entries, person, term, school = ready
    order_a = await accepted_order(ow, vendor, school, term, entries[0], [person])
    order_b = await accepted_order(ow, vendor, school, term, entries[1], [person])
    await dispatcher.fan_out()
    hook = await subscribe(ow, school, receiver.url)
    await suspend(ow, entries[0])
    await dispatcher.fan_out()
    await suspend(ow, entries[1])
    await dispatcher.fan_out()
    older, newer = reversed(await log(ow, school, hook))
    receiver.fail_first = lambda delivery_id: delivery_id == older["id"]

    assert await dispatcher.run() == 2
    sequence = [(r.headers["SchoolGate-Delivery"], r.answered) for r in receiver.requests]
    assert sequence == [(older["id"], 500), (older["id"], 204), (newer["id"], 204)]
    assert [o["id"] for o in older["payload"]["orders"]] == [order_a["id"]]
    assert [o["id"] for o in newer["payload"]["orders"]] == [order_b["id"]]


async def test_a_departure_tells_the_schools_whose_orders_name_the_person(ow, ready, receiver, dispatcher):
    vendor, entries, person, term, school = ready
    order = await accepted_order(ow, vendor, school, term, entries[0], [person])
    await dispatcher.fan_out()
    hook = await subscribe(ow, school, receiver.url)
    left = await ow.client.post(
        f"/api/v1/vendors/{vendor.id}/people/{person['person_id']}/departure",
        json={"reason": "合同到期离职"},
        headers=vendor.headers,
    )
    assert left.status_code == 200, left.text
    assert await dispatcher.run() == 1
    [delivery] = await log(ow, school, hook)
    [told] = delivery["payload"]["orders"]
    assert delivery["cause"] == "personnel:engagement:end" and told["id"] == order["id"]
    assert [r["code"] for r in told["standing_reasons"]] == ["person_not_cleared"]
    assert "离职" not in json.dumps(delivery["payload"], ensure_ascii=False)


async def test_the_scan_tells_a_school_when_a_clearance_ends_with_no_action_by_anyone(ow, ready, receiver, dispatcher):
    vendor, entries, _, term, school = ready
    soon = await ow.cleared_person(vendor, checked_days_ago=350, name="李四")  # last valid day: today + 15
    await accepted_order(ow, vendor, school, term, entries[0], [soon])
    hook = await subscribe(ow, school, receiver.url)
    assert (await scan_round(ow.db, order_standings)).deliveries == 0  # first sight: remembered only
    ends = datetime.combine(today_in_china() + timedelta(days=16), clock(0), tzinfo=CHINA_TZ)
    assert (await scan_round(ow.db, order_standings, now=ends - timedelta(seconds=1))).deliveries == 0
    assert (await scan_round(ow.db, order_standings, now=ends)).deliveries == 1
    assert (await scan_round(ow.db, order_standings, now=ends)).deliveries == 0
    [delivery] = await log(ow, school, hook)
    assert delivery["cause"] == "time:standing_scan"
    assert delivery["payload"]["orders"][0]["standing"] == "blocked"


async def test_the_delivery_log_is_the_schools_own(ow, ready, receiver):
    _, _, _, _, school = ready
    hook = await subscribe(ow, school, receiver.url)
    other = await ow.new_school()
    url = f"/api/v1/schools/{school.code}/webhooks/{hook['id']}/deliveries"
    assert (await ow.client.get(url, headers=other.headers)).status_code == 404
    assert (await ow.client.get(url, headers=await ow.reviewer("360104"))).status_code == 200
    assert (
        await ow.client.post(
            f"/api/v1/schools/{school.code}/webhooks", json={"url": receiver.url}, headers=other.headers
        )
    ).status_code == 404


async def test_only_allowed_addresses_are_accepted_never_loopback_or_private_by_default(ow, db, tmp_path):
    strict = Settings(
        database_url=None,
        data_dir=tmp_path / "strict",
        log_format="json",
        webhook_allowed_hosts=("127.0.0.1", "10.1.2.3", "localhost"),
    )
    school = await ow.new_school()
    app = create_app(strict, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:

        async def register(url: str) -> tuple[int, str]:
            response = await client.post(
                f"/api/v1/schools/{school.code}/webhooks", json={"url": url}, headers=school.headers
            )
            body = response.json()
            return response.status_code, body["error"]["code"] if response.status_code != 201 else ""

        assert await register("https://127.0.0.1:8443/hook") == (422, "webhook_address_not_allowed")
        assert await register("https://10.1.2.3/hook") == (422, "webhook_address_not_allowed")
        assert await register("https://localhost/hook") == (422, "webhook_address_not_allowed")
        assert await register("https://hooks.elsewhere.cn/hook") == (422, "webhook_host_not_allowed")
        assert await register("ftp://10.1.2.3/hook") == (422, "invalid_webhook_url")
        listed = await client.get(f"/api/v1/schools/{school.code}/webhooks", headers=school.headers)
        assert listed.json()["items"] == []  # nothing stored


async def test_every_resolved_address_is_checked_and_the_checked_one_is_connected_to():
    from service.webhooks.addresses import AddressRefused, check

    policy = AddressPolicy.from_settings(["hooks.example.cn", "*.edu.cn"], [])

    def resolving(*answers):
        async def resolve(host, port):
            return list(answers)

        return resolve

    target = await check("https://hooks.example.cn/in?x=1", policy, resolving("93.184.216.34"))
    assert (target.address, target.path, target.host) == ("93.184.216.34", "/in?x=1", "hooks.example.cn")
    for answers in (
        ["203.0.113.9"],
        ["93.184.216.34", "10.0.0.8"],
        ["127.0.0.1"],
        ["::1"],
        ["169.254.169.254"],
        ["::ffff:10.0.0.1"],
        ["0.0.0.0"],
    ):
        try:
            await check("https://a.edu.cn/", policy, resolving(*answers))
        except AddressRefused as refused:
            assert refused.code == "webhook_address_not_allowed", answers
        else:
            raise AssertionError(f"{answers} should be refused")
    pinned = await check("https://a.edu.cn:8443/in", policy, resolving("93.184.216.34"))
    assert (pinned.pinned_url, pinned.host_header) == ("https://93.184.216.34:8443/in", "a.edu.cn:8443")
    try:
        await check("http://a.edu.cn/", policy, resolving("93.184.216.34"))
    except AddressRefused as refused:
        assert refused.code == "webhook_https_required"
    local = AddressPolicy.from_settings(["a.edu.cn"], ["10.0.0.0/8"])
    assert (await check("http://a.edu.cn/", local, resolving("10.0.0.8"))).address == "10.0.0.8"


async def test_an_address_that_stopped_being_allowed_is_not_delivered_to(ow, ready, receiver, dispatcher):
    vendor, entries, person, term, school = ready
    await accepted_order(ow, vendor, school, term, entries[0], [person])
    hook = await subscribe(ow, school, receiver.url)
    await suspend(ow, entries[0])
    dispatcher.with_policy(addresses=AddressPolicy.from_settings(["127.0.0.1"], []))  # the admin narrowed it
    assert await dispatcher.run() == 0
    assert receiver.requests == []
    [delivery] = await log(ow, school, hook)
    assert (delivery["status"], delivery["last_error"]) == ("pending", "webhook_address_not_allowed")
    assert delivery["attempts"] >= 1 and date.fromisoformat(delivery["next_attempt_at"][:10])


async def test_a_disabled_webhook_gets_nothing_more_and_its_pending_deliveries_end_in_the_log(
    ow, ready, receiver, dispatcher
):
    vendor, entries, person, term, school = ready
    await accepted_order(ow, vendor, school, term, entries[0], [person])
    await accepted_order(ow, vendor, school, term, entries[1], [person])
    await dispatcher.fan_out()
    hook = await subscribe(ow, school, receiver.url)
    await suspend(ow, entries[0])
    await dispatcher.fan_out()
    url = f"/api/v1/schools/{school.code}/webhooks/{hook['id']}"
    other = await ow.new_school()
    assert (await ow.client.delete(url, headers=other.headers)).status_code == 404
    disabled = await ow.client.delete(url, headers=school.headers)
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    await suspend(ow, entries[1])
    assert await dispatcher.run() == 0 and receiver.requests == []
    [ended] = await log(ow, school, hook)
    assert (ended["status"], ended["last_error"]) == ("failed", "webhook_disabled")
