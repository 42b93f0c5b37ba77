"""Ratings reuse the orders world: an accepted order in a term that ends in five days."""

from __future__ import annotations

import pytest

from tests.orders.conftest import OrdersWorld, ow  # noqa: F401  (fixtures)


class RatingsWorld(OrdersWorld):
    async def codes(self, school, order: dict, count: int):
        return await self.client.post(
            f"/api/v1/orders/{order['id']}/rating-codes", json={"count": count}, headers=school.headers
        )

    async def rate_code(self, code: str, satisfied: bool):
        return await self.client.post("/api/v1/public/ratings", json={"code": code, "satisfied": satisfied})

    async def rate_school(self, school, order: dict, satisfied: bool):
        return await self.client.post(
            f"/api/v1/orders/{order['id']}/rating", json={"satisfied": satisfied}, headers=school.headers
        )


@pytest.fixture
def rw(client, accounts, db) -> RatingsWorld:
    return RatingsWorld(client, accounts, db)


@pytest.fixture
async def term_end(rw):
    """An accepted order whose term ends in five days (the rating window is open)."""
    vendor, entries = await rw.approved()
    person = await rw.cleared_person(vendor)
    term, school = await rw.term(starts_in=-100, days=105), await rw.new_school()
    order = (await rw.place(school, rw.order_payload(term, entries[0], [person], class_size=10))).json()
    accepted = await rw.order_act(order, vendor.headers, "accept")
    assert accepted.status_code == 200, accepted.text
    return vendor, entries, person, term, school, accepted.json()
