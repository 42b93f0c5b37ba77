"""Shared world for whitelist and lookup tests: vendors driven to approval over HTTP,
reviewers, schools, and shortcuts for actions and lookups."""

from __future__ import annotations

import pytest

from tests.applications.conftest import VendorHandle, World


class WhitelistWorld(World):
    async def approved(
        self,
        vendor: VendorHandle | None = None,
        region_code: str = "360104",
        county: dict | None = None,
        city: dict | None = None,
    ) -> tuple[VendorHandle, list[dict]]:
        """A vendor whose items are on the whitelist of `region_code` (a county by default)."""
        vendor = vendor or await self.vendor()
        level_code = region_code
        county = county or await self.reviewer(level_code)
        city = city or await self.reviewer(region_code[:4] + "00")
        if region_code.endswith("00"):  # a city application: the city approves, the province decides
            city = await self.reviewer("360000")
        app = await self.to_public_notice(vendor, county, city, region_code=region_code)
        await self.end_notice_now(app["id"])
        detail = await self.get(app["id"], county)
        assert detail["stage"] == "approved", detail["stage"]
        return vendor, detail["whitelist_entries"]

    async def school(self, region_code: str = "360104", code: str | None = None) -> dict[str, str]:
        code = code or f"{region_code}{next(_schools):04d}"
        return await self.accounts.headers("school", region_code=region_code, school_code=code)

    async def adjust(self, headers: dict[str, str], **body):
        return await self.client.post("/api/v1/whitelist/actions", json=body, headers=headers)

    async def confirm(self, headers: dict[str, str], request_id: str, **body):
        return await self.client.post(f"/api/v1/whitelist/requests/{request_id}/confirm", json=body, headers=headers)

    async def lookup(self, headers: dict[str, str], credit_code: str, **params):
        return await self.client.get(f"/api/v1/lookup/vendors/{credit_code}", params=params, headers=headers)

    async def status(self, headers: dict[str, str], credit_code: str, **params) -> str:
        response = await self.lookup(headers, credit_code, **params)
        assert response.status_code == 200, response.text
        return response.json()["status"]


_schools = iter(range(1, 10_000))


@pytest.fixture
def wl(client, accounts, db) -> WhitelistWorld:
    return WhitelistWorld(client, accounts, db)
