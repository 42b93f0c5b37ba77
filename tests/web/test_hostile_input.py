"""Hostile input at the edge (issue 11): each answer is a precise 4xx, never a 500, and
leaves no trace in the database."""

from __future__ import annotations

import json
import unicodedata

import pytest

from service.personnel.models import BackgroundCheck, Person
from service.vendors.models import Vendor
from tests.applications.conftest import World
from tests.factories import PDF, document_form, service_item_payload, vendor_payload
from tests.personnel.conftest import add_person, check_payload, count, make_vendor
from tests.personnel.test_import import HEADER, as_csv, post_import, sample_rows
from tests.web.test_errors_and_ops import assert_error_shape

REFUSED = {
    "nul": "\x00",
    "bell": "\x07",
    "escape": "\x1b",
    "del": "\x7f",
    "c1_next_line": "\x85",
    "rtl_override": "\u202e",
    "rtl_isolate": "\u2067",
    "bom": "\ufeff",
    "noncharacter": "\ufdd0",
    "plane_noncharacter": "\U0001fffe",
    "private_use": "\ue000",
    "private_use_plane_16": "\U0010fffd",
    "tab_in_one_line": "\t",
    "newline_in_one_line": "\n",
}


def assert_invalid_characters(response, field: str):
    body = assert_error_shape(response, 422, "invalid_characters")
    assert [d["field"] for d in body["error"]["details"]] == [field]
    return body


def no_unhandled_errors(capsys):
    logged = capsys.readouterr().err
    assert "unhandled_error" not in logged and "Traceback" not in logged


@pytest.fixture
async def admin(accounts):
    return await accounts.headers("admin")


@pytest.fixture
async def auditor(accounts):
    return await accounts.headers("auditor", region_code="360000")


# -- defect 1 and part 1: one text rule ------------------------------------------------------


async def test_a_nul_in_the_public_search_is_422_and_logs_no_traceback(client, capsys):
    response = await client.get("/api/v1/public/whitelist", params={"q": "\x00"})
    assert_invalid_characters(response, "q")
    no_unhandled_errors(capsys)


@pytest.mark.parametrize("kind", sorted(REFUSED))
async def test_a_name_with_a_refused_character_is_422_naming_it_and_stores_nothing(client, admin, db, kind):
    response = await client.post("/api/v1/vendors", json=vendor_payload(name=f"南昌{REFUSED[kind]}科技"), headers=admin)
    assert_invalid_characters(response, "name")
    assert await count(db, Vendor) == 0


async def test_a_nul_anywhere_in_a_nested_body_names_its_path(client, accounts):
    school = await accounts.headers("school", region_code="360104", school_code="2136010401")
    response = await client.post(
        "/api/v1/lookup/people/batch",
        headers=school,
        json={
            "entries": [{"id_number": "360102199001010011", "name": "王小明"}, {"id_number": "3601\x00", "name": "李"}]
        },
    )
    assert_invalid_characters(response, "entries[1].id_number")


async def test_multi_line_text_keeps_its_line_breaks_but_not_a_nul(client, accounts):
    vendor = await make_vendor(client, accounts)
    person = await add_person(client, vendor)
    url = f"/api/v1/vendors/{vendor.id}/people/{person['person_id']}/departure"
    assert_invalid_characters(await client.post(url, json={"reason": "合同到期\x00"}, headers=vendor.headers), "reason")
    response = await client.post(url, json={"reason": "合同到期\n\t不再续签"}, headers=vendor.headers)
    assert response.status_code == 200, response.text


async def test_form_fields_follow_the_rule(client, accounts, db):
    vendor = await make_vendor(client, accounts)
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/documents",
        headers=vendor.headers,
        data=document_form(issuer="南昌市\u202e市场监督管理局"),
        files={"file": ("licence.pdf", PDF, "application/pdf")},
    )
    assert_invalid_characters(response, "issuer")


async def test_query_and_path_parameters_follow_the_rule(client, admin, auditor, capsys):
    assert_invalid_characters(
        await client.get("/api/v1/audit/objects/application/a%00b/history", headers=auditor), "object_id"
    )
    assert_invalid_characters(
        await client.get("/api/v1/audit/events", params={"action": "vendors:\x00"}, headers=auditor), "action"
    )
    assert_invalid_characters(await client.get("/api/v1/vendors", params={"q": "科技\u202e"}, headers=admin), "q")
    assert_invalid_characters(await client.get("/api/v1/lookup/vendors/9136%00", headers=admin), "credit_code")
    no_unhandled_errors(capsys)


async def test_an_import_cell_with_a_refused_character_reports_row_and_column(client, accounts, db):
    reviewer = await accounts.headers("reviewer", region_code="360104")
    from tests.personnel.conftest import authorisation

    consent = await authorisation(client, reviewer)
    rows = sample_rows(4)
    rows[1][1] = "王\u202e小明"  # file row 3: the header is row 1
    rows[3][5] = "IMP-\x07-3"  # file row 5, the reference
    response = await post_import(client, reviewer, as_csv(rows, HEADER), consent)
    assert response.status_code == 422, response.text
    errors = {(e["row"], e["column"], e["code"]) for e in response.json()["errors"]}
    assert errors == {(3, "name", "invalid_characters"), (5, "reference", "invalid_characters")}
    assert (await count(db, Person), await count(db, BackgroundCheck)) == (0, 0)


async def test_names_are_stored_in_nfc(client, admin):
    decomposed = "Cafe\u0301 南昌科技"
    response = await client.post("/api/v1/vendors", json=vendor_payload(name=decomposed), headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == unicodedata.normalize("NFC", decomposed) != decomposed


# -- defect 7: LIKE wildcards in a search term --------------------------------------------------


async def test_percent_and_underscore_in_the_vendor_search_are_literal(client, admin):
    for name in ("南昌科技有限公司", "赣州教育咨询中心", "百分之百_体育俱乐部"):
        assert (await client.post("/api/v1/vendors", json=vendor_payload(name=name), headers=admin)).status_code == 201
    for q, expected in (("%", []), ("_", ["百分之百_体育俱乐部"]), ("科技", ["南昌科技有限公司"])):
        response = await client.get("/api/v1/vendors", params={"q": q}, headers=admin)
        assert response.status_code == 200
        assert [v["name"] for v in response.json()["items"]] == expected, q


# -- defect 4: deep JSON ---------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
async def test_json_nested_too_deep_is_400_invalid_json(client, accounts, depth):
    school = await accounts.headers("school", region_code="360104", school_code="2136010401")
    body = b"[" * depth + b"]" * depth
    response = await client.post(
        "/api/v1/lookup/people", content=body, headers=school | {"Content-Type": "application/json"}
    )
    assert_error_shape(response, 400, "invalid_json")


async def test_json_nested_32_deep_is_decoded(client, admin):
    nested = json.dumps(vendor_payload() | {"extra": json.loads("[" * 30 + "]" * 30)})  # 31 levels with the object
    response = await client.post(
        "/api/v1/vendors", content=nested.encode(), headers=admin | {"Content-Type": "application/json"}
    )
    assert_error_shape(response, 422)  # reached validation: the unknown field is refused, not the depth


# -- defect 7: content types ----------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "image/png", "application/x-www-form-urlencoded"])
async def test_a_json_body_under_another_content_type_is_415(client, admin, db, content_type):
    response = await client.post(
        "/api/v1/vendors", content=json.dumps(vendor_payload()).encode(), headers=admin | {"Content-Type": content_type}
    )
    assert_error_shape(response, 415, "unsupported_media_type")
    assert await count(db, Vendor) == 0


async def test_a_json_body_under_a_json_suffix_type_is_accepted(client, admin):
    response = await client.post(
        "/api/v1/vendors",
        content=json.dumps(vendor_payload()).encode(),
        headers=admin | {"Content-Type": "application/merge-patch+json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text


# -- defect 5: integers beyond 64 bits ---------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/audit/events/{2**64}",
        f"/api/v1/audit/checkpoints/{2**70}",
        f"/api/v1/audit/consistency?first={2**64}&second=1",
        f"/api/v1/audit/consistency?first=1&second={2**63}",
        f"/api/v1/audit/events?cursor={2**64}",
        f"/api/v1/audit/export?from={2**64}",
    ],
)
async def test_integers_beyond_64_bits_are_422(client, auditor, capsys, url):
    response = await client.get(url, headers=auditor)
    assert_error_shape(response, 422)
    no_unhandled_errors(capsys)


async def test_a_body_integer_beyond_its_column_is_422(client, accounts):
    vendor = await make_vendor(client, accounts)
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/service-items", headers=vendor.headers, json=service_item_payload(fee=2**40)
    )
    body = assert_error_shape(response, 422)
    assert body["error"]["details"][0]["field"] == "fee"


# -- defect 7: dates and instants -------------------------------------------------------------


async def test_a_check_dated_year_one_is_422(client, accounts, db):
    vendor = await make_vendor(client, accounts)
    person = await add_person(client, vendor)
    reviewer = await accounts.headers("reviewer", region_code="360104")
    from tests.personnel.conftest import authorisation

    consent = await authorisation(client, reviewer)
    response = await client.post(
        f"/api/v1/people/{person['person_id']}/checks",
        headers=reviewer,
        json=check_payload(consent, query_date="0001-01-01"),
    )
    body = assert_error_shape(response, 422, "date_out_of_range")
    assert body["error"]["details"][0]["field"] == "query_date"
    assert await count(db, BackgroundCheck) == 0


async def test_dates_far_ahead_are_422_in_bodies_and_forms(client, accounts):
    vendor = await make_vendor(client, accounts)
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/people",
        headers=vendor.headers,
        json={"id_number": "360102199001010011", "name": "王小明", "role": "assistant", "start_date": "2999-01-01"},
    )
    assert assert_error_shape(response, 422, "date_out_of_range")["error"]["details"][0]["field"] == "start_date"
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/documents",
        headers=vendor.headers,
        data=document_form(valid_from="1899-12-31"),
        files={"file": ("licence.pdf", PDF, "application/pdf")},
    )
    assert assert_error_shape(response, 422, "date_out_of_range")["error"]["details"][0]["field"] == "valid_from"


@pytest.mark.parametrize(
    "as_of", ["0.5", "1700000000", "2026-03-01T08:00:00", "2026-03-01", "0001-01-01T00:00:00Z", "2026-13-01T00:00:00Z"]
)
async def test_as_of_is_only_an_rfc3339_instant_with_a_zone(client, admin, as_of):
    response = await client.get("/api/v1/whitelist/entries", params={"as_of": as_of}, headers=admin)
    assert_error_shape(response, 422)
    assert response.json()["error"]["details"][0]["field"] == "as_of"


@pytest.mark.parametrize("as_of", ["2026-03-01T08:00:00+08:00", "2026-03-01T00:00:00.5Z"])
async def test_as_of_with_a_zone_is_accepted(client, admin, as_of):
    response = await client.get("/api/v1/whitelist/entries", params={"as_of": as_of}, headers=admin)
    assert response.status_code == 200, response.text


# -- defect 6: the history of a submitted application -------------------------------------------


async def test_the_history_of_a_submitted_application_reads(client, accounts, db, auditor):
    world = World(client, accounts, db)
    vendor = await world.vendor()
    application = await world.application(vendor)
    await world.step(application, vendor.headers, "submit")
    response = await client.get(f"/api/v1/audit/objects/application/{application['id']}/history", headers=auditor)
    assert response.status_code == 200, response.text
    states = response.json()["states"]
    assert [s["action"] for s in states][-1] == "applications:application:submit"
    assert states[-1]["state"]["stage"] == "submitted"
