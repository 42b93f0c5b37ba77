"""Timetable pages over HTTP: rows of a form become sessions, the numbers show per day,
filing a week that misses a rule is refused listing each rule, then file, publish and
the public page (no sign-in) with its PDF link; a stale version is a conflict in words."""

from __future__ import annotations

from tests.orders.conftest import OrdersWorld


def _rows(*sessions: tuple) -> dict:
    form: dict = {"row": []}
    for n, (weekday, start, end, category, content) in enumerate(sessions):
        key = f"k{n}"
        form["row"].append(key)
        form |= {
            f"weekday_{key}": str(weekday),
            f"start_time_{key}": start,
            f"end_time_{key}": end,
            f"category_code_{key}": str(category),
            f"content_{key}": content,
            f"venue_{key}": "各班教室",
            f"teacher_{key}": "班主任",
            f"class_size_{key}": "40",
        }
    form["row"].append("blank")  # an empty row is not saved
    form |= {"weekday_blank": "1", "category_code_blank": "1"}
    return form


async def test_a_school_edits_files_and_publishes_its_timetable(client, accounts, db, signed_in, new_browser):
    ow = OrdersWorld(client, accounts, db)
    term, school = await ow.term(), await ow.new_school()
    page = await signed_in("school", region_code="360104", school_code=school.code)
    first = await page.get("/school/timetable")
    assert first.status_code == 200 and "尚未安排任何时段" in first.text and 'name="row"' in first.text
    assert (await page.get("/school/timetable/row")).text.count('name="row"') == 1  # the HTMX row

    bad = await page.post(
        "/school/timetable", {"term": term["id"], "version": "0"} | _rows((1, "15:40", "15:00", 1, "作业辅导"))
    )
    assert bad.status_code == 422 and "结束时间须晚于开始时间" in bad.text and 'value="15:00"' in bad.text

    saved = await page.post(
        "/school/timetable",
        {"term": term["id"], "version": "0"}
        | _rows(
            (1, "15:40", "16:40", 1, "作业辅导"), (1, "16:40", "17:00", 4, "跳绳"), (2, "15:40", "16:40", 3, "合唱")
        ),
    )
    assert saved.status_code == 303, saved.text.split("error-summary")[-1][:600]
    shown = await page.get(saved.headers["location"])
    numbers = shown.text.split('data-testid="numbers"')[1].split("</table>")[0]
    assert "80 分钟" in numbers and "20 分钟" in numbers and "25%" in numbers and "100%" in numbers
    assert "周一兴趣类活动时间占 25%，须不少于 50%" in shown.text and "未开设科学类" in shown.text

    refused = await page.post("/school/timetable/act", {"term": term["id"], "version": "1", "action": "file"})
    assert refused.status_code == 422 and "周一兴趣类活动时间占 25%" in refused.text

    stale = await page.post(
        "/school/timetable", {"term": term["id"], "version": "0"} | _rows((1, "15:40", "16:00", 1, "作业辅导"))
    )
    assert stale.status_code == 409 and "安排表已被他人更新" in stale.text
    fixed = await page.post(
        "/school/timetable",
        {"term": term["id"], "version": "1"}
        | _rows(
            (1, "15:40", "16:10", 1, "作业辅导"), (1, "16:10", "17:00", 2, "科学实验"), (2, "15:40", "16:40", 3, "合唱")
        ),
    )
    assert fixed.status_code == 303
    assert (
        await page.post("/school/timetable/act", {"term": term["id"], "version": "2", "action": "file"})
    ).status_code == 303
    assert (
        await page.post("/school/timetable/act", {"term": term["id"], "version": "3", "action": "publish"})
    ).status_code == 303
    published = await page.get("/school/timetable", params={"term": term["id"]})
    assert "已公布" in published.text and "查看公开页面" in published.text and 'name="row"' not in published.text

    public = new_browser()
    href = f"/public/timetables/{school.code}/{term['id']}"
    card = await public.get(href)
    assert card.status_code == 200 and "科学实验" in card.text and "周二" in card.text
    assert f"/api/v1/public/timetables/{school.code}/{term['id']}.pdf" in card.text
    other = await ow.new_school()
    assert (await public.get(f"/public/timetables/{other.code}/{term['id']}")).status_code == 404

    no_reason = await page.post("/school/timetable/act", {"term": term["id"], "version": "4", "action": "revise"})
    assert no_reason.status_code == 422
    revised = await page.post(
        "/school/timetable/act", {"term": term["id"], "version": "4", "action": "revise", "reason": "周三增加足球"}
    )
    assert revised.status_code == 303
    assert "科学实验" in (await public.get(href)).text  # the public keeps what was published
