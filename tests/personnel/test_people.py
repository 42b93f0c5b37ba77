"""People and engagements through the API: identity, masking, scope, departure."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from service.audit.models import AuditEvent
from service.personnel.models import Engagement, Person
from tests.identifiers.make import make_id_number
from tests.personnel.conftest import (
    add_person,
    count,
    make_vendor,
    new_id_number,
    person_payload,
)

GB_EXAMPLE = "11010519491231002X"  # GB 11643-1999's own example: check character X
GB_EXAMPLE_15 = "110105491231002"  # the same person's legacy 15-digit number


def masked(number: str) -> str:
    return number[:6] + "********" + number[-4:]


async def test_vendor_adds_a_person_shown_masked_with_derived_facts(client, vendor, db):
    number = make_id_number(address="360102", born="19880315", sequence="457")
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/people",
        headers=vendor.headers,
        json=person_payload(id_number=number, name="  刘 芳 "),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id_number_masked"] == masked(number)
    assert (body["name"], body["gender"], body["birth_date"]) == ("刘 芳", "male", "1988-03-15")
    assert body["clearance"] == "pending" and body["cleared_until"] is None
    assert [c["status"] for c in body["checks"]] == ["missing"] * 5
    assert body["engagements"][0]["role"] == "lead_instructor" and body["engagements"][0]["current"] is True
    assert number not in response.text
    async with db.transaction() as session:
        person = (await session.exec(select(Person))).one()
    assert number.encode() not in person.id_number_ciphertext
    assert number not in str(person.model_dump())


@pytest.mark.parametrize(
    "given,stored",
    [
        ("11010519491231002x", GB_EXAMPLE),  # lower-case x accepted and normalised
        (GB_EXAMPLE_15, GB_EXAMPLE),  # legacy 15-digit number converted
        (make_id_number(born="20000229", sequence="124"), make_id_number(born="20000229", sequence="124")),  # leap day
    ],
)
async def test_accepted_forms_of_the_number(client, vendor, accounts, given, stored):
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers, json=person_payload(id_number=given, name="张伟")
    )
    assert response.status_code == 201, response.text
    assert response.json()["id_number_masked"] == masked(stored)
    admin = await accounts.headers("admin")
    unmasked = await client.get(f"/api/v1/people/{response.json()['person_id']}/id-number", headers=admin)
    assert unmasked.json()["id_number"] == stored


@pytest.mark.parametrize(
    "bad",
    [
        GB_EXAMPLE[:-1] + "1",  # wrong check character
        make_id_number(born="20010229"),  # 29 February of a common year
        make_id_number(born="19901301"),  # month 13
        make_id_number(born="19900230"),  # 30 February
        "36010219900101123",  # 17 characters
        "3601021990010112X3",  # X in the wrong place
    ],
)
async def test_invalid_numbers_are_422_and_store_nothing(client, vendor, db, bad):
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers, json=person_payload(id_number=bad)
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_id_number"
    assert error["details"][0]["field"] == "id_number"
    assert bad not in response.text and bad[:14] not in response.text
    assert await count(db, Person) == 0 and await count(db, Engagement) == 0


async def test_all_problems_are_reported_at_once(client, vendor):
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/people",
        headers=vendor.headers,
        json=person_payload(id_number="123", name=" ", role="coach", phone="x"),
    )
    assert response.status_code == 422
    fields = {d["field"]: d["code"] for d in response.json()["error"]["details"]}
    assert fields == {
        "id_number": "invalid_id_number",
        "name": "required",
        "role": "invalid_role",
        "phone": "invalid_phone",
    }


async def test_one_person_across_vendors_and_a_different_name_is_refused(client, accounts, vendor, db):
    number = new_id_number()
    first = await add_person(client, vendor, id_number=number, name="陈静")
    other = await make_vendor(client, accounts, region_code="360102")
    again = await add_person(client, other, id_number=number, name="陈静", role="assistant")
    assert again["person_id"] == first["person_id"]
    assert [e["vendor_id"] for e in again["engagements"]] == [other.id]  # a vendor sees only its own
    mismatch = await client.post(
        f"/api/v1/vendors/{other.id}/people", headers=other.headers, json=person_payload(id_number=number, name="陈晶")
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["error"]["code"] == "name_mismatch"
    assert mismatch.json()["error"]["details"][0]["field"] == "name"
    async with db.transaction() as session:
        people = (await session.exec(select(Person))).all()
    assert [p.name for p in people] == ["陈静"]


async def test_the_same_engagement_twice_is_409(client, vendor, db):
    number = new_id_number()
    await add_person(client, vendor, id_number=number)
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers, json=person_payload(id_number=number)
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_engaged"
    assert await count(db, Engagement) == 1


async def test_a_vendor_cannot_read_another_vendors_people(client, accounts, vendor):
    mine = await add_person(client, vendor)
    other = await make_vendor(client, accounts)
    theirs = await add_person(client, other)
    hidden = await client.get(f"/api/v1/people/{theirs['person_id']}", headers=vendor.headers)
    missing = await client.get(f"/api/v1/people/{uuid.uuid4()}", headers=vendor.headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == missing.json()["error"]
    assert (await client.get(f"/api/v1/vendors/{other.id}/people", headers=vendor.headers)).status_code == 404
    for path in ("consents", "certificates"):
        assert (
            await client.get(f"/api/v1/people/{theirs['person_id']}/{path}", headers=vendor.headers)
        ).status_code == 404
    assert (await client.get(f"/api/v1/people/{mine['person_id']}", headers=vendor.headers)).status_code == 200
    # Check content and the unmasked number are not for vendors at all.
    assert (await client.get(f"/api/v1/people/{mine['person_id']}/checks", headers=vendor.headers)).status_code == 403
    assert (
        await client.get(f"/api/v1/people/{mine['person_id']}/id-number", headers=vendor.headers)
    ).status_code == 403


async def test_reviewers_see_people_of_vendors_in_their_region_only(client, accounts, vendor):
    person = await add_person(client, vendor)  # vendor in 360104, 青云谱区
    for region, status in (("360104", 200), ("360100", 200), ("360000", 200), ("360102", 404), ("360400", 404)):
        headers = await accounts.headers("reviewer", region_code=region)
        assert (await client.get(f"/api/v1/people/{person['person_id']}", headers=headers)).status_code == status
    school = await accounts.headers("school", region_code="360104", school_code="2136010401")
    assert (await client.get(f"/api/v1/people/{person['person_id']}", headers=school)).status_code == 403


async def test_departure_ends_the_entry_for_that_vendor_at_once(client, vendor, reviewer, db):
    person = await add_person(client, vendor)
    path = f"/api/v1/vendors/{vendor.id}/people/{person['person_id']}/departure"
    future = await client.post(path, headers=vendor.headers, json={"end_date": "2070-01-01"})
    assert future.status_code == 422 and future.json()["error"]["code"] == "end_date_in_future"
    left = await client.post(path, headers=vendor.headers, json={"reason": "合同到期"})
    assert left.status_code == 200, left.text
    assert left.json()["current"] is False and left.json()["end_date"]
    assert (await client.get(f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers)).json()["items"] == []
    assert (await client.get(f"/api/v1/people/{person['person_id']}", headers=vendor.headers)).status_code == 404
    seen = (await client.get(f"/api/v1/people/{person['person_id']}", headers=reviewer)).json()
    assert seen["engagements"][0]["current"] is False
    assert (await client.post(path, headers=vendor.headers, json={})).status_code == 404
    async with db.transaction() as session:
        actions = (
            await session.exec(
                select(AuditEvent.action).where(AuditEvent.object_id == seen["engagements"][0]["engagement_id"])
            )
        ).all()
    assert sorted(actions) == ["personnel:engagement:create", "personnel:engagement:end"]


async def test_unmasked_number_is_for_reviewers_in_scope_and_every_read_is_audited(client, accounts, vendor, db):
    number = new_id_number()
    person = await add_person(client, vendor, id_number=number)
    reviewer = await accounts.headers("reviewer", region_code="360100")
    response = await client.get(f"/api/v1/people/{person['person_id']}/id-number", headers=reviewer)
    assert response.status_code == 200 and response.json()["id_number"] == number
    outsider = await accounts.headers("reviewer", region_code="360400")
    assert (await client.get(f"/api/v1/people/{person['person_id']}/id-number", headers=outsider)).status_code == 404
    auditor = await accounts.headers("auditor", region_code="360100")
    assert (await client.get(f"/api/v1/people/{person['person_id']}/id-number", headers=auditor)).status_code == 403
    async with db.transaction() as session:
        reads = (await session.exec(select(AuditEvent).where(AuditEvent.action == "personnel:id_number:read"))).all()
    assert [e.object_id for e in reads] == [person["person_id"]]
    assert number not in reads[0].canonical.decode()


async def test_the_raw_number_appears_in_no_log_error_body_or_audit_event(
    client, accounts, vendor, reviewer, consent, db, capsys, caplog
):
    number = new_id_number()
    legacy_looking = number[:6] + number[8:17]  # what a 15-digit rendering would contain
    person = await add_person(client, vendor, id_number=number, name="赵磊")
    bodies = []
    for payload in (
        person_payload(id_number=number, name="赵雷"),  # name mismatch
        person_payload(id_number=number[:-1] + ("0" if number[-1] != "0" else "1")),  # bad check digit
        person_payload(id_number=number),
    ):  # already engaged
        bodies.append(
            (await client.post(f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers, json=payload)).text
        )
    await client.get(f"/api/v1/people/{person['person_id']}/id-number", headers=reviewer)
    csv_file = (
        "身份证号,姓名,查询类型,查询结果,查询日期,查询编号\n"
        f"{number},赵磊,违法犯罪记录查询,无犯罪记录,2026-01-05,LOG-1\n"
        f"{number},赵雷,健康证明,合格,2026-01-05,LOG-2\n"
    ).encode()
    bodies.append(
        (
            await client.post(
                "/api/v1/checks/import",
                headers=reviewer,
                data={"consent_document_id": consent},
                files={"file": ("r.csv", csv_file, "text/csv")},
            )
        ).text
    )
    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "request" in logs  # the logs were captured at all
    async with db.transaction() as session:
        trail = b"".join((await session.exec(select(AuditEvent.canonical))).all())
    for haystack in [logs, *bodies, trail.decode()]:
        assert number not in haystack and number.lower() not in haystack and legacy_looking not in haystack


async def test_a_vendor_cannot_end_another_vendors_engagement(client, accounts, vendor):
    other = await make_vendor(client, accounts)
    theirs = await add_person(client, other)
    for vendor_id in (other.id, vendor.id):
        response = await client.post(
            f"/api/v1/vendors/{vendor_id}/people/{theirs['person_id']}/departure", headers=vendor.headers, json={}
        )
        assert response.status_code == 404
    assert (await client.get(f"/api/v1/people/{theirs['person_id']}", headers=other.headers)).status_code == 200


async def test_the_keyring_is_loaded_once_not_per_request(db, tmp_path, accounts):
    import httpx

    from service.app import create_app
    from service.config import Settings
    from service.security.keyring import KEY_FILE

    app = create_app(Settings(data_dir=tmp_path, log_format="json"), db=db)
    (tmp_path / KEY_FILE).unlink()  # requests must not need the file any more
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        vendor = await make_vendor(http, accounts)
        number = new_id_number()
        person = await add_person(http, vendor, id_number=number)
        admin = await accounts.headers("admin")
        read = await http.get(f"/api/v1/people/{person['person_id']}/id-number", headers=admin)
    assert read.json()["id_number"] == number
    assert not (tmp_path / KEY_FILE).exists()
