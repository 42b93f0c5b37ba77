"""A school's timetable: its numbers on a crafted week, filing only when it conforms,
publishing, the public view, and the bureau's list of schools that have not published."""

from __future__ import annotations

from datetime import time

from service.timetables.rules import Slot, week_numbers
from tests.printing.pdfcheck import assert_sound


def _session(weekday, start, end, category, content="作业辅导", teacher="王老师"):
    return {
        "weekday": weekday,
        "start_time": start,
        "end_time": end,
        "category_code": category,
        "content": content,
        "venue": "三年级教室",
        "teacher": teacher,
        "class_size": 45,
    }


def _url(school, term) -> str:
    return f"/api/v1/schools/{school.code}/timetables/{term['id']}"


async def _put(ow, school, term, sessions, version):
    return await ow.client.put(
        _url(school, term), json={"sessions": sessions, "version": version}, headers=school.headers
    )


def test_the_numbers_of_a_crafted_week():
    # Monday: 60 min homework + 60 min football = 50 %; Tuesday: 90 min homework + 30 min
    # science = 25 %; Wednesday: homework only.
    week = week_numbers(
        [
            Slot(1, time(15, 40), time(16, 40), 1),
            Slot(1, time(16, 40), time(17, 40), 4),
            Slot(2, time(15, 40), time(17, 10), 1),
            Slot(2, time(17, 10), time(17, 40), 2),
            Slot(3, time(15, 40), time(16, 40), 1),
        ]
    )
    assert [
        (d.weekday, d.total_minutes, d.interest_minutes, d.interest_share, d.interest_activities) for d in week.days
    ] == [(1, 120, 60, 0.5, 1), (2, 120, 30, 0.25, 1), (3, 60, 0, 0.0, 0)]
    assert week.science_sessions == 1
    assert [(p["code"], p.get("weekday")) for p in week.problems()] == [
        ("interest_share_below_half", 2),
        ("interest_share_below_half", 3),
        ("no_interest_activity", 3),
    ]
    assert "25%" in week.problems()[0]["message"]


async def test_a_timetable_files_only_when_it_conforms_and_the_public_sees_what_was_published(ow, ready):
    vendor, entries, person, term, school = ready
    homework_only = [_session(1, "15:40", "16:40", 1)]
    written = await _put(ow, school, term, homework_only, 0)
    assert written.status_code == 200, written.text
    body = written.json()
    assert (body["state"], body["version"], body["numbers"]["conforms"]) == ("draft", 1, False)
    refused = await ow.client.post(_url(school, term) + "/file", json={"version": 1}, headers=school.headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "timetable_not_conforming"
    codes = {d["code"] for d in refused.json()["error"]["details"]}
    assert codes == {"interest_share_below_half", "no_interest_activity", "no_science"}

    # The ordered robotics item (category 2, science) joins the timetable once accepted.
    order = (await ow.place(school, ow.order_payload(term, entries[0], [person], weekdays=[1]))).json()
    assert (await ow.order_act(order, vendor.headers, "accept")).status_code == 200
    read = (await ow.client.get(_url(school, term), headers=school.headers)).json()
    assert [s.get("provider") for s in read["sessions"]] == [None, vendor.name]
    assert read["numbers"]["days"] == [
        {"weekday": 1, "total_minutes": 150, "interest_minutes": 90, "interest_share": 0.6, "interest_activities": 1}
    ]
    assert read["numbers"]["conforms"] is True and read["allowed_actions"] == ["file"]

    not_yet = await ow.client.get(f"/api/v1/public/timetables/{school.code}/{term['id']}")
    assert not_yet.status_code == 404
    filed = await ow.client.post(_url(school, term) + "/file", json={"version": 1}, headers=school.headers)
    assert filed.status_code == 200 and filed.json()["state"] == "filed", filed.text
    editing = await _put(ow, school, term, homework_only, 2)
    assert editing.status_code == 409 and editing.json()["error"]["code"] == "timetable_not_draft"
    published = await ow.client.post(_url(school, term) + "/publish", json={"version": 2}, headers=school.headers)
    assert published.status_code == 200 and published.json()["state"] == "published"

    public = await ow.client.get(f"/api/v1/public/timetables/{school.code}/{term['id']}")
    assert public.status_code == 200, public.text
    contents = [s["content"] for s in public.json()["sessions"]]
    assert contents[0] == "作业辅导" and contents[1].startswith("少儿机器人编程")
    assert public.json()["sessions"][1]["teacher"] == "王**"  # vendor staff by masked name only
    pdf = await ow.client.get(f"/api/v1/public/timetables/{school.code}/{term['id']}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", pdf.text
    printed = assert_sound(pdf.content, ["课后服务安排表", "周一", "作业辅导", "王**", vendor.name, "60%"])
    assert "每课时" in printed or "元" in printed  # the ordered item's published fee

    no_reason = await ow.client.post(_url(school, term) + "/revise", json={"version": 3}, headers=school.headers)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reason_required"
    revised = await ow.client.post(
        _url(school, term) + "/revise", json={"version": 3, "reason": "调整周三安排"}, headers=school.headers
    )
    assert revised.status_code == 200 and revised.json()["state"] == "draft"
    # While it is revised, the public still reads what was published.
    assert (await ow.client.get(f"/api/v1/public/timetables/{school.code}/{term['id']}")).status_code == 200


async def test_sessions_are_checked_row_by_row_and_versions_guard_the_write(ow, ready):
    vendor, entries, person, term, school = ready
    bad = [_session(1, "15:40", "16:40", 1), _session(9, "17:00", "16:00", 12, content="")]
    response = await _put(ow, school, term, bad, 0)
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"sessions[1].weekday", "sessions[1].end_time", "sessions[1].category_code", "sessions[1].content"}
    assert (await _put(ow, school, term, bad[:1], 0)).status_code == 200
    stale = await _put(ow, school, term, bad[:1], 0)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    other = await ow.new_school()
    assert (
        await ow.client.put(_url(school, term), json={"sessions": [], "version": 1}, headers=other.headers)
    ).status_code == 404


async def test_the_bureau_sees_which_schools_have_not_published_by_the_deadline(ow, ready):
    vendor, entries, person, term, school = ready
    late_term = await ow.term(starts_in=-60, days=150)  # its timetable was due a month ago
    quiet = await ow.new_school()
    await _put(ow, school, late_term, [_session(1, "15:40", "16:40", 1)], 0)
    county = await ow.reviewer("360104")
    response = await ow.client.get(
        "/api/v1/regions/360104/timetables", params={"term": late_term["id"]}, headers=county
    )
    assert response.status_code == 200, response.text
    rows = {r["school_code"]: r for r in response.json()["schools"]}
    assert rows[quiet.code]["state"] is None and rows[quiet.code]["overdue"] is True
    assert rows[school.code]["state"] == "draft" and rows[school.code]["overdue"] is True
    on_time = await ow.client.get("/api/v1/regions/360104/timetables", params={"term": term["id"]}, headers=county)
    assert not any(r["overdue"] for r in on_time.json()["schools"])  # due in a fortnight
    far = await ow.reviewer("360102")
    assert (
        await ow.client.get("/api/v1/regions/360104/timetables", params={"term": term["id"]}, headers=far)
    ).status_code == 403
