"""`Idempotency-Key` on every creating POST (the ones not covered beside their domain):
vendor registration, documents, consents, certificates, people, checks and imports —
and on the personnel transitions: departures and bar-lift requests and decisions.

For each: the same key with the same request answers the first answer again (same
status, same body, `Idempotent-Replayed: true`) and stores nothing more — no row, no
audit event; the same key with another request (another field, or for an upload another
file) is 422 `idempotency_key_reused`, and stores nothing either."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from sqlmodel import SQLModel

from service.audit.models import AuditEvent
from service.documents.models import Document
from service.personnel.models import (
    BackgroundCheck,
    BarLift,
    Certificate,
    CheckImportJob,
    ConsentDocument,
    Engagement,
    Person,
)
from service.vendors.models import Vendor
from tests.factories import JPEG, PDF, PNG, document_form, vendor_payload
from tests.personnel.conftest import (  # noqa: F401  (the personnel fixtures: vendor, reviewer, consent)
    add_person,
    authorisation,
    check_payload,
    consent,
    count,
    person_payload,
    reviewer,
    vendor,
)
from tests.personnel.test_import import as_csv, post_import, sample_rows

Send = Callable[[dict, str], Awaitable[httpx.Response]]


async def _counts(db, models: tuple[type[SQLModel], ...]) -> dict[str, int]:
    return {model.__name__: await count(db, model) for model in (*models, AuditEvent)}


async def exactly_once(
    db,
    models: tuple[type[SQLModel], ...],
    send: Send,
    others: tuple[str, ...],
    key: str = "retry-0001",
    expected: int | None = None,
) -> httpx.Response:
    """`send(headers, variant)` posts the request ("same") or a variant of it; checks
    the replay and the reuse of the key, and returns the first answer."""
    before = await _counts(db, models)
    first = await send({"Idempotency-Key": key}, "same")
    assert first.status_code in ((expected,) if expected else (201, 202)), first.text
    assert "idempotent-replayed" not in first.headers
    stored = await _counts(db, models)
    assert stored != before  # the first request did store something
    again = await send({"Idempotency-Key": key}, "same")
    assert again.status_code == first.status_code, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert await _counts(db, models) == stored
    for variant in others:
        reused = await send({"Idempotency-Key": key}, variant)
        assert reused.status_code == 422, (variant, reused.text)
        error = reused.json()["error"]
        assert error["code"] == "idempotency_key_reused" and error["details"][0]["field"] == "Idempotency-Key"
        assert await _counts(db, models) == stored, variant
    return first


async def test_vendor_registration(client, accounts, db):
    payload = vendor_payload()
    headers = await accounts.headers("vendor", vendor_credit_code=payload["credit_code"])

    async def send(extra, variant):
        body = payload if variant == "same" else dict(payload, name="南昌另一家科技教育服务有限公司")
        return await client.post("/api/v1/vendors", json=body, headers=headers | extra)

    first = await exactly_once(db, (Vendor,), send, ("field",))
    assert first.json()["credit_code"] == payload["credit_code"]
    # Without a key a retry is the duplicate it always was.
    assert (await client.post("/api/v1/vendors", json=payload, headers=headers)).status_code == 409


async def test_document_upload_hashes_the_file_and_the_fields(client, vendor, db):
    path = f"/api/v1/vendors/{vendor.id}/documents"

    async def send(extra, variant):
        form = document_form(number="NC-2024-777") if variant == "field" else document_form()
        content = PNG if variant == "file" else PDF
        return await client.post(
            path,
            headers=vendor.headers | extra,
            data=form,
            files={"file": ("营业执照.pdf", content, "application/pdf")},
        )

    await exactly_once(db, (Document,), send, ("file", "field"))
    assert len((await client.get(path, headers=vendor.headers)).json()["items"]) == 1


async def test_person_engagement(client, vendor, db):
    payload = person_payload()

    async def send(extra, variant):
        body = payload if variant == "same" else dict(payload, role="assistant")
        return await client.post(f"/api/v1/vendors/{vendor.id}/people", json=body, headers=vendor.headers | extra)

    first = await exactly_once(db, (Person, Engagement), send, ("field",))
    assert first.json()["name"] == payload["name"]
    roster = (await client.get(f"/api/v1/vendors/{vendor.id}/people", headers=vendor.headers)).json()["items"]
    assert len(roster) == 1


async def test_person_consent_upload(client, vendor, db):
    person = await add_person(client, vendor)
    path = f"/api/v1/people/{person['person_id']}/consents"

    async def send(extra, variant):
        form = {
            "title": "个人信息查询授权书（补签）" if variant == "field" else "个人信息查询授权书",
            "signed_on": "2025-09-01",
        }
        return await client.post(
            path,
            headers=vendor.headers | extra,
            data=form,
            files={"file": ("授权书.jpg", PNG if variant == "file" else JPEG, "image/jpeg")},
        )

    await exactly_once(db, (ConsentDocument,), send, ("file", "field"))
    assert len((await client.get(path, headers=vendor.headers)).json()["items"]) == 1


async def test_certificate_upload(client, vendor, db):
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

    async def send(extra, variant):
        fields = dict(form, category_codes="2,4") if variant == "field" else form
        return await client.post(
            path,
            headers=vendor.headers | extra,
            data=fields,
            files={"file": ("证书.pdf", PNG if variant == "file" else PDF, "application/pdf")},
        )

    await exactly_once(db, (Certificate,), send, ("file", "field"))
    assert len((await client.get(path, headers=vendor.headers)).json()["items"]) == 1


async def test_bureau_authorisation_upload(client, reviewer, db):
    async def send(extra, variant):
        form = {"title": "公安机关批量查询授权函", "region_code": "360104" if variant == "field" else ""}
        return await client.post(
            "/api/v1/consents",
            headers=reviewer | extra,
            data=form,
            files={"file": ("授权函.pdf", PNG if variant == "file" else PDF, "application/pdf")},
        )

    first = await exactly_once(db, (ConsentDocument,), send, ("file", "field"))
    assert first.json()["kind"] == "bureau_authorisation"


async def test_check_record(client, vendor, reviewer, consent, db):
    person = await add_person(client, vendor)
    payload = check_payload(consent)
    path = f"/api/v1/people/{person['person_id']}/checks"

    async def send(extra, variant):
        body = payload if variant == "same" else dict(payload, result="pending")
        return await client.post(path, json=body, headers=reviewer | extra)

    await exactly_once(db, (BackgroundCheck,), send, ("field",))
    # Without a key the retry is refused as the duplicate reference it is.
    assert (await client.post(path, json=payload, headers=reviewer)).status_code == 409


async def test_import_answers_the_first_import_again(client, reviewer, consent, db):
    rows = sample_rows(6)
    other_consent = await authorisation(client, reviewer)

    async def send(extra, variant):
        content = as_csv(sample_rows(6, prefix="OTHER")) if variant == "file" else as_csv(rows)
        return await post_import(
            client,
            reviewer | extra,
            content,
            other_consent if variant == "field" else consent,
            query="?async=true" if variant == "query" else "",
        )

    first = await exactly_once(db, (BackgroundCheck, Person), send, ("file", "field", "query"))
    assert (first.json()["imported"], first.json()["skipped"]) == (6, 0)  # the first answer, not "6 skipped"
    assert await count(db, BackgroundCheck) == 6


async def test_asynchronous_import_queues_one_job(client, reviewer, consent, db):
    content = as_csv(sample_rows(4))

    async def send(extra, variant):
        file = as_csv(sample_rows(4, prefix="OTHER")) if variant == "file" else content
        return await post_import(
            client, reviewer | extra, file, consent, query="" if variant == "query" else "?async=true"
        )

    first = await exactly_once(db, (CheckImportJob, BackgroundCheck), send, ("file", "query"))
    assert first.status_code == 202
    assert await count(db, CheckImportJob) == 1
    done = (await client.get(f"/api/v1/checks/imports/{first.json()['job_id']}", headers=reviewer)).json()
    assert (done["state"], done["imported"]) == ("succeeded", 4)
    assert await count(db, BackgroundCheck) == 4


async def test_departure(client, vendor, db):
    person = await add_person(client, vendor)
    path = f"/api/v1/vendors/{vendor.id}/people/{person['person_id']}/departure"

    async def send(extra, variant):
        body = {"reason": "合同到期"} if variant == "same" else {"reason": "个人原因"}
        return await client.post(path, json=body, headers=vendor.headers | extra)

    first = await exactly_once(db, (Engagement,), send, ("field",), expected=200)
    assert first.json()["current"] is False
    # Without a key the retry finds no current engagement, as before.
    assert (await client.post(path, json={"reason": "合同到期"}, headers=vendor.headers)).status_code == 404


async def test_bar_lift_request_and_each_decision(client, accounts, vendor, reviewer, consent, db):
    from tests.personnel.test_bar_lifts import REASON, _barred, _pending, _province

    _, check_id, lifts = await _barred(client, vendor, reviewer, consent)
    requester = await _province(accounts)

    async def ask(extra, variant):
        body = {"check_id": check_id, "reason": REASON if variant == "same" else "另一个理由"}
        return await client.post(lifts, json=body, headers=requester | extra)

    first = await exactly_once(db, (BarLift,), ask, ("field",))
    assert first.json()["status"] == "pending"
    # Without a key the retry is the conflict it always was.
    assert (
        await client.post(lifts, json={"check_id": check_id, "reason": REASON}, headers=requester)
    ).status_code == 409

    for verb, body, outcome in (
        ("confirm", {}, "confirmed"),
        ("decline", {"reason": "证明不足"}, "declined"),
        ("withdraw", {}, "withdrawn"),
    ):
        _, _, lifts, first_reviewer, second_reviewer, lift = await _pending(client, accounts, vendor, reviewer, consent)
        actor = first_reviewer if verb == "withdraw" else second_reviewer

        async def decide(extra, variant, lifts=lifts, lift=lift, body=body, actor=actor, verb=verb):
            sent = body if variant == "same" else dict(body, reason="其他说明")
            return await client.post(f"{lifts}/{lift['id']}/{verb}", json=sent, headers=actor | extra)

        decided = await exactly_once(db, (BarLift,), decide, ("field",), key=f"{verb}-0001", expected=200)
        assert decided.json()["status"] == outcome, verb
        assert (await decide({}, "same")).status_code == 409, verb  # no key: the lift is no longer pending
