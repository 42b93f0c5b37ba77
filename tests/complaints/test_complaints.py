"""Complaints: a parent's without an account (and its rate limit), signed-in ones, the
bureau's handling through the table with evidence, the four-eyes suspension an upheld
serious complaint opens, and the person-level suspension pending an investigation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.complaints import open_complaints_by_age
from service.complaints.models import Complaint, ComplaintEvidence, PublicRateWindow
from service.complaints.services import EFFECTS
from service.timeutil import utcnow
from tests.factories import PDF
from tests.lookup.people_world import new_id_number
from workflows.complaint import COMPLAINT


async def _count(cw, model) -> int:
    async with cw.db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()[0]


async def _actions(cw, object_id: str) -> list[str]:
    async with cw.db.transaction() as session:
        rows = (
            await session.exec(select(AuditEvent).where(AuditEvent.object_id == object_id).order_by(AuditEvent.id))
        ).all()
    return [r[0].action for r in rows]


async def test_a_parent_complains_without_an_account_and_follows_the_case_by_its_code(cw, ordered):
    vendor, entries, person, term, school, order = ordered
    response = await cw.public_complaint(school.code, order_id=order["id"], description="强制要求报名，家长王某某")
    assert response.status_code == 201, response.text
    created = response.json()
    code = created["case_code"]
    assert created["state"] == "received" and created["status_url"] == f"/api/v1/public/complaints/{code}"
    assert len(code) == 17 and code.startswith("TS-")

    status = await cw.client.get(f"/api/v1/public/complaints/{code}")
    assert status.status_code == 200, status.text
    body = status.json()
    assert set(body) == {"case_code", "state", "state_label", "category", "category_label", "received_at", "updated_at"}
    assert (body["state"], body["state_label"], body["category"]) == ("received", "已受理", "fee_overcharge")
    assert "王某某" not in status.text and school.code not in status.text  # nothing personal, no school
    # Typed loosely on a phone: lower case, no dashes.
    assert (await cw.client.get(f"/api/v1/public/complaints/{code.replace('-', '').lower()}")).status_code == 200
    missing = await cw.client.get("/api/v1/public/complaints/TS-0000-0000-0000")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "case_not_found"

    async with cw.db.transaction() as session:
        complaint = (await session.exec(select(Complaint))).one()[0]
    assert (complaint.source, complaint.filed_by, str(complaint.vendor_id)) == ("public", None, order["vendor_id"])
    assert await _actions(cw, str(complaint.id)) == ["complaints:complaint:file"]


async def test_a_bad_public_complaint_is_refused_with_its_field_and_leaves_no_trace(cw, ordered):
    vendor, entries, person, term, school, order = ordered
    other = await cw.new_school()
    cases = [
        ({"category": "noise"}, 422, "unknown_category", "category"),
        ({"description": "   "}, 422, "required", "description"),
        ({"order_id": order["id"]}, 422, "order_not_found", "order_id"),  # not that school's order
        ({"description": "x" * 2001}, 422, "too_long", "description"),
    ]
    for body, status, code, field in cases:
        response = await cw.public_complaint(other.code, **body)
        assert response.status_code == status, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == code and error["details"][0]["field"] == field, response.text
    named = await cw.public_complaint(other.code, person_id=person["person_id"])  # no field for people here
    assert named.status_code in (400, 422), named.text
    unknown_school = await cw.public_complaint("3601049999")
    assert unknown_school.status_code == 404 and unknown_school.json()["error"]["code"] == "school_not_found"
    assert await _count(cw, Complaint) == 0 and await _count(cw, PublicRateWindow) == 0


async def test_the_public_form_is_rate_limited_per_address_and_per_school(cw, limits):
    first, second, third = await cw.new_school(), await cw.new_school(), await cw.new_school()
    limits.configure(per_address=2, per_school=100)
    assert [(await cw.public_complaint(first.code)).status_code for _ in range(2)] == [201, 201]
    refused = await cw.public_complaint(second.code)  # the same address, another school
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["details"][0]["limit"] == "per_address"
    assert await _count(cw, Complaint) == 2

    limits.configure(per_address=100, per_school=1)
    assert (await cw.public_complaint(third.code)).status_code == 201
    per_school = await cw.public_complaint(third.code)
    assert per_school.status_code == 429 and per_school.json()["error"]["details"][0]["limit"] == "per_school"
    assert await _count(cw, Complaint) == 3
    async with cw.db.transaction() as session:
        keys = [row[0].key for row in (await session.exec(select(PublicRateWindow))).all()]
    assert all("127.0.0.1" not in k for k in keys)  # the address only as a keyed hash


async def test_a_public_complaint_with_an_idempotency_key_is_filed_once(cw, limits):
    school, other = await cw.new_school(), await cw.new_school()
    limits.configure(per_address=2, per_school=100)
    path = f"/api/v1/public/schools/{school.code}/complaints"
    body = {"category": "safety", "description": "放学后无人看护"}
    key = {"Idempotency-Key": "6f1c1e0a-4b7e-4f63-9d0e-2a5b8c7d9e01"}

    first = await cw.client.post(path, json=body, headers=key)
    assert first.status_code == 201, first.text
    replay = await cw.client.post(path, json=body, headers=key)
    assert replay.status_code == 201 and replay.json() == first.json()  # the same case code
    assert replay.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert await _count(cw, Complaint) == 1

    # The same key with another body, or for another school, is another request: refused, nothing filed.
    changed = await cw.client.post(path, json=body | {"description": "另一件事"}, headers=key)
    assert changed.status_code == 422 and changed.json()["error"]["code"] == "idempotency_key_reused"
    elsewhere = await cw.client.post(f"/api/v1/public/schools/{other.code}/complaints", json=body, headers=key)
    assert elsewhere.status_code == 422 and elsewhere.json()["error"]["code"] == "idempotency_key_reused"
    # Anonymous callers share the scope, so a guessable key is refused.
    short = await cw.client.post(path, json=body, headers={"Idempotency-Key": "abc"})
    assert short.status_code == 422 and short.json()["error"]["details"][0]["field"] == "Idempotency-Key"
    assert await _count(cw, Complaint) == 1

    # A replay takes no rate-limit slot: one more filing fits under the limit of two, then 429.
    assert (await cw.client.post(path, json=body, headers=key)).status_code == 201
    assert (await cw.public_complaint(school.code)).status_code == 201
    refused = await cw.client.post(path, json=body, headers={"Idempotency-Key": "b" * 32})
    assert refused.status_code == 429 and await _count(cw, Complaint) == 2
    # The refused request left no key: once the limit allows, the same key files.
    limits.configure(per_address=100)
    again = await cw.client.post(path, json=body, headers={"Idempotency-Key": "b" * 32})
    assert again.status_code == 201 and again.json()["case_code"] != first.json()["case_code"]
    assert await _count(cw, Complaint) == 3


async def test_a_signed_in_complaint_with_an_idempotency_key_is_filed_once(cw, ordered):
    vendor, entries, person, term, school, order = ordered
    key = {"Idempotency-Key": "retry-1"} | school.headers
    body = {"school_code": school.code, "category": "conduct", "description": "授课人员言语粗暴"}
    first = await cw.client.post("/api/v1/complaints", json=body, headers=key)
    assert first.status_code == 201, first.text
    replay = await cw.client.post("/api/v1/complaints", json=body, headers=key)
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    changed = await cw.client.post("/api/v1/complaints", json=body | {"category": "safety"}, headers=key)
    assert changed.status_code == 422 and changed.json()["error"]["code"] == "idempotency_key_reused"
    assert await _count(cw, Complaint) == 1


async def test_schools_vendors_and_inspectors_file_signed_in_within_their_reach(cw, ordered):
    vendor, entries, person, term, school, order = ordered
    other_school = await cw.new_school()
    inspector = await cw.accounts.headers("auditor", region_code="360104")
    far_inspector = await cw.accounts.headers("auditor", region_code="360102")

    own = await cw.complain(school.headers, school.code, order_id=order["id"], person_id=person["person_id"])
    assert own.status_code == 201, own.text
    assert (own.json()["source"], own.json()["person_id"], own.json()["allowed_actions"]) == (
        "school",
        person["person_id"],
        [],
    )
    assert (await cw.complain(school.headers, other_school.code)).status_code == 404  # not its school
    by_vendor = await cw.complain(vendor.headers, school.code, category="forced_participation", order_id=order["id"])
    assert by_vendor.status_code == 201 and by_vendor.json()["source"] == "vendor"
    other_vendor, _ = await cw.approved()
    foreign = await cw.complain(other_vendor.headers, school.code, order_id=order["id"])
    assert foreign.status_code == 422 and foreign.json()["error"]["code"] == "order_not_found"
    by_inspector = await cw.complain(inspector, school.code, category="new_lessons")
    assert by_inspector.status_code == 201 and by_inspector.json()["source"] == "inspector"
    assert (await cw.complain(far_inspector, school.code)).status_code == 404
    no_order = await cw.complain(school.headers, school.code, person_id=person["person_id"])
    assert no_order.status_code == 422 and no_order.json()["error"]["code"] == "order_required"
    stranger = await cw.complain(school.headers, school.code, order_id=order["id"], person_id=vendor.id)
    assert stranger.status_code == 422 and stranger.json()["error"]["code"] == "person_not_on_order"
    assert await _count(cw, Complaint) == 3

    # The filer reads its own case; another school does not; the county sees them all.
    read = await cw.client.get(f"/api/v1/complaints/{own.json()['id']}", headers=school.headers)
    assert read.status_code == 200
    assert (
        await cw.client.get(f"/api/v1/complaints/{own.json()['id']}", headers=other_school.headers)
    ).status_code == 404
    listed = await cw.client.get("/api/v1/complaints", headers=await cw.reviewer("360104"))
    assert [c["source"] for c in listed.json()["items"]] == ["school", "vendor", "inspector"]
    far = await cw.client.get("/api/v1/complaints", headers=await cw.reviewer("360102"))
    assert far.json()["items"] == []


async def test_the_bureau_investigates_with_evidence_and_decides_with_a_reason(cw, ordered):
    vendor, entries, person, term, school, order = ordered
    complaint = (await cw.complain(school.headers, school.code, category="safety", order_id=order["id"])).json()
    reviewer = await cw.reviewer("360104")
    case = (await cw.client.get(f"/api/v1/complaints/{complaint['id']}", headers=reviewer)).json()
    assert case["allowed_actions"] == ["investigate", "dismiss"]
    too_early = await cw.handle(case, reviewer, "uphold", reason="属实")
    assert too_early.status_code == 409 and too_early.json()["error"]["code"] == "transition_not_allowed"
    investigating = await cw.handle(case, reviewer, "investigate")
    assert investigating.status_code == 200, investigating.text
    case = investigating.json()
    assert (case["state"], case["version"], case["allowed_actions"]) == ("investigating", 2, ["uphold", "dismiss"])

    url = f"/api/v1/complaints/{case['id']}/evidence"
    added = await cw.client.post(url, headers=reviewer, files={"file": ("现场照片.pdf", PDF, "application/pdf")})
    assert added.status_code == 201, added.text
    assert [e["filename"] for e in added.json()["evidence"]] == ["现场照片.pdf"]
    bad = await cw.client.post(url, headers=reviewer, files={"file": ("a.pdf", b"MZ not a pdf", "application/pdf")})
    assert bad.status_code == 415 and bad.json()["error"]["code"] == "unsupported_file_type"
    assert (
        await cw.client.post(url, headers=school.headers, files={"file": ("b.pdf", PDF, "application/pdf")})
    ).status_code == 403
    assert await _count(cw, ComplaintEvidence) == 1

    stale = await cw.handle(complaint, reviewer, "dismiss", reason="查无实据")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    no_reason = await cw.handle(case, reviewer, "uphold")
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reason_required"
    upheld = await cw.handle(case, reviewer, "uphold", reason="经现场核查，安全措施不到位")
    assert upheld.status_code == 200, upheld.text
    done = upheld.json()
    assert (done["state"], done["serious"], done["suspension_request"], done["allowed_actions"]) == (
        "upheld",
        False,
        None,
        [],
    )
    assert (await cw.client.get(f"/api/v1/public/complaints/{done['case_code']}")).json()["state"] == "upheld"
    assert await _actions(cw, case["id"]) == [
        "complaints:complaint:file",
        "complaints:complaint:investigate",
        "complaints:evidence:add",
        "complaints:complaint:uphold",
    ]


async def test_an_upheld_serious_complaint_opens_a_suspension_that_needs_a_second_reviewer(cw, ordered):
    vendor, entries, person, term, school, order = ordered
    complaint = (await cw.complain(school.headers, school.code, category="safety", order_id=order["id"])).json()
    first, second = await cw.reviewer("360104"), await cw.reviewer("360104")
    case = (await cw.handle(complaint | {"version": 1}, first, "investigate")).json()
    nothing = await cw.handle(case, first, "uphold", reason="属实", serious=True, suspend="nowhere")
    assert nothing.status_code == 422 and nothing.json()["error"]["code"] == "invalid_suspend_target"
    upheld = (await cw.handle(case, first, "uphold", reason="多名学生受伤，安全管理严重失职", serious=True)).json()
    request = upheld["suspension_request"]
    assert (upheld["serious"], request["action"], request["status"]) == (True, "suspend", "pending")
    assert request["entry_ids"] == [entries[0]["id"]]  # the item's entry, not the vendor's others
    # Nothing suspended yet: four eyes.
    assert (await cw.orders(school))[0]["standing"] == "in_force"
    same = await cw.confirm(first, request["id"])
    assert same.status_code == 403 and same.json()["error"]["code"] == "four_eyes_violation"
    confirmed = await cw.confirm(second, request["id"])
    assert confirmed.status_code == 200, confirmed.text
    standing = (await cw.orders(school))[0]
    assert standing["standing"] == "blocked" and standing["standing_reasons"][0]["code"] == "item_suspended"
    assert await _actions(cw, request["id"]) == ["whitelist:request:suspend", "whitelist:request:confirm"]


async def test_a_serious_complaint_naming_no_order_cannot_request_a_suspension(cw, ordered):
    vendor, entries, person, term, school, order = ordered
    complaint = (await cw.complain(school.headers, school.code, category="fee_bundling")).json()
    reviewer = await cw.reviewer("360104")
    case = (await cw.handle(complaint, reviewer, "investigate")).json()
    refused = await cw.handle(case, reviewer, "uphold", reason="属实", serious=True)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "nothing_to_suspend"
    again = (await cw.client.get(f"/api/v1/complaints/{case['id']}", headers=reviewer)).json()
    assert (again["state"], again["version"]) == ("investigating", 2)  # nothing changed


async def _lookup(cw, headers, id_number, name):
    response = await cw.client.post(
        "/api/v1/lookup/people", headers=headers, json={"id_number": id_number, "name": name}
    )
    assert response.status_code == 200, response.text
    return response


def _answer_bytes(response) -> bytes:
    """The answer as sent, without the fields every answer has its own value of."""
    head, _, stamp = response.content.partition(b',"checked_at"')
    assert set(response.json()) - {"result", "vendors", "valid_until"} == {"checked_at", "receipt_id"}
    return head


async def test_a_suspended_person_is_not_cleared_like_any_other_cause_and_blocks_orders(cw, ordered):
    vendor, entries, person, term, school, order = ordered
    number = new_id_number()
    named = await cw.cleared_person(vendor, id_number=number, name="赵六")
    other = await cw.cleared_person(vendor, name="孙七")
    order = (await cw.place(school, cw.order_payload(term, entries[1], [named, other]))).json()
    complaint = (
        await cw.complain(school.headers, school.code, order_id=order["id"], person_id=named["person_id"])
    ).json()
    reviewer = await cw.reviewer("360104")
    assert (await _lookup(cw, school.headers, number, "赵六")).json()["result"] == "cleared"

    suspended = await cw.client.post(f"/api/v1/complaints/{complaint['id']}/person-suspension", headers=reviewer)
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["person_suspended"] is True
    # The lookup: `not_cleared`, byte for byte the body of an unknown number or a wrong name.
    answer = await _lookup(cw, school.headers, number, "赵六")
    assert answer.json()["result"] == "not_cleared"
    unknown = await _lookup(cw, school.headers, new_id_number(), "赵六")
    wrong_name = await _lookup(cw, school.headers, number, "赵七")
    assert (
        _answer_bytes(answer)
        == _answer_bytes(unknown)
        == _answer_bytes(wrong_name)
        == b'{"result":"not_cleared","vendors":[]'
    )
    # Orders naming the person are blocked, and no new one can name them.
    standing = next(o for o in await cw.orders(school) if o["id"] == order["id"])
    assert standing["standing"] == "blocked"
    assert [r["code"] for r in standing["standing_reasons"]] == ["person_not_cleared"]
    assert standing["standing_reasons"][0]["person_id"] == named["person_id"]
    assert "投诉" not in str(standing["standing_reasons"])  # the cause is never said
    refused = await cw.place(school, cw.order_payload(term, entries[1], [named]))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "person_not_cleared"
    # Everywhere: another school's lookup too.
    elsewhere = await cw.new_school()
    assert (await _lookup(cw, elsewhere.headers, number, "赵六")).json()["result"] == "not_cleared"
    again = await cw.client.post(f"/api/v1/complaints/{complaint['id']}/person-suspension", headers=reviewer)
    assert again.status_code == 200  # already suspended for this case: nothing new

    # Dismissing the case lifts the suspension.
    case = (await cw.handle(suspended.json(), reviewer, "investigate")).json()
    dismissed = await cw.handle(case, reviewer, "dismiss", reason="经调查投诉不属实")
    assert dismissed.status_code == 200 and dismissed.json()["person_suspended"] is False
    assert (await _lookup(cw, school.headers, number, "赵六")).json()["result"] == "cleared"
    assert next(o for o in await cw.orders(school) if o["id"] == order["id"])["standing"] == "in_force"
    events = [a for a in await _actions(cw, named["person_id"]) if a.startswith("personnel:person:")]
    assert events[-2:] == ["personnel:person:suspend", "personnel:person:lift_suspension"]
    closed = await cw.client.post(f"/api/v1/complaints/{complaint['id']}/person-suspension", headers=reviewer)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "complaint_closed"


async def test_an_upheld_case_keeps_the_suspension_until_a_reviewer_lifts_it(cw, ordered):
    vendor, entries, person, term, school, order = ordered
    complaint = (
        await cw.complain(school.headers, school.code, order_id=order["id"], person_id=person["person_id"])
    ).json()
    reviewer = await cw.reviewer("360104")
    no_person = (await cw.complain(school.headers, school.code)).json()
    unnamed = await cw.client.post(f"/api/v1/complaints/{no_person['id']}/person-suspension", headers=reviewer)
    assert unnamed.status_code == 422 and unnamed.json()["error"]["code"] == "no_person_named"
    assert (
        await cw.client.post(f"/api/v1/complaints/{complaint['id']}/person-suspension", headers=school.headers)
    ).status_code == 403
    case = (await cw.client.post(f"/api/v1/complaints/{complaint['id']}/person-suspension", headers=reviewer)).json()
    case = (await cw.handle(case, reviewer, "investigate")).json()
    upheld = (await cw.handle(case, reviewer, "uphold", reason="言行不当属实")).json()
    assert upheld["person_suspended"] is True
    assert (await cw.orders(school))[0]["standing"] == "blocked"
    lift_url = f"/api/v1/complaints/{complaint['id']}/person-suspension/lift"
    assert (await cw.client.post(lift_url, headers=reviewer, json={"reason": ""})).status_code == 422
    lifted = await cw.client.post(lift_url, headers=reviewer, json={"reason": "已整改并重新培训"})
    assert lifted.status_code == 200 and lifted.json()["person_suspended"] is False
    assert (await cw.orders(school))[0]["standing"] == "in_force"
    twice = await cw.client.post(lift_url, headers=reviewer, json={"reason": "再次"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "no_open_suspension"


async def test_open_complaints_by_age_for_a_region(cw, ordered):
    vendor, entries, person, term, school, order = ordered
    old = (await cw.public_complaint(school.code)).json()
    await cw.sql(
        "UPDATE complaints SET created_at = created_at - interval '10 days' WHERE case_code = :c", c=old["case_code"]
    )
    fresh = (await cw.complain(school.headers, school.code)).json()
    closed = (await cw.complain(school.headers, school.code)).json()
    assert (await cw.handle(closed, await cw.reviewer("360104"), "dismiss", reason="重复投诉")).status_code == 200
    async with cw.db.transaction() as session:
        found = await open_complaints_by_age(session, ["360104"], utcnow())
        elsewhere = await open_complaints_by_age(session, ["360102"], utcnow() + timedelta(days=1))
    assert [(c.case_code, c.age_days) for c in found] == [(old["case_code"], 10), (fresh["case_code"], 0)]
    assert elsewhere == []


def test_the_service_handles_every_effect_the_complaint_table_names():
    assert set(EFFECTS) == set(COMPLAINT.effects)
