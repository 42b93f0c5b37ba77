"""Reminders at 30, 7 and 1 days before a document, an entry or a clearance ends: to the
vendor and the reviewers in scope, once, whoever scans; the log sender logs nothing personal."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, time, timedelta

import pytest

from service.logging import configure_logging
from service.reminders import services
from service.reminders.jobs import ReminderStep
from service.reminders.senders import LogSender, Message, sender_from
from service.timeutil import CHINA_TZ, today_in_china
from tests.orders.conftest import OrdersWorld


class Recording:
    name = "recording"

    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        await asyncio.sleep(0)  # let a concurrent round interleave
        self.sent.append(message)


@pytest.fixture
def ow(client, accounts, db) -> OrdersWorld:
    return OrdersWorld(client, accounts, db)


async def ending_world(ow: OrdersWorld):
    """A vendor whose 'other' document ends in 7 days, whose entry ends tomorrow, and whose
    teacher's clearance ends in 30 days."""
    vendor, entries = await ow.approved()
    today = today_in_china()
    await ow.document(vendor, doc_type="other", valid_until=(today + timedelta(days=7)).isoformat())
    await ow.cleared_person(vendor, checked_days_ago=335, name="王小明")  # 365-day checks: today + 30
    county = await ow.reviewer("360104")
    ends = datetime.combine(today + timedelta(days=2), time(0), tzinfo=CHINA_TZ)  # last day: tomorrow
    renewed = await ow.adjust(
        county, action="renew", reason="续期至学期末", entry_ids=[entries[0]["id"]], valid_until=ends.isoformat()
    )
    assert renewed.status_code == 200, renewed.text
    return vendor, county


async def mine(ow, headers) -> list[dict]:
    response = await ow.client.get("/api/v1/reminders", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_what_ends_in_30_7_and_1_days_is_reminded_to_the_vendor_and_reviewers_in_scope(ow):
    vendor, county = await ending_world(ow)
    city, elsewhere = await ow.reviewer("360100"), await ow.reviewer("360102")

    assert await services.scan(ow.db) > 0

    items = await mine(ow, vendor.headers)
    assert [(r["subject_type"], r["days_before"]) for r in items] == [("entry", 1), ("document", 7), ("clearance", 30)]
    today = today_in_china()
    assert [r["ends_on"] for r in items] == [(today + timedelta(days=n)).isoformat() for n in (1, 7, 30)]
    clearance = items[2]["message"]
    assert "王**" in clearance and "王小明" not in clearance and "还有 30 天" in clearance
    assert "其他资质材料" in items[1]["message"]
    for reviewer in (county, city):
        assert [r["subject_type"] for r in await mine(ow, reviewer)] == ["entry", "document", "clearance"]
    assert await mine(ow, elsewhere) == []
    assert await services.scan(ow.db) == 0  # once: a second scan adds nothing


async def test_each_reminder_is_written_and_sent_once_with_several_workers(ow):
    await ending_world(ow)
    added = await asyncio.gather(services.scan(ow.db), services.scan(ow.db))
    sender = Recording()
    sent = await asyncio.gather(services.send_due(ow.db, sender), services.send_due(ow.db, sender))
    assert sum(sent) == sum(added) == len(sender.sent) == len({m.reminder_id for m in sender.sent})
    assert await services.send_due(ow.db, sender) == 0


async def test_the_background_scan_runs_once_a_day_across_workers_and_restarts(ow):
    await ending_world(ow)
    workers = await asyncio.gather(services.scan_once_today(ow.db), services.scan_once_today(ow.db))
    assert sorted(workers, key=lambda n: n is None)[0] > 0 and workers.count(None) == 1
    restarted = ReminderStep(ow.db, Recording())  # a worker started later the same day
    assert await restarted() > 0  # it sends what is unsent ...
    assert await services.scan_once_today(ow.db) is None  # ... but the day is scanned
    tomorrow = datetime.now(CHINA_TZ) + timedelta(days=1)
    assert await services.scan_once_today(ow.db, tomorrow) is not None


async def test_a_failing_sender_leaves_the_reminder_unsent_for_the_next_round(ow):
    await ending_world(ow)
    await services.scan(ow.db)

    class Down:
        name = "down"

        async def send(self, message: Message) -> None:
            raise ConnectionError("gateway away")

    with pytest.raises(ConnectionError):
        await services.send_due(ow.db, Down())
    assert await services.send_due(ow.db, Recording()) > 0


async def test_the_default_sender_logs_no_personal_data(ow, capsys):
    vendor, _ = await ending_world(ow)
    await services.scan(ow.db)
    configure_logging("json")
    capsys.readouterr()
    sender = sender_from("log")
    assert isinstance(sender, LogSender)
    assert await services.send_due(ow.db, sender) > 0
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if "reminder_sent" in line]
    assert lines and all(set(line) >= {"reminder_id", "subject_type", "days_before", "ends_on"} for line in lines)
    text = json.dumps(lines, ensure_ascii=False)
    assert "王" not in text and vendor.name not in text and "message" not in text


def test_an_unknown_sender_is_refused_by_name():
    with pytest.raises(ValueError, match="nosuch"):
        sender_from("nosuch")
