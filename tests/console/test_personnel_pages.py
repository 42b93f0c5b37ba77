"""Reviewer pages for people over HTTP: a vendor's staff, a check result recorded by hand
(the API's rules: consent, scope, audit), and the results import as a job with its
progress fragment and per-row errors."""

from __future__ import annotations

import re

from sqlalchemy import text

from service.personnel import import_jobs
from service.security.actor import Actor, Role
from tests.factories import PDF
from tests.lookup.people_world import RECENT, authorisation, engage
from tests.whitelist.conftest import WhitelistWorld


async def _world(client, accounts, db):
    wl = WhitelistWorld(client, accounts, db)
    vendor = await wl.vendor(name="南昌启明星<b>科技</b>教育服务有限公司")
    person_id, number = await engage(wl, vendor, name="王<i>小明</i>")
    reviewer = await wl.reviewer("360104")
    return wl, vendor, person_id, number, reviewer


async def _events(db, action: str) -> int:
    async with db.transaction() as session:
        return (
            await session.exec(text("SELECT count(*) FROM audit_events WHERE action = :a").bindparams(a=action))
        ).one()[0]


async def test_record_a_check_by_hand_through_the_form(client, accounts, db, signed_in):
    wl, vendor, person_id, number, reviewer = await _world(client, accounts, db)
    consent = await authorisation(client, reviewer)
    browser = await signed_in("reviewer", region_code="360104")

    application = await wl.application(vendor)
    await wl.step(application, vendor.headers, "submit")
    detail = await browser.get(f"/reviewer/applications/{application['id']}")
    assert f'href="/reviewer/people/{person_id}"' in detail.text  # the staff link to their checks
    listing = await browser.get("/reviewer/people", params={"q": "启明星"})
    assert listing.status_code == 200 and "南昌启明星&lt;b&gt;科技&lt;/b&gt;" in listing.text
    roster = await browser.get("/reviewer/people", params={"vendor": vendor.id})
    assert "王&lt;i&gt;小明&lt;/i&gt;" in roster.text and f"/reviewer/people/{person_id}" in roster.text
    assert number not in roster.text  # masked only

    page = await browser.get(f"/reviewer/people/{person_id}")
    assert page.status_code == 200 and "违法犯罪记录查询" in page.text and "未核查" in page.text
    assert consent in page.text  # the region's authorisation is offered

    form = {
        "check_type": "criminal_record",
        "result": "clear",
        "query_date": RECENT,
        "reference": "JX-<b>1</b>",
        "issuing_authority": "南昌市公安局",
        "consent_document_id": consent,
    }
    without = await browser.post(f"/reviewer/people/{person_id}/checks", {**form, "consent_document_id": ""})
    assert without.status_code == 422 and 'id="err-consent_document_id"' in without.text
    assert "JX-&lt;b&gt;1&lt;/b&gt;" in without.text  # the typed values come back, as text
    future = await browser.post(f"/reviewer/people/{person_id}/checks", {**form, "query_date": "2099-01-01"})
    assert future.status_code == 422 and 'id="err-query_date"' in future.text
    assert await _events(db, "personnel:check:record") == 0  # refusals leave no trace

    done = await browser.post(f"/reviewer/people/{person_id}/checks", form)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=1")
    page = await browser.get(done.headers["location"])
    assert "核查结果已记录" in page.text and "无异常" in page.text
    assert await _events(db, "personnel:check:record") == 1

    again = await browser.post(f"/reviewer/people/{person_id}/checks", form)
    assert again.status_code == 409 and "该查询类型下此查询编号已登记" in again.text


async def test_person_pages_of_another_scope_are_404_and_forms_need_the_token(client, accounts, db, signed_in):
    wl, vendor, person_id, _, reviewer = await _world(client, accounts, db)
    consent = await authorisation(client, reviewer)
    elsewhere = await signed_in("reviewer", region_code="360402")
    assert (await elsewhere.get(f"/reviewer/people/{person_id}")).status_code == 404
    assert (await elsewhere.get("/reviewer/people", params={"vendor": vendor.id})).status_code == 404
    form = {
        "check_type": "criminal_record",
        "result": "clear",
        "query_date": RECENT,
        "reference": "JX-9",
        "issuing_authority": "南昌市公安局",
        "consent_document_id": consent,
    }
    assert (await elsewhere.post(f"/reviewer/people/{person_id}/checks", form)).status_code == 404
    school = await signed_in("school", region_code="360104", school_code="3601040009")
    assert (await school.get(f"/reviewer/people/{person_id}")).status_code == 404

    browser = await signed_in("reviewer", region_code="360104")
    await browser.get(f"/reviewer/people/{person_id}")
    forged = await browser.http.post(f"/reviewer/people/{person_id}/checks", data=form)
    assert forged.status_code == 403
    forged = await browser.http.post("/reviewer/imports", files={"file": ("r.csv", b"x", "text/csv")})
    assert forged.status_code == 403
    assert await _events(db, "personnel:check:record") == 0


RESULTS_CSV = "身份证号,姓名,查询类型,查询结果,查询日期,查询编号\n{number},王<i>小明</i>,违法犯罪记录查询,无犯罪记录,{day},R-{n}\n"


async def test_import_runs_as_a_job_with_progress_and_row_errors(client, accounts, db, signed_in):
    wl, vendor, person_id, number, reviewer = await _world(client, accounts, db)
    browser = await signed_in("reviewer", region_code="360104")
    page = await browser.get("/reviewer/imports")
    assert page.status_code == 200 and "本辖区还没有授权文件" in page.text
    # The authorisation's region is picked from the reviewer's own (a county: itself only).
    assert '<option value="">本辖区（默认）</option><option value="360104" >青云谱区</option></select>' in page.text

    bad_auth = await browser.post(
        "/reviewer/authorisations", {"title": ""}, files={"file": ("授权.pdf", PDF, "application/pdf")}
    )
    assert bad_auth.status_code == 422 and 'id="err-title"' in bad_auth.text
    made = await browser.post(
        "/reviewer/authorisations", {"title": "公安<b>授权</b>函"}, files={"file": ("授权.pdf", PDF, "application/pdf")}
    )
    assert made.status_code == 303
    page = await browser.get("/reviewer/imports")
    consent = re.search(r'<option value="([0-9a-f-]{36})"', page.text).group(1)
    assert "公安&lt;b&gt;授权&lt;/b&gt;函" in page.text

    no_consent = await browser.post(
        "/reviewer/imports", {"consent_document_id": ""}, files={"file": ("r.csv", b"a,b\n", "text/csv")}
    )
    assert no_consent.status_code == 422 and 'id="err-consent_document_id"' in no_consent.text

    # A file with a bad row: the job fails, nothing is stored, each error has its row and column.
    broken = (
        RESULTS_CSV.format(number=number, day=RECENT, n=1) + "12345,李四,违法犯罪记录查询,无犯罪记录,2025-13-01,R-2\n"
    )
    started = await browser.post(
        "/reviewer/imports", {"consent_document_id": consent}, files={"file": ("结果.csv", broken.encode(), "text/csv")}
    )
    assert started.status_code == 303
    job_path = started.headers["location"]
    job = await browser.get(job_path)  # the background task ran with the request (ASGI transport)
    assert job.status_code == 200 and "未导入" in job.text
    errors = job.text.split('data-testid="row-errors"')[1]
    assert "第 3 行" in errors and "身份证号" in errors and "查询日期" in errors
    assert await _events(db, "personnel:check:import") == 0

    good = await browser.post(
        "/reviewer/imports",
        {"consent_document_id": consent},
        files={"file": ("结果.csv", RESULTS_CSV.format(number=number, day=RECENT, n=3).encode(), "text/csv")},
    )
    job = await browser.get(good.headers["location"])
    assert "导入完成：新增 1 条" in job.text and 'value="100"' in job.text and "hx-trigger" not in job.text
    listing = await browser.get("/reviewer/imports")
    assert listing.text.count("/reviewer/imports/") >= 2 and "新增 1 条" in listing.text
    person = await browser.get(f"/reviewer/people/{person_id}")
    assert "无异常" in person.text

    # While a job runs, its fragment polls itself; an HTMX request gets the fragment only.
    actor = Actor(role=Role.REVIEWER, account_id=await _account_id(db, browser.login), region_code="360104")
    queued = (
        await import_jobs.create_import_job(
            db, actor, filename="大文件.csv", sha256="0" * 64, consent_document_id=__import__("uuid").UUID(consent)
        )
    ).value
    full = await browser.get(f"/reviewer/imports/{queued.id}")
    assert "排队中" in full.text and 'hx-trigger="every 1s"' in full.text and "<progress" in full.text
    fragment = await browser.get(f"/reviewer/imports/{queued.id}", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="import-progress"') and "<html" not in fragment.text

    elsewhere = await signed_in("reviewer", region_code="360402")
    assert (await elsewhere.get(job_path)).status_code == 404


async def _account_id(db, login: str):
    async with db.transaction() as session:
        return (await session.exec(text("SELECT id FROM accounts WHERE login = :l").bindparams(l=login))).one()[0]
