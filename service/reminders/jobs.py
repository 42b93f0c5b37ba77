"""Reminders on the one periodic runner: scan once per China day (the first worker to
claim the day in the database scans; `scanned` only spares the others the claim's
round trip until tomorrow) and send what is unsent."""

from __future__ import annotations

from datetime import date

from service.db import Database
from service.periodic import run_periodic
from service.reminders.senders import Sender
from service.reminders.services import scan_once_today, send_due
from service.timeutil import today_in_china


class ReminderStep:
    def __init__(self, db: Database, sender: Sender) -> None:
        self.db, self.sender = db, sender
        self.scanned: date | None = None

    async def __call__(self) -> int:
        today = today_in_china()
        if self.scanned != today:
            await scan_once_today(self.db)
            self.scanned = today
        sent = 0
        while batch := await send_due(self.db, self.sender):
            sent += batch
        return sent


async def run_periodic_with(db: Database, sender: Sender, interval: float) -> None:
    await run_periodic("reminders", ReminderStep(db, sender), interval)
