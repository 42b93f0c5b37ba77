"""A world for orders: a whitelisted vendor with cleared staff, a term, a school."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest

from service.timeutil import today_in_china
from tests.personnel.conftest import add_person, authorisation, record_all_clear
from tests.whitelist.conftest import WhitelistWorld

_codes = itertools.count(1)


@dataclass
class School:
    code: str
    headers: dict


class OrdersWorld(WhitelistWorld):
    async def new_school(self, region_code: str = "360104") -> School:
        code = f"{region_code}{next(_codes) + 5000:04d}"
        return School(code, await self.school(region_code, code=code))

    async def term(self, region_code: str = "360104", *, starts_in: int = -10, days: int = 120, **body) -> dict:
        today = today_in_china()
        payload = {
            "region_code": region_code,
            "name": "2026-2027 学年第一学期",
            "starts_on": (today + timedelta(days=starts_in)).isoformat(),
            "ends_on": (today + timedelta(days=starts_in + days)).isoformat(),
        } | body
        response = await self.client.post("/api/v1/terms", json=payload, headers=await self.reviewer(region_code))
        assert response.status_code == 201, response.text
        return response.json()

    async def cleared_person(self, vendor, *, checked_days_ago: int = 30, **overrides) -> dict:
        """A person engaged by the vendor, every check clear (valid 365 days from the query)."""
        person = await add_person(self.client, vendor, **overrides)
        reviewer = await self.reviewer("360104")
        consent = await authorisation(self.client, reviewer)
        query_date = (today_in_china() - timedelta(days=checked_days_ago)).isoformat()
        await record_all_clear(self.client, person["person_id"], reviewer, consent, query_date=query_date)
        return person

    def order_payload(self, term: dict, entry: dict, people: list[dict], **overrides) -> dict:
        return {
            "term_id": term["id"],
            "service_item_id": entry["service_item_id"],
            "weekdays": [2, 4],
            "start_time": "15:40",
            "end_time": "17:10",
            "venue": "科学教室",
            "class_size": 25,
            "grade_bands": ["upper_primary"],
            "people": [p["person_id"] for p in people],
        } | overrides

    async def place(self, school: School, payload: dict, **headers):
        return await self.client.post(
            f"/api/v1/schools/{school.code}/orders", json=payload, headers=school.headers | headers
        )

    async def order_act(self, order: dict, headers: dict, action: str, *, version: int | None = None, reason=None):
        body = {"action": action, "version": order["version"] if version is None else version}
        if reason is not None:
            body["reason"] = reason
        return await self.client.post(f"/api/v1/orders/{order['id']}/transitions", json=body, headers=headers)

    async def orders(self, school: School, headers: dict | None = None) -> list[dict]:
        response = await self.client.get(f"/api/v1/schools/{school.code}/orders", headers=headers or school.headers)
        assert response.status_code == 200, response.text
        return response.json()["items"]


@pytest.fixture
def ow(client, accounts, db) -> OrdersWorld:
    return OrdersWorld(client, accounts, db)


@pytest.fixture
async def ready(ow):
    """A whitelisted vendor (two items in 360104), one cleared person, a current term, a school."""
    vendor, entries = await ow.approved()
    person = await ow.cleared_person(vendor)
    return vendor, entries, person, await ow.term(), await ow.new_school()
