"""The objection form on the public notice board, over HTTP: the same front door, the
same audit event and the same refusals as the API's objection, in words."""

from __future__ import annotations

from sqlalchemy import text

from tests.whitelist.conftest import WhitelistWorld

REASON = "该机构曾被家长投诉存在超额收费情况"


async def noticed(client, accounts, db):
    wl = WhitelistWorld(client, accounts, db)
    vendor = await wl.vendor()
    county, city = await wl.reviewer("360104"), await wl.reviewer("360100")
    return wl, vendor, await wl.to_public_notice(vendor, county, city)


def form_path(app: dict) -> str:
    return f"/public/notices/{app['id']}/objection"


async def test_a_school_objects_from_the_board_and_the_notice_pauses(client, accounts, db, signed_in, new_browser):
    wl, vendor, app = await noticed(client, accounts, db)
    board = await new_browser().get("/public/notices")
    assert (
        f'href="{form_path(app)}"' in board.text and app["number"] in board.text and f">{app['id']}<" not in board.text
    )
    signed_out = await new_browser().get(form_path(app))
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/?next=" + form_path(app)

    school = await signed_in("school", region_code="360104", school_code="2136010401")
    form = await school.get(form_path(app))
    assert form.status_code == 200 and vendor.name in form.text and app["number"] in form.text
    assert 'for="f-reason"' in form.text and 'maxlength="2000"' in form.text and "公示截止" in form.text
    done = await school.post(form_path(app), {"reason": REASON})
    assert done.status_code == 303 and done.headers["location"] == form_path(app) + "/filed"
    filed = await school.get(done.headers["location"])
    assert filed.status_code == 200 and "公示已暂停" in filed.text and app["number"] in filed.text

    assert "因异议暂停公示" in (await new_browser().get("/public/notices")).text
    stage = (await wl.sql("SELECT stage FROM applications WHERE id = CAST(:id AS uuid)", id=app["id"])).one()[0]
    assert stage == "objection_review"
    # The same objection through the API, on another notice: the same events, by the same roles.
    other = await wl.vendor()
    api_app = await wl.to_public_notice(other, await wl.reviewer("360104"), await wl.reviewer("360100"))
    token = await accounts.headers("school", region_code="360104", school_code="2136010402")
    by_api = await client.post(
        f"/api/v1/applications/{api_app['id']}/objections", json={"reason": REASON}, headers=token
    )
    assert by_api.status_code == 201, by_api.text
    page_events, api_events = await _objection_events(wl, app["id"]), await _objection_events(wl, api_app["id"])
    assert page_events == api_events
    assert [e[0] for e in page_events] == [
        "applications:objection:file",
        "applications:application:pause_for_objection",
    ]
    assert page_events[0][1:] == ("school", REASON)


async def _objection_events(wl, application_id: str) -> list[tuple]:
    """The objection's and the pause's audit events of one application, without ids or times."""
    rows = await wl.sql(
        "SELECT action, actor_role, convert_from(canonical, 'UTF8')::jsonb->>'reason' FROM audit_events"
        " WHERE (action = 'applications:objection:file' AND object_id IN"
        "   (SELECT CAST(id AS text) FROM objections WHERE application_id = CAST(:id AS uuid)))"
        " OR (action = 'applications:application:pause_for_objection' AND object_id = :id)"
        " ORDER BY id",
        id=application_id,
    )
    return [tuple(r) for r in rows.all()]


async def test_the_form_is_refused_without_its_csrf_token(client, accounts, db, signed_in):
    _, _, app = await noticed(client, accounts, db)
    school = await signed_in("school", region_code="360104", school_code="2136010401")
    refused = await school.http.post(form_path(app), data={"reason": REASON})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert await _objections(db) == 0


async def test_an_empty_reason_is_said_next_to_the_field(client, accounts, db, signed_in):
    _, _, app = await noticed(client, accounts, db)
    school = await signed_in("school", region_code="360104", school_code="2136010401")
    await school.get(form_path(app))
    answer = await school.post(form_path(app), {"reason": "   "})
    assert answer.status_code == 422 and 'id="err-reason"' in answer.text and "请填写理由" in answer.text
    assert await _objections(db) == 0


async def test_the_applicant_vendor_is_told_it_cannot_object_to_its_own(client, accounts, db, signed_in):
    _, vendor, app = await noticed(client, accounts, db)
    own = await signed_in("vendor", vendor_credit_code=vendor.credit_code)
    await own.get(form_path(app))
    answer = await own.post(form_path(app), {"reason": REASON})
    assert answer.status_code == 403 and "申请机构不能对本机构的申请提出异议" in answer.text
    assert REASON in answer.text  # what was typed is kept
    assert await _objections(db) == 0


async def test_a_closed_notice_takes_no_objection(client, accounts, db, signed_in):
    wl, _, app = await noticed(client, accounts, db)
    school = await signed_in("school", region_code="360104", school_code="2136010401")
    await school.get(form_path(app))
    await wl.end_notice_now(app["id"])
    answer = await school.post(form_path(app), {"reason": REASON})
    assert answer.status_code == 409 and "公示已经结束" in answer.text and 'name="reason"' not in answer.text
    assert await _objections(db) == 0
    assert (await school.get(form_path(app))).status_code == 409


async def _objections(db) -> int:
    async with db.transaction() as session:
        return (await session.exec(text("SELECT count(*) FROM objections"))).one()[0]
