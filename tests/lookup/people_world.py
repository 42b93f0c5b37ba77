"""Shortcuts for person-lookup tests: a whitelisted vendor engaging people whose checks
are recorded over HTTP (the personnel helpers), and the lookup calls."""

from __future__ import annotations

from datetime import timedelta

from service.timeutil import today_in_china
from tests.personnel.conftest import authorisation, check_payload, new_id_number, record_all_clear

RECENT = (today_in_china() - timedelta(days=10)).isoformat()


async def engage(
    wl, vendor, name: str = "王小明", id_number: str | None = None, start_date: str = "2025-09-01"
) -> tuple[str, str]:
    """Engage a new person at the vendor: (person id, ID number)."""
    id_number = id_number or new_id_number()
    response = await wl.client.post(
        f"/api/v1/vendors/{vendor.id}/people",
        headers=vendor.headers,
        json={"id_number": id_number, "name": name, "role": "lead_instructor", "start_date": start_date},
    )
    assert response.status_code == 201, response.text
    return response.json()["person_id"], id_number


async def cleared_person(
    wl, vendor, reviewer, consent: str, name: str = "王小明", query_date: str = RECENT, start_date: str = "2025-09-01"
) -> tuple[str, str]:
    person_id, number = await engage(wl, vendor, name, start_date=start_date)
    await record_all_clear(wl.client, person_id, reviewer, consent, query_date=query_date)
    return person_id, number


async def record(wl, person_id: str, reviewer, consent: str, **overrides) -> dict:
    response = await wl.client.post(
        f"/api/v1/people/{person_id}/checks", headers=reviewer, json=check_payload(consent, **overrides)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def lookup(wl, headers, id_number, name="王小明", **body):
    return await wl.client.post(
        "/api/v1/lookup/people", headers=headers, json={"id_number": id_number, "name": name, **body}
    )


async def batch(wl, headers, entries: list[dict]):
    return await wl.client.post("/api/v1/lookup/people/batch", headers=headers, json={"entries": entries})


__all__ = ["RECENT", "authorisation", "batch", "cleared_person", "engage", "lookup", "new_id_number", "record"]
