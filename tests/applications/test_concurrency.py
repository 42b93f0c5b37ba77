"""Two reviewers deciding at once: exactly one wins, every time.

Each round sends two conflicting decisions on the same version as two real concurrent
HTTP requests (separate connections and transactions), then counts: one 200, one 409
`version_conflict`, and exactly one new audit event and one new history row. The
application is put back into `submitted` between rounds; a fresh application every 25 rounds keeps its history (and
so each response) short."""

from __future__ import annotations

import asyncio

from sqlmodel import col, func, select

from service.applications.models import StageChange
from service.audit.models import AuditEvent

ROUNDS = 200
PER_APPLICATION = 25
DECISIONS = ("applications:application:accept", "applications:application:return")


async def _decision_events(db) -> int:
    async with db.transaction() as session:
        query = select(func.count()).select_from(AuditEvent).where(col(AuditEvent.action).in_(DECISIONS))
        return (await session.exec(query)).one()


async def test_two_concurrent_conflicting_decisions_exactly_one_wins(world, db):
    vendor = await world.vendor(items=1)
    first, second = await world.reviewer("360104"), await world.reviewer("360104")
    outcomes = []
    for round_number in range(ROUNDS):
        if round_number % PER_APPLICATION == 0:
            app = await world.step(await world.application(vendor), vendor.headers, "submit")
        events_before, history_before = await _decision_events(db), await world.count(StageChange)
        accept, send_back = await asyncio.gather(
            world.act(app, first, "accept"),
            world.act(app, second, "return", reason=f"第 {round_number} 轮：请补充材料"),
        )
        statuses = sorted([accept.status_code, send_back.status_code])
        assert statuses == [200, 409], (round_number, accept.text, send_back.text)
        loser = accept if accept.status_code == 409 else send_back
        winner = accept if accept.status_code == 200 else send_back
        assert loser.json()["error"]["code"] == "version_conflict"
        assert loser.json()["error"]["details"][0]["current_version"] == app["version"] + 1
        assert await _decision_events(db) == events_before + 1
        assert await world.count(StageChange) == history_before + 1
        outcomes.append(winner.json()["stage"])
        # Back to `submitted` for the next round.
        app = winner.json()
        if app["stage"] == "preliminary_review":
            app = await world.step(app, first, "return", "退回以进行下一轮")
        app = await world.step(app, vendor.headers, "resubmit")
    assert len(outcomes) == ROUNDS
    assert set(outcomes) <= {"preliminary_review", "returned"}
