"""Complaint pages over HTTP: a parent's public form (no sign-in, CSRF, the rate limit in
words, the case code), the public lookup (state and category only), and the reviewer's
list and case page with the workflow's actions as buttons."""

from __future__ import annotations

import re

from sqlmodel import func, select

from service.complaints.models import Complaint
from tests.complaints.conftest import ComplaintsWorld, limits  # noqa: F401  (fixture)
from tests.factories import PDF

CASE_CODE = re.compile(r'data-testid="case-code">(TS-[0-9A-Z-]+)<')


async def _count(db) -> int:
    async with db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(Complaint))).one()


async def _only(db) -> Complaint:
    async with db.transaction() as session:
        return (await session.exec(select(Complaint))).one()


async def test_a_parent_files_on_the_public_form_and_follows_the_case(client, accounts, db, new_browser, limits):
    cw = ComplaintsWorld(client, accounts, db)
    school = await cw.new_school()
    parent = new_browser()
    form = await parent.get(f"/public/schools/{school.code}/complaint")
    assert form.status_code == 200 and 'name="viewport"' in form.text and "借课后服务名义讲授新课" in form.text
    assert (await parent.get("/public/schools/3601049999/complaint")).status_code == 404

    forged = await parent.http.post(
        f"/public/schools/{school.code}/complaint", data={"category": "safety", "description": "无令牌"}
    )
    assert forged.status_code == 403 and "CSRF" in forged.text and await _count(db) == 0

    empty = await parent.post(f"/public/schools/{school.code}/complaint", {"category": "nope", "description": " "})
    assert empty.status_code == 422 and 'id="err-description"' in empty.text and 'id="err-category"' in empty.text
    assert "请描述投诉的情况" in empty.text and await _count(db) == 0

    text = "<script>alert(1)</script> 每次课额外收取材料费"
    done = await parent.post(
        f"/public/schools/{school.code}/complaint",
        {"category": "fee_overcharge", "description": text, "contact": "13800000000"},
    )
    # Post/Redirect/Get: the filing redirects to its case code, so a refresh files nothing.
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/public/complaints?code=TS-")
    done = await parent.get(done.headers["location"])
    assert done.status_code == 200 and "投诉已受理" in done.text
    code = CASE_CODE.search(done.text).group(1)
    assert "请记下或截图保存" in done.text and f'href="/public/complaints?code={code}"' in done.text
    stored = await _only(db)
    assert stored.case_code == code and stored.source == "public"
    assert stored.description.startswith(text) and stored.description.endswith("13800000000")  # the bureau reads it

    found = await parent.get("/public/complaints", params={"code": code.replace("-", "").lower()})
    assert (
        found.status_code == 200 and code in found.text and "已受理" in found.text and "超出公示标准收费" in found.text
    )
    assert "材料费" not in found.text and "13800000000" not in found.text and school.code not in found.text
    missing = await parent.get("/public/complaints", params={"code": "TS-0000-0000-0000"})
    assert missing.status_code == 404 and "未找到该投诉编号" in missing.text

    limits.configure(per_address=2)
    assert (
        await parent.post(f"/public/schools/{school.code}/complaint", {"category": "safety", "description": "第二件"})
    ).status_code == 303
    refused = await parent.post(
        f"/public/schools/{school.code}/complaint", {"category": "safety", "description": "第三件，超出限额"}
    )
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "同一网络地址提交投诉过于频繁：每小时最多 2 件" in refused.text and "第三件，超出限额" in refused.text
    assert await _count(db) == 2
    other = new_browser()  # another address still gets through
    await other.get(f"/public/schools/{school.code}/complaint")
    assert (
        await other.post(
            f"/public/schools/{school.code}/complaint", {"category": "safety", "description": "另一位家长"}
        )
    ).status_code == 303


SUBMISSION = re.compile(r'name="submission" value="([^"]+)"')


async def test_the_public_form_files_once_however_often_it_is_sent(client, accounts, db, new_browser, limits):
    cw = ComplaintsWorld(client, accounts, db)
    school = await cw.new_school()
    parent = new_browser()
    path = f"/public/schools/{school.code}/complaint"
    form = await parent.get(path)
    key = SUBMISSION.search(form.text).group(1)
    assert len(key) >= 16 and SUBMISSION.search((await parent.get(path)).text).group(1) != key  # one per form
    limits.configure(per_address=2)

    sent = {"category": "safety", "description": "放学时无人看护", "submission": key}
    first, second = await parent.post(path, sent), await parent.post(path, sent)  # a double click
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]  # the same case, shown again
    assert await _count(db) == 1
    shown = await parent.get(second.headers["location"])
    assert CASE_CODE.search(shown.text).group(1) == (await _only(db)).case_code

    # The same form with other content is not a replay: said in words, with a fresh key.
    changed = await parent.post(path, sent | {"description": "改过的内容"})
    assert changed.status_code == 422 and "这份表单此前已提交过一件投诉" in changed.text
    assert "改过的内容" in changed.text and SUBMISSION.search(changed.text).group(1) != key
    assert await _count(db) == 1
    # A damaged key is refused the same way, nothing filed; the replay took no rate-limit slot.
    damaged = await parent.post(path, sent | {"submission": "short"})
    assert damaged.status_code == 422 and "表单不完整或已损坏" in damaged.text and await _count(db) == 1
    fresh = SUBMISSION.search(changed.text).group(1)
    assert (await parent.post(path, sent | {"description": "第二件", "submission": fresh})).status_code == 303
    assert await _count(db) == 2


async def test_the_public_timetable_links_to_the_complaint_form():
    from pathlib import Path

    template = Path("service/console/templates/public/timetable.html").read_text()
    assert 'href="/public/schools/{{ school.code }}/complaint"' in template


async def test_a_reviewer_lists_opens_and_decides_a_case_with_buttons(client, accounts, db, signed_in):
    cw = ComplaintsWorld(client, accounts, db)
    school = await cw.new_school()
    created = await cw.public_complaint(school.code, category="conduct", description="<b>粗暴</b>\n第二行")
    assert created.status_code == 201
    code = created.json()["case_code"]
    reviewer = await signed_in("reviewer", region_code="360104")

    listing = await reviewer.get("/reviewer/complaints")
    assert listing.status_code == 200 and code in listing.text and "已受理" in listing.text and "0 天" in listing.text
    assert 'href="/reviewer/complaints"' in listing.text  # in the menu
    assert code not in (await reviewer.get("/reviewer/complaints?status=investigating")).text
    assert (await reviewer.get("/reviewer/complaints?status=bogus")).status_code == 422
    complaint = await _only(db)
    path = f"/reviewer/complaints/{complaint.id}"

    case = await reviewer.get(path)
    assert case.status_code == 200 and "&lt;b&gt;粗暴&lt;/b&gt;" in case.text and "<b>粗暴" not in case.text
    assert (
        ">开始调查</button>" in case.text
        and ">认定不成立</button>" in case.text
        and "认定属实</button>" not in case.text
    )

    forged = await reviewer.http.post(f"{path}/act", data={"action": "investigate", "version": "1"})
    assert forged.status_code == 403 and (await _only(db)).state == "received"

    moved = await reviewer.post(f"{path}/act", {"action": "investigate", "version": str(complaint.version)})
    assert moved.status_code == 303
    case = await reviewer.get(path)
    assert "调查中" in case.text and ">认定属实</button>" in case.text and ">开始调查</button>" not in case.text

    bad_file = await reviewer.post(f"{path}/evidence", files={"file": ("a.pdf", b"MZ not a pdf", "application/pdf")})
    assert bad_file.status_code == 415 and 'id="err-file"' in bad_file.text
    added = await reviewer.post(f"{path}/evidence", files={"file": ("现场照片.pdf", PDF, "application/pdf")})
    assert added.status_code == 303
    case = await reviewer.get(path)
    assert "现场照片.pdf" in case.text and case.text.count("现场照片.pdf") == 1
    link = re.search(r'href="(/reviewer/complaints/[^"]+/evidence/[^"]+)"[^>]*data-testid="evidence-link"', case.text)
    opened = await reviewer.get(link.group(1))
    assert opened.status_code == 200 and opened.content == PDF
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["content-disposition"].startswith("inline; filename*=UTF-8''")
    assert opened.headers["x-content-type-options"] == "nosniff" and opened.headers["cache-control"] == "no-store"
    far = await signed_in("reviewer", region_code="360102")
    assert (await far.get(link.group(1))).status_code == 404  # another county's case: not found
    forged_file = await reviewer.http.post(f"{path}/evidence", files={"file": ("b.pdf", PDF, "application/pdf")})
    assert forged_file.status_code == 403

    stale = await reviewer.post(
        f"{path}/act", {"action": "dismiss", "version": str(complaint.version), "reason": "无法核实"}
    )
    assert stale.status_code == 409 and "该投诉已由其他审核员处理" in stale.text
    fresh = (await _only(db)).version
    no_reason = await reviewer.post(f"{path}/act", {"action": "uphold", "version": str(fresh), "reason": " "})
    assert no_reason.status_code == 422 and 'class="field-error"' in no_reason.text
    assert (await _only(db)).state == "investigating"
    upheld = await reviewer.post(f"{path}/act", {"action": "uphold", "version": str(fresh), "reason": "经走访核实"})
    assert upheld.status_code == 303
    case = await reviewer.get(path)
    assert "投诉属实" in case.text and "经走访核实" in case.text and "该投诉已办结" in case.text
    assert 'data-testid="evidence-form"' not in case.text  # a closed case takes no more files
    assert (await _only(db)).state == "upheld"


async def test_other_regions_and_roles_do_not_see_cases(client, accounts, db, signed_in):
    cw = ComplaintsWorld(client, accounts, db)
    school = await cw.new_school()
    assert (await cw.public_complaint(school.code)).status_code == 201
    complaint = await _only(db)
    elsewhere = await signed_in("reviewer", region_code="360402")
    assert complaint.case_code not in (await elsewhere.get("/reviewer/complaints")).text
    assert (await elsewhere.get(f"/reviewer/complaints/{complaint.id}")).status_code == 404
    refused = await elsewhere.post(
        f"/reviewer/complaints/{complaint.id}/act", {"action": "investigate", "version": "1"}
    )
    assert refused.status_code == 404 and (await _only(db)).state == "received"
    school_page = await signed_in("school", region_code="360104", school_code=school.code)
    assert (await school_page.get("/reviewer/complaints")).status_code == 404


async def test_a_reviewer_suspends_and_lifts_the_named_person_from_the_case_page(client, accounts, db, signed_in):
    cw = ComplaintsWorld(client, accounts, db)
    vendor, entries = await cw.approved()
    person = await cw.cleared_person(vendor)
    term, school = await cw.term(), await cw.new_school()
    order = (await cw.place(school, cw.order_payload(term, entries[0], [person]))).json()
    created = await cw.complain(school.headers, school.code, order_id=order["id"], person_id=person["person_id"])
    assert created.status_code == 201, created.text
    path = f"/reviewer/complaints/{created.json()['id']}"
    reviewer = await signed_in("reviewer", region_code="360104")

    assert ">暂停该人员入校资格</button>" in (await reviewer.get(path)).text
    assert (await reviewer.post(f"{path}/person-suspension")).status_code == 303
    case = await reviewer.get(path)
    assert "入校资格暂停中" in case.text and ">解除暂停</button>" in case.text
    assert (await cw.orders(school))[0]["standing"] == "blocked"  # the same rule as the API's
    no_reason = await reviewer.post(f"{path}/person-suspension/lift", {"reason": " "})
    assert no_reason.status_code == 422 and (await cw.orders(school))[0]["standing"] == "blocked"
    lifted = await reviewer.post(f"{path}/person-suspension/lift", {"reason": "已核实与本人无关"})
    assert lifted.status_code == 303 and "入校资格暂停中" not in (await reviewer.get(path)).text
    assert (await cw.orders(school))[0]["standing"] == "in_force"


async def test_upholding_a_serious_case_from_the_page_asks_for_the_suspension(client, accounts, db, signed_in):
    cw = ComplaintsWorld(client, accounts, db)
    vendor, entries = await cw.approved()
    person = await cw.cleared_person(vendor)
    term, school = await cw.term(), await cw.new_school()
    order = (await cw.place(school, cw.order_payload(term, entries[0], [person]))).json()
    named = (await cw.complain(school.headers, school.code, order_id=order["id"])).json()
    bare = (await cw.complain(school.headers, school.code)).json()
    reviewer = await signed_in("reviewer", region_code="360104")
    for case in (named, bare):
        assert (
            await reviewer.post(f"/reviewer/complaints/{case['id']}/act", {"action": "investigate", "version": "1"})
        ).status_code == 303

    nothing = await reviewer.post(
        f"/reviewer/complaints/{bare['id']}/act",
        {"action": "uphold", "version": "2", "reason": "属实", "serious": "on", "suspend": "item"},
    )
    assert nothing.status_code == 422 and "该投诉未指明订单" in nothing.text and 'class="field-error"' in nothing.text
    upheld = await reviewer.post(
        f"/reviewer/complaints/{named['id']}/act",
        {"action": "uphold", "version": "2", "reason": "多次超标收费", "serious": "on", "suspend": "item"},
    )
    assert upheld.status_code == 303
    case = await reviewer.get(f"/reviewer/complaints/{named['id']}")
    assert (
        "（情节严重）" in case.text and "待另一名审核员确认" in case.text and 'href="/reviewer/whitelist"' in case.text
    )
