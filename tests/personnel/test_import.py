"""Bulk import of background-check results: all or nothing, idempotent, every format."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import openpyxl
import pytest
from litestar.datastructures import UploadFile
from sqlmodel import select

from service import timeutil
from service.audit import merkle
from service.audit.models import AuditEvent
from service.personnel.import_records import record_canonical, record_document
from service.personnel.models import BackgroundCheck, CheckImport, CheckImportJob, Person
from tests.factories import credit_code
from tests.personnel.conftest import add_person, authorisation, count, new_id_number

HEADER = ["身份证号", "姓名", "查询类型", "查询结果", "查询日期", "查询编号", "有效期至"]


def sample_rows(n: int, *, prefix: str = "IMP") -> list[list[str]]:
    """n rows: two police checks per person, dated yesterday, a few with a printed expiry."""
    day = timeutil.today_in_china() - timedelta(days=1)
    rows = []
    for i in range(n):
        if i % 2 == 0:
            number, name = new_id_number(), f"测试{i // 2}号"
        kind = "违法犯罪记录查询" if i % 2 == 0 else "性侵违法犯罪信息入职查询"
        until = str(day + timedelta(days=200)) if i % 10 == 0 else ""
        rows.append([number, name, kind, "无犯罪记录", str(day), f"{prefix}-{i:06d}", until])
    return rows


def as_csv(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def as_xlsx(rows, header=HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def post_import(client, headers, content, consent, filename="results.csv", query="", **form):
    data = {"consent_document_id": consent, **form} if consent else form
    return await client.post(
        f"/api/v1/checks/import{query}",
        headers=headers,
        data=data,
        files={"file": (filename, content, "application/octet-stream")},
    )


async def stored(db) -> tuple[int, int, int]:
    async with db.transaction() as session:
        imported_events = len(
            (await session.exec(select(AuditEvent.id).where(AuditEvent.action == "personnel:check:import"))).all()
        )
    return await count(db, Person), await count(db, BackgroundCheck), imported_events


async def test_an_import_stores_people_checks_and_one_audit_event_committing_to_every_record(
    client, reviewer, consent, db
):
    """One event per import (was one per record): it states the file's SHA-256 and the
    Merkle root over the records' canonical forms, each record keeping its leaf index."""
    rows = sample_rows(40)
    content = as_csv(rows)
    response = await post_import(client, reviewer, content, consent)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows"], body["imported"], body["skipped"], body["people_created"], body["errors"]) == (
        40,
        40,
        0,
        20,
        [],
    )
    assert await stored(db) == (20, 40, 1)
    async with db.transaction() as session:
        events = (await session.exec(select(AuditEvent).where(AuditEvent.action == "personnel:check:import"))).all()
        checks = {str(c.id): c for c in (await session.exec(select(BackgroundCheck))).all()}
        people = {p.id: p for p in (await session.exec(select(Person))).all()}
    (event,) = events
    assert (event.object_type, event.object_id) == ("check_import", body["import_id"])
    document = json.loads(event.canonical)
    changes = {k: v["after"] for k, v in document["changes"].items()}
    assert changes["file_sha256"] == hashlib.sha256(content).hexdigest()
    assert (changes["records"], changes["rows"], changes["skipped"], changes["people_created"]) == (40, 40, 0, 20)
    assert changes["file_sha256"] in document["evidence"] and document["actor"]["role"] == "reviewer"
    ordered = sorted(checks.values(), key=lambda c: c.import_leaf)
    assert [c.import_leaf for c in ordered] == list(range(40))
    assert [c.reference for c in ordered] == [row[5] for row in rows]  # leaves in file order
    leaves = [
        merkle.leaf_hash(
            record_canonical(
                record_document(
                    import_id=body["import_id"],
                    index=c.import_leaf,
                    check_id=str(c.id),
                    person_id=str(c.person_id),
                    id_number_masked=people[c.person_id].id_number_masked,
                    check_type=c.check_type,
                    result=c.result,
                    query_date=c.query_date,
                    reference=c.reference,
                    issuing_authority=c.issuing_authority,
                    valid_until=c.valid_until,
                    consent_document_id=str(c.consent_document_id),
                )
            )
        )
        for c in ordered
    ]
    assert changes["records_root"] == merkle.root_from_leaves(leaves).hex()
    trail = event.canonical.decode()
    assert all(row[0] not in trail and row[1] not in trail for row in rows)
    assert all(c.consent_document_id == ordered[0].consent_document_id and c.import_id for c in checks.values())
    # Each number was encrypted (a chunk's nonces from one random read) and reads back.
    numbers = {row[1]: row[0] for row in rows}
    for person in people.values():
        read = await client.get(f"/api/v1/people/{person.id}/id-number", headers=reviewer)
        assert read.status_code == 200 and read.json()["id_number"] == numbers[person.name], read.text
    tokens = [bytes(p.id_number_ciphertext) for p in people.values()]
    nonces = {t[2 + t[1] : 2 + t[1] + 12] for t in tokens}  # after the version, key id length and key id
    assert len(nonces) == len(tokens)  # never one nonce twice


async def test_one_bad_row_among_a_thousand_stores_nothing_and_names_the_row(client, reviewer, consent, db):
    rows = sample_rows(1000)
    rows[636][0] = rows[636][0][:-1] + ("0" if rows[636][0][-1] != "0" else "1")  # check digit broken
    response = await post_import(client, reviewer, as_csv(rows), consent)
    assert response.status_code == 422
    body = response.json()
    assert body["imported"] == 0 and body["error"]["code"] == "import_rejected"
    assert body["errors"] == [
        {"row": 638, "column": "id_number", "code": "invalid_id_number", "message": body["errors"][0]["message"]}
    ]  # header is row 1
    assert body["error"]["details"][0]["row"] == 638
    assert rows[636][0] not in response.text
    assert await stored(db) == (0, 0, 0)


async def test_every_problem_is_listed_with_row_and_column(client, reviewer, consent, db):
    rows = sample_rows(8)
    rows[0][1] = ""
    rows[1][2] = "星座查询"
    rows[2][3] = "还行"
    rows[3][4] = "2026-02-30"
    rows[4][6] = "2000-01-01"
    rows[6][2], rows[6][5] = rows[5][2], rows[5][5]  # the same type and reference twice
    response = await post_import(client, reviewer, as_csv(rows), consent)
    assert response.status_code == 422
    found = {(e["row"], e["column"], e["code"]) for e in response.json()["errors"]}
    assert found == {
        (2, "name", "required"),
        (3, "check_type", "invalid_check_type"),
        (4, "result", "invalid_result"),
        (5, "query_date", "invalid_date"),
        (6, "valid_until", "invalid_validity"),
        (8, "reference", "duplicate_reference"),
    }
    assert response.json()["errors_total"] == 6
    assert await stored(db) == (0, 0, 0)


async def test_missing_columns_are_reported_on_the_header_row(client, reviewer, consent):
    response = await post_import(client, reviewer, as_csv(sample_rows(2), header=["身份证号", "姓名", "结果"]), consent)
    assert response.status_code == 422
    assert {(e["row"], e["column"], e["code"]) for e in response.json()["errors"]} == {
        (1, "check_type", "missing_column"),
        (1, "query_date", "missing_column"),
        (1, "reference", "missing_column"),
    }


async def test_reimporting_the_same_file_adds_nothing(client, reviewer, consent, db):
    content = as_csv(sample_rows(300))
    first = await post_import(client, reviewer, content, consent)
    assert first.json()["imported"] == 300
    before = await stored(db)
    again = await post_import(client, reviewer, content, consent)
    assert again.status_code == 201
    assert (again.json()["imported"], again.json()["skipped"], again.json()["people_created"]) == (0, 300, 0)
    assert await stored(db) == before


async def test_gb18030_and_xlsx_import_exactly_as_utf8(client, reviewer, consent, db):
    rows = sample_rows(120)
    utf8 = await post_import(client, reviewer, as_csv(rows), consent)
    assert utf8.json()["imported"] == 120
    snapshot = await stored(db)
    # The same rows in the other formats are recognised as already imported, field for
    # field: a different name, type, result or date would be a name_mismatch or
    # reference_conflict error instead.
    for content, filename in (
        (as_csv(rows, encoding="gb18030"), "results.csv"),
        (as_csv(rows, encoding="utf-8"), "results.csv"),
        (as_xlsx(rows), "results.xlsx"),
    ):
        response = await post_import(client, reviewer, content, consent, filename=filename)
        assert response.status_code == 201, response.text
        assert (response.json()["imported"], response.json()["skipped"]) == (0, 120)
    assert await stored(db) == snapshot


@pytest.mark.parametrize("encode", [lambda rows: as_csv(rows, encoding="gb18030"), as_xlsx])
async def test_gb18030_and_xlsx_files_import_on_their_own(client, reviewer, consent, db, encode):
    rows = sample_rows(30)
    response = await post_import(client, reviewer, encode(rows), consent)
    assert response.status_code == 201, response.text
    async with db.transaction() as session:
        names = set((await session.exec(select(Person.name))).all())
    assert names == {row[1] for row in rows}


@pytest.mark.parametrize("query", ["", "?async=true"])
async def test_a_large_upload_is_read_from_where_it_was_spooled_never_whole(
    client, reviewer, consent, db, monkeypatch, query
):
    """Past 1 MB an upload is spooled to disk as it arrives; the import hashes it and
    decodes it from there a block at a time (here GB18030, told by a character well past
    the first block), at once or in the job after the answer, and never reads it whole."""
    rows = sample_rows(16_000, prefix="SPOOL")
    for i, row in enumerate(rows):
        row[1], row[2], row[3] = f"Tester {i // 2}", ["criminal_record", "sexual_offence_entry_query"][i % 2], "clear"
    rows[-1][1] = rows[-2][1] = "测试末位"
    content = as_csv(
        rows,
        header=["id_number", "name", "check_type", "result", "query_date", "reference", "valid_until"],
        encoding="gb18030",
    )
    assert len(content) > 1024 * 1024 and content.index("测".encode("gb18030")) > 1024 * 1024

    async def read_whole(*args, **kwargs):
        raise AssertionError("the upload was read into memory")

    monkeypatch.setattr(UploadFile, "read", read_whole)
    response = await post_import(client, reviewer, content, consent, query=query)
    assert response.status_code in (201, 202), response.text
    async with db.transaction() as session:
        imports = (await session.exec(select(CheckImport))).all()
        names = set((await session.exec(select(Person.name))).all())
    assert [(i.records, i.file_sha256) for i in imports] == [(16_000, hashlib.sha256(content).hexdigest())]
    assert "测试末位" in names and len(names) == 8_000


async def test_xlsx_dates_and_english_headers_and_aliases(client, reviewer, consent, db):
    day = timeutil.today_in_china() - timedelta(days=3)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["ID_Number", "Name", "check_type", "result", "query_date", "reference", "valid_until", "备注"])
    sheet.append([new_id_number(), "周敏", "health_certificate", "合格", day, 20260001, None, "x"])
    sheet.append(
        [new_id_number().lower(), "吴刚", "师德考察", "pending", day.strftime("%Y年%m月%d日"), "C-2", None, ""]
    )
    sheet.append([None, None, None, None, None, None, None, None])  # blank rows are skipped
    out = io.BytesIO()
    workbook.save(out)
    response = await post_import(
        client, reviewer, out.getvalue(), consent, filename="r.xlsx", issuing_authority="南昌市卫生健康委员会"
    )
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 2
    async with db.transaction() as session:
        checks = sorted((await session.exec(select(BackgroundCheck))).all(), key=lambda c: c.reference)
    assert [(c.check_type, c.result, c.reference, c.query_date, c.issuing_authority) for c in checks] == [
        ("health_certificate", "clear", "20260001", day, "南昌市卫生健康委员会"),
        ("conduct_reference", "pending", "C-2", day, "南昌市卫生健康委员会"),
    ]


async def test_xlsx_rows_are_numbered_as_in_the_file_and_a_broken_file_is_refused(client, reviewer, consent, db):
    rows = sample_rows(4)
    rows[2][4] = "not a date"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([])  # a blank first row, and a blank first column: the sheet starts at B2
    sheet.append([None, *HEADER])
    for row in rows:
        sheet.append([None, *row])
    out = io.BytesIO()
    workbook.save(out)
    response = await post_import(client, reviewer, out.getvalue(), consent, filename="r.xlsx")
    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(5, "query_date")]
    broken = await post_import(client, reviewer, b"PK\x03\x04" + b"\x00" * 64, consent, filename="r.xlsx")
    assert broken.status_code == 422 and broken.json()["errors"][0]["code"] == "unreadable_file"
    assert await stored(db) == (0, 0, 0)


async def test_numbers_stored_as_spreadsheet_numbers_are_refused(client, reviewer, consent):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([float("360102199001011234"), "钱多", "违法犯罪记录查询", "无犯罪记录", "2026-01-01", "N-1", ""])
    out = io.BytesIO()
    workbook.save(out)
    response = await post_import(client, reviewer, out.getvalue(), consent, filename="r.xlsx")
    assert response.status_code == 422
    assert response.json()["errors"][0]["column"] == "id_number" and "文本" in response.json()["errors"][0]["message"]


async def test_a_name_that_does_not_match_the_recorded_person_is_an_error(client, vendor, reviewer, consent, db):
    number = new_id_number()
    await add_person(client, vendor, id_number=number, name="郑爽")
    rows = sample_rows(4)
    rows[2][0], rows[2][1] = number, "郑双"
    response = await post_import(client, reviewer, as_csv(rows), consent)
    assert response.status_code == 422
    assert [(e["row"], e["column"], e["code"]) for e in response.json()["errors"]] == [(4, "name", "name_mismatch")]
    assert await stored(db) == (1, 0, 0)
    rows[2][1] = "郑爽"
    ok = await post_import(client, reviewer, as_csv(rows), consent)
    assert ok.status_code == 201 and ok.json()["people_created"] == 2  # the known person was linked, not re-created


async def test_a_reference_already_recorded_with_other_content_is_a_conflict(client, reviewer, consent, db):
    recorded = sample_rows(2)
    assert (await post_import(client, reviewer, as_csv(recorded), consent)).status_code == 201
    rows = [list(r) for r in recorded]
    rows[0][3] = "有犯罪记录"
    response = await post_import(client, reviewer, as_csv(rows), consent)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "reference_conflict"
    # Nor is another validity or issuing authority under the same reference skipped silently.
    rows = [list(r) for r in recorded]
    rows[1][6] = str(timeutil.today_in_china() + timedelta(days=30))
    refused = await post_import(client, reviewer, as_csv(rows), consent)
    assert refused.status_code == 422
    assert [(e["row"], e["code"]) for e in refused.json()["errors"]] == [(3, "reference_conflict")]
    other = await post_import(client, reviewer, as_csv(recorded), consent, issuing_authority="南昌市公安局")
    assert other.status_code == 422 and {e["code"] for e in other.json()["errors"]} == {"reference_conflict"}
    again = await post_import(client, reviewer, as_csv(recorded), consent)
    assert again.status_code == 201 and again.json()["imported"] == 0
    assert await stored(db) == (1, 2, 1)  # one event: the import


async def test_an_import_needs_the_bureaus_authorisation(client, accounts, vendor, reviewer, db):
    content = as_csv(sample_rows(2))
    missing = await post_import(client, reviewer, content, None)
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "consent_required"
    person = await add_person(client, vendor)
    personal = await client.post(
        f"/api/v1/people/{person['person_id']}/consents",
        headers=vendor.headers,
        files={"file": ("a.pdf", b"%PDF-1.4 x", "application/pdf")},
    )
    wrong_kind = await post_import(client, reviewer, content, personal.json()["id"])
    assert wrong_kind.status_code == 422 and wrong_kind.json()["error"]["code"] == "invalid_consent_document"
    elsewhere = await authorisation(client, await accounts.headers("reviewer", region_code="360400"))
    assert (await post_import(client, reviewer, content, elsewhere)).status_code == 422
    malformed = await post_import(client, reviewer, content, "not-a-uuid")
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "invalid_uuid"
    for role, scope in (
        ("vendor", {"vendor_credit_code": credit_code()}),
        ("admin", {}),
        ("auditor", {"region_code": "360100"}),
    ):
        other = await accounts.headers(role, **scope)
        assert (await post_import(client, other, content, "x")).status_code == 403
    assert await stored(db) == (1, 0, 0)


async def test_imported_people_are_visible_to_reviewers_of_the_importing_region(
    client, accounts, reviewer, consent, db
):
    await post_import(client, reviewer, as_csv(sample_rows(2)), consent)
    async with db.transaction() as session:
        person_id = (await session.exec(select(Person.id))).one()
    city = await accounts.headers("reviewer", region_code="360100")
    view = await client.get(f"/api/v1/people/{person_id}", headers=city)
    assert view.status_code == 200
    assert view.json()["clearance"] == "pending"  # two of the five mandatory checks
    assert {c["check_type"] for c in view.json()["checks"] if c["status"] == "present"} == {
        "criminal_record",
        "sexual_offence_entry_query",
    }
    other_city = await accounts.headers("reviewer", region_code="360400")
    assert (await client.get(f"/api/v1/people/{person_id}", headers=other_city)).status_code == 404


async def test_asynchronous_import_reports_progress_and_outcome(client, accounts, reviewer, consent, db):
    response = await post_import(client, reviewer, as_csv(sample_rows(12_000)), consent, query="?async=true")
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] == "queued"
    done = (await client.get(f"/api/v1/checks/imports/{job['job_id']}", headers=reviewer)).json()
    assert (done["state"], done["rows_total"], done["rows_validated"], done["rows_stored"], done["imported"]) == (
        "succeeded",
        12_000,
        12_000,
        12_000,
        12_000,
    )
    async with db.transaction() as session:
        stored_job = await session.get(CheckImportJob, job["job_id"])
        import_ids = set((await session.exec(select(BackgroundCheck.import_id))).all())
    assert stored_job.finished_at is not None and {str(i) for i in import_ids} == {job["job_id"]}
    outsider = await accounts.headers("reviewer", region_code="360400")
    assert (await client.get(f"/api/v1/checks/imports/{job['job_id']}", headers=outsider)).status_code == 404


async def test_a_failed_asynchronous_import_stores_nothing_and_keeps_its_errors(client, reviewer, consent, db):
    rows = sample_rows(8_000)
    rows[7_000][4] = "昨天"
    response = await post_import(client, reviewer, as_csv(rows), consent, query="?async=true")
    assert response.status_code == 202
    done = (await client.get(f"/api/v1/checks/imports/{response.json()['job_id']}", headers=reviewer)).json()
    assert (done["state"], done["imported"], done["rows_stored"], done["errors_total"]) == ("failed", 0, 0, 1)
    assert done["errors"] == [
        {"row": 7002, "column": "query_date", "code": "invalid_date", "message": done["errors"][0]["message"]}
    ]
    assert await stored(db) == (0, 0, 0)
    no_consent = await post_import(client, reviewer, as_csv(rows), None, query="?async=true")
    assert no_consent.status_code == 422 and await count(db, CheckImportJob) == 1


async def test_concurrent_imports_of_one_file_store_each_record_once(client, reviewer, consent, db):
    import asyncio

    content = as_csv(sample_rows(6_000))
    first, second = await asyncio.gather(
        post_import(client, reviewer, content, consent), post_import(client, reviewer, content, consent)
    )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses in ([201, 201], [201, 409]), (first.text[:300], second.text[:300])
    imported = sum(r.json().get("imported", 0) for r in (first, second))
    assert imported == 6_000
    if statuses == [201, 409]:
        loser = first if first.status_code == 409 else second
        assert loser.json()["error"]["code"] == "concurrent_change"
    assert await stored(db) == (3_000, 6_000, 1)  # one event: the import that stored them
    retried = await post_import(client, reviewer, content, consent)
    assert (retried.json()["imported"], retried.json()["skipped"]) == (0, 6_000)


async def _job(db, state: str, created_ago: timedelta = timedelta(0)) -> str:
    async with db.transaction() as session:
        job = CheckImportJob(
            state=state,
            filename="a.csv",
            sha256="0" * 64,
            region_code="360104",
            created_at=timeutil.utcnow() - created_ago,
        )
        session.add(job)
        await session.flush()
        return str(job.id)


async def test_a_job_whose_worker_died_is_reported_interrupted_and_a_live_one_is_not(client, reviewer, db):
    from uuid import UUID

    from service.personnel.import_jobs import working_on

    dead = await _job(db, "running")  # what a worker killed mid-import leaves behind
    live = await _job(db, "running")
    fresh = await _job(db, "queued")
    lost = await _job(db, "queued", created_ago=timedelta(minutes=10))
    async with working_on(db, UUID(live)):
        seen = {
            job: (await client.get(f"/api/v1/checks/imports/{job}", headers=reviewer)).json()
            for job in (dead, live, fresh, lost)
        }
    assert {job: body["state"] for job, body in seen.items()} == {
        dead: "failed",
        live: "running",
        fresh: "queued",
        lost: "failed",
    }
    for job in (dead, lost):
        assert [e["code"] for e in seen[job]["errors"]] == ["import_interrupted"]
        assert seen[job]["finished_at"] is not None and seen[job]["rows_stored"] == 0
    async with db.transaction() as session:
        assert (await session.get(CheckImportJob, UUID(dead))).state == "failed"  # final, not re-derived
    assert (await client.get(f"/api/v1/checks/imports/{live}", headers=reviewer)).json()["state"] == "failed"
