"""Background-check records, consents and certificates through the API."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from service.audit.models import AuditEvent
from service.personnel.models import BackgroundCheck, Certificate, ConsentDocument
from tests.factories import PDF, PNG
from tests.personnel.conftest import add_person, authorisation, check_payload, count


async def test_a_check_without_a_consent_document_is_422_and_nothing_is_stored(client, vendor, reviewer, db):
    person = await add_person(client, vendor)
    payload = check_payload("")
    del payload["consent_document_id"]
    response = await client.post(f"/api/v1/people/{person['person_id']}/checks", headers=reviewer, json=payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "consent_required"
    assert response.json()["error"]["details"][0]["field"] == "consent_document_id"
    assert await count(db, BackgroundCheck) == 0


async def test_the_consent_must_belong_to_the_person_or_the_reviewers_region(client, accounts, vendor, reviewer, db):
    person = await add_person(client, vendor)
    other = await add_person(client, vendor)
    theirs = await client.post(
        f"/api/v1/people/{other['person_id']}/consents",
        headers=vendor.headers,
        files={"file": ("授权书.pdf", PDF, "application/pdf")},
    )
    assert theirs.status_code == 201, theirs.text
    jiujiang = await authorisation(client, await accounts.headers("reviewer", region_code="360400"))
    for consent_id in (theirs.json()["id"], jiujiang, "00000000-0000-0000-0000-000000000000"):
        response = await client.post(
            f"/api/v1/people/{person['person_id']}/checks", headers=reviewer, json=check_payload(consent_id)
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_consent_document"
    own = await client.post(
        f"/api/v1/people/{person['person_id']}/consents",
        headers=vendor.headers,
        data={"title": "本人授权书", "signed_on": "2026-01-02"},
        files={"file": ("授权书.png", PNG, "image/png")},
    )
    assert own.json()["kind"] == "person_consent" and own.json()["content_type"] == "image/png"
    recorded = await client.post(
        f"/api/v1/people/{person['person_id']}/checks", headers=reviewer, json=check_payload(own.json()["id"])
    )
    assert recorded.status_code == 201, recorded.text
    assert await count(db, BackgroundCheck) == 1


async def test_only_reviewers_record_results(client, accounts, vendor, reviewer, consent):
    person = await add_person(client, vendor)
    for headers in (
        vendor.headers,
        await accounts.headers("auditor", region_code="360100"),
        await accounts.headers("admin"),
    ):
        response = await client.post(
            f"/api/v1/people/{person['person_id']}/checks", headers=headers, json=check_payload(consent)
        )
        assert response.status_code == 403


async def test_check_fields_are_validated_all_at_once(client, vendor, reviewer, consent, db):
    person = await add_person(client, vendor)
    response = await client.post(
        f"/api/v1/people/{person['person_id']}/checks",
        headers=reviewer,
        json=check_payload(
            consent,
            check_type="astrology",
            result="fine",
            query_date="2070-01-01",
            reference=" ",
            issuing_authority="",
            valid_until="2000-01-01",
        ),
    )
    assert response.status_code == 422
    codes = {d["field"]: d["code"] for d in response.json()["error"]["details"]}
    assert codes == {
        "check_type": "invalid_check_type",
        "result": "invalid_result",
        "query_date": "query_date_in_future",
        "reference": "required",
        "issuing_authority": "required",
        "valid_until": "invalid_validity",
    }
    assert await count(db, BackgroundCheck) == 0


async def test_a_reference_is_recorded_once_per_type(client, vendor, reviewer, consent):
    person = await add_person(client, vendor)
    first = check_payload(consent, reference="NC-2026-0001")
    assert (
        await client.post(f"/api/v1/people/{person['person_id']}/checks", headers=reviewer, json=first)
    ).status_code == 201
    again = await client.post(f"/api/v1/people/{person['person_id']}/checks", headers=reviewer, json=first)
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_reference"
    other_type = dict(first, check_type="health_certificate")
    assert (
        await client.post(f"/api/v1/people/{person['person_id']}/checks", headers=reviewer, json=other_type)
    ).status_code == 201


async def test_vendors_see_whether_a_check_is_present_never_its_content(client, vendor, reviewer, consent, today):
    person = await add_person(client, vendor)
    recorded = await client.post(
        f"/api/v1/people/{person['person_id']}/checks",
        headers=reviewer,
        json=check_payload(
            consent,
            check_type="health_certificate",
            result="adverse",
            query_date=str(today),
            reference="HEALTH-ADVERSE-77",
            issuing_authority="南昌市第三医院",
        ),
    )
    assert recorded.status_code == 201
    view = await client.get(f"/api/v1/people/{person['person_id']}", headers=vendor.headers)
    statuses = {c["check_type"]: c["status"] for c in view.json()["checks"]}
    assert statuses["health_certificate"] == "present" and statuses["criminal_record"] == "missing"
    roster = await client.get(f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers)
    for text in (view.text, roster.text):
        assert "adverse" not in text and "HEALTH-ADVERSE-77" not in text and "南昌市第三医院" not in text
        assert '"result"' not in text
    assert view.json()["clearance"] == "pending"


async def test_a_vendor_cannot_tell_an_adverse_result_from_a_clear_one_by_dates(
    client, vendor, reviewer, consent, today
):
    """Two people, the same checks on the same dates, one health certificate adverse:
    what the vendor sees of each check (status, last valid day, expiring) is identical,
    in the person view and the roster — current, expiring soon, and lapsed."""
    views = []
    for i, health in enumerate(("clear", "adverse")):
        person = await add_person(client, vendor)
        for check_type, days_ago in (("criminal_record", 10), ("health_certificate", 350), ("conduct_reference", 400)):
            result = health if check_type in ("health_certificate", "conduct_reference") else "clear"
            recorded = await client.post(
                f"/api/v1/people/{person['person_id']}/checks",
                headers=reviewer,
                json=check_payload(
                    consent,
                    check_type=check_type,
                    result=result,
                    query_date=str(today - timedelta(days=days_ago)),
                    reference=f"SAME-{i}-{check_type}",
                ),
            )
            assert recorded.status_code == 201, recorded.text
        view = (await client.get(f"/api/v1/people/{person['person_id']}", headers=vendor.headers)).json()
        views.append((view["checks"], view["clearance"]))
    assert views[0] == views[1]
    checks = {c["check_type"]: c for c in views[0][0]}
    assert checks["health_certificate"]["status"] == "present" and checks["health_certificate"]["expiring"]
    assert checks["health_certificate"]["valid_until"] is not None
    assert checks["conduct_reference"]["status"] == "expired" and views[0][1] == "expired"
    roster = (await client.get(f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers)).json()
    rows = [
        {k: v for k, v in r.items() if k in ("clearance", "missing_checks", "expiring_checks", "expired_checks")}
        for r in roster["items"]
    ]
    assert len(rows) == 2 and rows[0] == rows[1]


async def test_reviewers_and_auditors_read_content_and_each_record_read_is_audited(
    client, accounts, vendor, reviewer, consent, db
):
    person = await add_person(client, vendor)
    ids = []
    for check_type in ("criminal_record", "sexual_offence_entry_query"):
        ids.append(
            (
                await client.post(
                    f"/api/v1/people/{person['person_id']}/checks",
                    headers=reviewer,
                    json=check_payload(consent, check_type=check_type),
                )
            ).json()["id"]
        )
    auditor = await accounts.headers("auditor", region_code="360100")
    for headers in (reviewer, auditor):
        response = await client.get(f"/api/v1/people/{person['person_id']}/checks", headers=headers)
        assert response.status_code == 200
        assert {c["result"] for c in response.json()["items"]} == {"clear"}
    outsider = await accounts.headers("auditor", region_code="360400")
    assert (await client.get(f"/api/v1/people/{person['person_id']}/checks", headers=outsider)).status_code == 404
    async with db.transaction() as session:
        reads = (await session.exec(select(AuditEvent).where(AuditEvent.action == "personnel:check:read"))).all()
        recorded = (await session.exec(select(AuditEvent).where(AuditEvent.action == "personnel:check:record"))).all()
    assert sorted(e.object_id for e in reads) == sorted(ids * 2)
    assert {e.actor_role for e in reads} == {"reviewer", "auditor"}
    assert sorted(e.object_id for e in recorded) == sorted(ids)


async def test_authorisations_are_for_reviewers_of_the_region(client, accounts, db):
    county = await accounts.headers("reviewer", region_code="360104")
    outside = await client.post(
        "/api/v1/consents",
        headers=county,
        data={"title": "授权函", "region_code": "360400"},
        files={"file": ("a.pdf", PDF, "application/pdf")},
    )
    assert outside.status_code == 403 and outside.json()["error"]["code"] == "out_of_scope"
    untitled = await client.post("/api/v1/consents", headers=county, files={"file": ("a.pdf", PDF, "application/pdf")})
    assert untitled.status_code == 422 and untitled.json()["error"]["details"][0]["field"] == "title"
    fake = await client.post(
        "/api/v1/consents",
        headers=county,
        data={"title": "授权函"},
        files={"file": ("a.pdf", b"MZ not a pdf", "application/pdf")},
    )
    assert fake.status_code == 415
    assert await count(db, ConsentDocument) == 0


async def test_certificates_with_scans_reuse_the_document_checks(client, vendor, reviewer):
    person = await add_person(client, vendor)
    path = f"/api/v1/people/{person['person_id']}/certificates"
    form = {
        "cert_type": "coaching",
        "number": "TY-2025-0042",
        "issuer": "江西省体育局",
        "category_codes": "4",
        "valid_from": "2025-01-01",
        "valid_until": "2028-12-31",
    }
    created = await client.post(
        path,
        headers=vendor.headers,
        data=form,
        files={"file": ("证书.jpg", b"\xff\xd8\xff\xe0" + b"0" * 32, "image/jpeg")},
    )
    assert created.status_code == 201, created.text
    assert created.json()["category_codes"] == [4] and created.json()["status"] == "valid"
    lifelong = await client.post(
        path,
        headers=reviewer,
        files={"file": ("t.pdf", PDF, "application/pdf")},
        data=dict(form, cert_type="teacher_qualification", category_codes="1, 6", valid_until=""),
    )
    assert lifelong.status_code == 201 and lifelong.json()["valid_until"] is None
    bad = await client.post(
        path,
        headers=vendor.headers,
        files={"file": ("t.pdf", PDF, "application/pdf")},
        data=dict(form, cert_type="x", category_codes="9", valid_until="2020-01-01"),
    )
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"cert_type", "category_codes", "valid_until"}
    wrong_type = await client.post(
        path, headers=vendor.headers, data=form, files={"file": ("x.pdf", b"GIF89a....", "application/pdf")}
    )
    assert wrong_type.status_code == 415
    listed = await client.get(path, headers=vendor.headers)
    assert [c["number"] for c in listed.json()["items"]] == ["TY-2025-0042", "TY-2025-0042"]


async def test_uploads_count_against_nothing_when_refused(client, vendor, db):
    person = await add_person(client, vendor)
    response = await client.post(
        f"/api/v1/people/{person['person_id']}/certificates",
        headers=vendor.headers,
        data={"cert_type": "coaching"},
        files={"file": ("t.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 422
    assert await count(db, Certificate) == 0


async def test_consent_and_certificate_scans_download_for_whoever_sees_the_person_each_read_audited(
    client, accounts, vendor, reviewer, db
):
    import hashlib

    from tests.personnel.conftest import make_vendor

    person = await add_person(client, vendor)
    base = f"/api/v1/people/{person['person_id']}"
    consent = (
        await client.post(
            f"{base}/consents", headers=vendor.headers, files={"file": ("本人授权书.png", PNG, "image/png")}
        )
    ).json()
    certificate = (
        await client.post(
            f"{base}/certificates",
            headers=vendor.headers,
            data={
                "cert_type": "coaching",
                "number": "TY-1",
                "issuer": "江西省体育局",
                "category_codes": "4",
                "valid_from": "2025-01-01",
            },
            files={"file": ("证书.pdf", PDF, "application/pdf")},
        )
    ).json()
    own = await client.get(f"{base}/consents/{consent['id']}/file", headers=vendor.headers)
    assert own.status_code == 200 and own.content == PNG
    assert own.headers["content-type"] == "image/png"
    assert own.headers["x-content-sha256"] == hashlib.sha256(PNG).hexdigest()
    assert "attachment" in own.headers["content-disposition"]
    scan = await client.get(f"{base}/certificates/{certificate['id']}/file", headers=reviewer)
    assert scan.status_code == 200 and scan.content == PDF and scan.headers["content-type"] == "application/pdf"

    stranger = await make_vendor(client, accounts)
    other = await add_person(client, vendor)
    for path, headers in (
        (f"{base}/consents/{consent['id']}/file", stranger.headers),
        (f"{base}/certificates/{certificate['id']}/file", stranger.headers),
        (f"/api/v1/people/{other['person_id']}/consents/{consent['id']}/file", vendor.headers),
        (f"/api/v1/people/{other['person_id']}/certificates/{certificate['id']}/file", reviewer),
    ):
        assert (await client.get(path, headers=headers)).status_code == 404, path
    async with db.transaction() as session:
        reads = (
            await session.exec(
                select(AuditEvent).where(
                    AuditEvent.action.in_(["personnel:consent:read", "personnel:certificate:read"])
                )
            )
        ).all()
    assert sorted((e.action, e.object_id, e.actor_role) for e in reads) == sorted(
        [
            ("personnel:consent:read", consent["id"], "vendor"),
            ("personnel:certificate:read", certificate["id"], "reviewer"),
        ]
    )


async def test_authorisation_scans_are_for_the_bureau_of_their_region(client, accounts, vendor, reviewer, db):
    consent_id = await authorisation(client, reviewer)
    path = f"/api/v1/consents/{consent_id}/file"
    for headers in (reviewer, await accounts.headers("auditor", region_code="360100"), await accounts.headers("admin")):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200 and response.content == PDF
    assert (await client.get(path, headers=await accounts.headers("reviewer", region_code="360400"))).status_code == 404
    assert (await client.get(path, headers=vendor.headers)).status_code == 403
    person = await add_person(client, vendor)
    theirs = (
        await client.post(
            f"/api/v1/people/{person['person_id']}/consents",
            headers=vendor.headers,
            files={"file": ("授权书.pdf", PDF, "application/pdf")},
        )
    ).json()
    assert (await client.get(f"/api/v1/consents/{theirs['id']}/file", headers=reviewer)).status_code == 404
    async with db.transaction() as session:
        reads = (await session.exec(select(AuditEvent).where(AuditEvent.action == "personnel:consent:read"))).all()
    assert [e.object_id for e in reads] == [consent_id] * 3
    assert {e.region_code for e in reads} == {"360104"}
