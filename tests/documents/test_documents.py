"""Qualification documents: upload checks, content addressing, download, status."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from service.documents.models import Document
from service.documents.services import document_status
from tests.factories import JPEG, PDF, PNG, document_form, vendor_payload


@pytest.fixture
async def vendor(client, accounts):
    payload = vendor_payload()
    headers = await accounts.headers("vendor", vendor_credit_code=payload["credit_code"])
    created = await client.post("/api/v1/vendors", json=payload, headers=headers)
    return {"id": created.json()["id"], "headers": headers}


def upload(client, vendor, content, filename="licence.pdf", **form):
    return client.post(
        f"/api/v1/vendors/{vendor['id']}/documents",
        headers=vendor["headers"],
        data=document_form(**form),
        files={"file": (filename, content, "application/octet-stream")},
    )


async def stored_documents(db) -> int:
    async with db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(Document))).one()[0]


@pytest.mark.parametrize("content,content_type", [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")])
async def test_accepted_types_are_recognised_by_content(client, vendor, content, content_type):
    response = await upload(client, vendor, content, filename="scan.bin")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == content_type
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["size"] == len(content)
    assert body["status"] == "valid"


async def test_a_file_whose_extension_lies_is_415(client, vendor, db):
    response = await upload(client, vendor, b"MZ\x90\x00 not a pdf at all", filename="licence.pdf")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_file_type"
    assert await stored_documents(db) == 0


async def test_too_large_is_413(client, vendor, db, settings):
    too_big = PDF + b"0" * settings.max_upload_bytes
    response = await upload(client, vendor, too_big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] in {"file_too_large", "payload_too_large"}
    assert await stored_documents(db) == 0


async def test_size_limit_is_configurable(db, tmp_path, accounts):
    import httpx

    from service.app import create_app
    from service.config import Settings

    app = create_app(Settings(data_dir=tmp_path, max_upload_bytes=1024, log_format="json"), db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as small:
        payload = vendor_payload()
        headers = await accounts.headers("vendor", vendor_credit_code=payload["credit_code"])
        vendor_id = (await small.post("/api/v1/vendors", json=payload, headers=headers)).json()["id"]
        vendor = {"id": vendor_id, "headers": headers}
        assert (await upload(small, vendor, PDF + b"0" * 900)).status_code == 201
        response = await upload(small, vendor, PDF + b"0" * 1100)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "file_too_large"


async def test_validity_dates_must_be_ordered(client, vendor, db):
    response = await upload(client, vendor, PDF, valid_from="2025-06-01", valid_until="2025-05-31")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "valid_until"
    assert await stored_documents(db) == 0


async def test_bad_date_and_type_are_422(client, vendor, db):
    bad_date = await upload(client, vendor, PDF, valid_from="2025-13-01")
    assert bad_date.status_code == 422
    assert bad_date.json()["error"]["details"][0] == {
        "field": "valid_from",
        "code": "invalid_date",
        "message": bad_date.json()["error"]["message"],
    }
    bad_type = await upload(client, vendor, PDF, doc_type="passport")
    assert bad_type.status_code == 422
    assert bad_type.json()["error"]["code"] == "invalid_doc_type"
    assert await stored_documents(db) == 0


async def test_identical_files_are_stored_once(client, vendor, settings):
    first = (await upload(client, vendor, PNG)).json()
    second = (await upload(client, vendor, PNG, number="NC-2024-002")).json()
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    stored = [p for p in settings.files_dir.rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [first["sha256"]]


async def test_list_metadata_and_download(client, vendor):
    created = (await upload(client, vendor, PDF, filename="营业执照 副本.pdf")).json()
    listed = (await client.get(f"/api/v1/vendors/{vendor['id']}/documents", headers=vendor["headers"])).json()
    assert [d["id"] for d in listed["items"]] == [created["id"]]
    meta = await client.get(f"/api/v1/vendors/{vendor['id']}/documents/{created['id']}", headers=vendor["headers"])
    assert meta.json()["number"] == "NC-2024-001"
    download = await client.get(
        f"/api/v1/vendors/{vendor['id']}/documents/{created['id']}/file", headers=vendor["headers"]
    )
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("''", 1)[1]) == "营业执照 副本.pdf"


async def test_other_vendors_documents_are_404(client, vendor, accounts):
    created = (await upload(client, vendor, PDF)).json()
    other_payload = vendor_payload()
    other = await accounts.headers("vendor", vendor_credit_code=other_payload["credit_code"])
    await client.post("/api/v1/vendors", json=other_payload, headers=other)
    base = f"/api/v1/vendors/{vendor['id']}/documents"
    for path in (base, f"{base}/{created['id']}", f"{base}/{created['id']}/file"):
        response = await client.get(path, headers=other)
        assert response.status_code == 404, path
    out_of_region = await accounts.headers("reviewer", region_code="360402")
    assert (await client.get(base, headers=out_of_region)).status_code == 404
    assert (await upload(client, {"id": vendor["id"], "headers": other}, PDF)).status_code == 404


def test_status_is_derived_from_dates_at_read_time():
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # 20:00 in China
    start = date(2020, 1, 1)
    assert document_status(start, date(2026, 6, 1), at) == "valid"
    assert document_status(start, date(2026, 3, 31), at) == "expiring"
    assert document_status(start, date(2026, 3, 1), at) == "expiring"  # last valid day
    assert document_status(start, date(2026, 2, 28), at) == "expired"
    # Expiry starts at midnight in China: 16:00 UTC on the last valid day.
    last_day = date(2026, 3, 1)
    assert document_status(start, last_day, datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC)) == "expiring"
    assert document_status(start, last_day, datetime(2026, 3, 1, 16, 0, 0, tzinfo=UTC)) == "expired"
    assert document_status(start, last_day + timedelta(days=31), at) == "valid"
    # Validity starts at midnight in China on the first valid day (16:00 UTC the day before).
    first_day = date(2026, 3, 2)
    assert document_status(first_day, date(2027, 1, 1), at) == "not_yet_valid"
    assert document_status(first_day, date(2027, 1, 1), datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC)) == "not_yet_valid"
    assert document_status(first_day, date(2027, 1, 1), datetime(2026, 3, 1, 16, 0, 0, tzinfo=UTC)) == "valid"
    assert document_status(start, None, at) == "valid"  # no end
