"""Shared set-up for personnel tests: vendors, accounts, consents, people."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from tests.factories import PDF, vendor_payload
from tests.identifiers.make import make_id_number

_serial = itertools.count(1)


def new_id_number(born: str = "19900101") -> str:
    """A valid number no other test in this run uses (sequence from a counter)."""
    n = next(_serial)
    return make_id_number(address=f"36{(n // 1000) % 100:02d}02", born=born, sequence=f"{n % 1000:03d}")


@dataclass
class VendorCtx:
    id: str
    region_code: str
    headers: dict


async def make_vendor(client, accounts, region_code: str = "360104", **overrides) -> VendorCtx:
    payload = vendor_payload(region_code=region_code, **overrides)
    headers = await accounts.headers("vendor", vendor_credit_code=payload["credit_code"])
    response = await client.post("/api/v1/vendors", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return VendorCtx(id=response.json()["id"], region_code=region_code, headers=headers)


def person_payload(**overrides) -> dict:
    payload = {
        "id_number": new_id_number(),
        "name": "王小明",
        "role": "lead_instructor",
        "start_date": "2025-09-01",
        "phone": "13907971234",
    }
    payload.update(overrides)
    return payload


async def add_person(client, vendor: VendorCtx, headers=None, **overrides) -> dict:
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/people", json=person_payload(**overrides), headers=headers or vendor.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def authorisation(client, headers, region_code: str | None = None) -> str:
    form = {"title": "公安机关批量查询授权函"}
    if region_code:
        form["region_code"] = region_code
    response = await client.post(
        "/api/v1/consents", data=form, headers=headers, files={"file": ("授权函.pdf", PDF, "application/pdf")}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def check_payload(consent_id: str, **overrides) -> dict:
    payload = {
        "check_type": "criminal_record",
        "result": "clear",
        "query_date": "2025-09-01",
        "reference": f"JX-{next(_serial):08d}",
        "issuing_authority": "南昌市公安局青云谱分局",
        "consent_document_id": consent_id,
    }
    payload.update(overrides)
    return payload


async def record_all_clear(
    client, person_id: str, reviewer, consent_id: str, query_date: str = "2025-09-01", **overrides
) -> list[dict]:
    from service.personnel.models import CHECK_TYPES

    records = []
    for check_type in CHECK_TYPES:
        response = await client.post(
            f"/api/v1/people/{person_id}/checks",
            headers=reviewer,
            json=check_payload(consent_id, check_type=check_type, query_date=query_date, **overrides),
        )
        assert response.status_code == 201, response.text
        records.append(response.json())
    return records


async def count(db, model) -> int:
    async with db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()[0]


@pytest.fixture
async def vendor(client, accounts) -> VendorCtx:
    return await make_vendor(client, accounts)


@pytest.fixture
async def reviewer(accounts) -> dict:
    return await accounts.headers("reviewer", region_code="360104")


@pytest.fixture
async def consent(client, reviewer) -> str:
    return await authorisation(client, reviewer)


@pytest.fixture
def today():
    from service.timeutil import today_in_china

    return today_in_china()
