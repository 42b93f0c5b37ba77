"""Webhook pages over HTTP: a school registers an address (the secret shown once, on a
no-store page reached by Post/Redirect/Get), refusals in Chinese beside the field with
nothing stored, stopping one, the delivery log in words; another school's is 404."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings
from tests.orders.conftest import OrdersWorld
from tests.webhooks.conftest import LOCAL, Dispatcher
from tests.webhooks.test_webhooks import accepted_order, suspend


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=None, data_dir=tmp_path / "data", log_format="json", sign_in_delay_seconds=0.01, **LOCAL
    )


async def _hooks(client, school) -> list[dict]:
    listed = await client.get(f"/api/v1/schools/{school.code}/webhooks", headers=school.headers)
    assert listed.status_code == 200, listed.text
    return listed.json()["items"]


async def test_a_school_registers_a_webhook_and_sees_the_secret_once(client, accounts, db, signed_in):
    ow = OrdersWorld(client, accounts, db)
    school = await ow.new_school()
    page = await signed_in("school", region_code="360104", school_code=school.code)

    empty = await page.get("/school/webhooks")
    assert empty.status_code == 200 and "本校尚未登记推送地址" in empty.text and "推送通知" in empty.text

    # Refusals: in Chinese, next to the field, the typed address kept, nothing stored.
    for url, words in (
        ("https://hooks.elsewhere.cn/in", "该网址的主机不在管理员允许的推送地址名单中"),
        ("ftp://127.0.0.1/in", "网址须以 https:// 开头并包含主机名"),
        ("", "请填写有效的网址"),
    ):
        refused = await page.post("/school/webhooks", {"url": url})
        assert refused.status_code == 422, (url, refused.text)
        error = refused.text.split('class="field-error" id="err-url">')[1].split("</div>")[0]
        assert words in error
        assert f'value="{url}"' in refused.text
    assert await _hooks(client, school) == []

    # Without the CSRF token: refused, nothing stored.
    forged = await page.http.post("/school/webhooks", data={"url": "http://127.0.0.1:9/in"})
    assert forged.status_code == 403 and await _hooks(client, school) == []

    created = await page.post("/school/webhooks", {"url": "http://127.0.0.1:9/in"})
    assert created.status_code == 303, created.text
    (hook,) = await _hooks(client, school)
    assert created.headers["location"] == f"/school/webhooks/{hook['id']}/created"
    shown = await page.get(created.headers["location"])
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    secret = shown.text.split('data-testid="secret"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert secret.startswith("whsec_") and "只显示这一次" in shown.text and "HMAC-SHA256" in shown.text
    assert secret not in (await page.get("/school/webhooks")).text
    # A refresh shows that it was shown, never the secret again, and creates nothing.
    again = await page.get(created.headers["location"])
    assert again.status_code == 200 and again.headers["cache-control"] == "no-store"
    assert secret not in again.text and 'data-testid="secret-gone"' in again.text
    assert len(await _hooks(client, school)) == 1

    # Another school: the page and the steps on this webhook are not found.
    other = await signed_in("school", region_code="360104", school_code=(await ow.new_school()).code)
    for path in (created.headers["location"], f"/school/webhooks/{hook['id']}/deliveries"):
        assert (await other.get(path)).status_code == 404
    assert (await other.post(f"/school/webhooks/{hook['id']}/disable")).status_code == 404
    assert (await _hooks(client, school))[0]["active"] is True
    # A reviewer has no such page.
    reviewer = await signed_in("reviewer", region_code="360104")
    assert (await reviewer.get("/school/webhooks")).status_code == 404

    stopped = await page.post(f"/school/webhooks/{hook['id']}/disable")
    assert stopped.status_code == 303 and stopped.headers["location"] == "/school/webhooks?done=disabled"
    listed = await page.get(stopped.headers["location"])
    assert "已停用该推送地址" in listed.text and "已停用" in listed.text.split('data-testid="webhooks"')[1]
    assert (await _hooks(client, school))[0]["active"] is False


async def test_the_delivery_log_shows_each_delivery_in_words(app, settings, client, accounts, db, signed_in):
    ow = OrdersWorld(client, accounts, db)
    vendor, entries = await ow.approved()
    person = await ow.cleared_person(vendor)
    term, school = await ow.term(), await ow.new_school()
    await accepted_order(ow, vendor, school, term, entries[0], [person])
    dispatcher = Dispatcher(app, settings)
    await dispatcher.fan_out()  # the setup's own changes go before the school subscribes
    page = await signed_in("school", region_code="360104", school_code=school.code)
    assert (await page.post("/school/webhooks", {"url": "http://127.0.0.1:9/in"})).status_code == 303
    (hook,) = await _hooks(client, school)
    log = await page.get(f"/school/webhooks/{hook['id']}/deliveries")
    assert log.status_code == 200 and "暂无推送记录" in log.text

    await suspend(ow, entries[0])
    await dispatcher.fan_out()
    pending = await page.get(f"/school/webhooks/{hook['id']}/deliveries")
    rows = pending.text.split('data-testid="deliveries"')[1].split("</table>")[0]
    assert "白名单暂停" in rows and "待发送" in rows and "受阻" in rows and "尚未发送" in rows
    assert "该服务项目在本地区白名单中已被暂停" in rows

    await dispatcher.run()  # nothing listens on port 9: the attempt fails and is retried
    failed = await page.get(f"/school/webhooks/{hook['id']}/deliveries")
    rows = failed.text.split('data-testid="deliveries"')[1].split("</table>")[0]
    assert "待发送" in rows and "无法连接接收方" in rows and "下次发送" in rows
