"""A world for complaints: the orders world (a whitelisted vendor, a cleared person, a
term, a school) plus an accepted order to complain about."""

from __future__ import annotations

import pytest

from service.complaints import ratelimit
from tests.orders.conftest import OrdersWorld, ow, ready  # noqa: F401  (fixtures)


class ComplaintsWorld(OrdersWorld):
    async def public_complaint(self, school_code: str, **body):
        payload = {"category": "fee_overcharge", "description": "每次课额外收取材料费 50 元，未公示"} | body
        return await self.client.post(f"/api/v1/public/schools/{school_code}/complaints", json=payload)

    async def complain(self, headers: dict, school_code: str, **body):
        payload = {"school_code": school_code, "category": "conduct", "description": "授课人员言语粗暴"} | body
        return await self.client.post("/api/v1/complaints", json=payload, headers=headers)

    async def handle(self, complaint: dict, headers: dict, action: str, **body):
        return await self.client.post(
            f"/api/v1/complaints/{complaint['id']}/transitions",
            headers=headers,
            json={"action": action, "version": complaint["version"]} | body,
        )


@pytest.fixture
def cw(client, accounts, db) -> ComplaintsWorld:
    return ComplaintsWorld(client, accounts, db)


@pytest.fixture
async def ordered(cw):
    """An accepted order of a whitelisted item, taught by one cleared person."""
    vendor, entries = await cw.approved()
    person = await cw.cleared_person(vendor)
    term, school = await cw.term(), await cw.new_school()
    order = (await cw.place(school, cw.order_payload(term, entries[0], [person]))).json()
    accepted = await cw.order_act(order, vendor.headers, "accept")
    assert accepted.status_code == 200, accepted.text
    return vendor, entries, person, term, school, accepted.json()


@pytest.fixture
def limits():
    """Restore the public form's limits after a test changes them."""
    previous = ratelimit.limits()
    yield ratelimit
    ratelimit.configure(**previous)
