"""POST /api/v1/lookup/people and …/batch: cleared only through a whitelisted vendor, one
answer shape (and the same statements) for every reason not to clear, keyed hashes only
in receipts, and the person's side of who looked them up."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import asyncpg
from sqlalchemy import event
from sqlmodel import select

from service.lookup.models import LookupReceipt
from service.lookup.receipts import parse_public_key, verify
from service.personnel.models import CHECK_TYPES
from service.timeutil import today_in_china
from tests.lookup.people_world import (
    RECENT,
    authorisation,
    batch,
    cleared_person,
    engage,
    lookup,
    new_id_number,
    record,
)

BAN = (today_in_china() + timedelta(days=365)).isoformat()
VOLATILE = ("checked_at", "receipt_id")


def _stable(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in VOLATILE}


async def _setup(wl):
    vendor, _ = await wl.approved(region_code="360104")
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    return vendor, reviewer, consent


async def _receipts(wl) -> list[LookupReceipt]:
    async with wl.db.transaction() as session:
        return list((await session.exec(select(LookupReceipt).order_by(LookupReceipt.created_at))).all())


async def test_a_cleared_person_is_cleared_until_the_earliest_expiry_through_the_vendor(wl):
    vendor, reviewer, consent = await _setup(wl)
    _, number = await cleared_person(wl, vendor, reviewer, consent)
    school = await wl.school("360104")
    response = await lookup(wl, school, number)
    assert response.status_code == 200, response.text
    body = response.json()
    expected_until = (date.fromisoformat(RECENT) + timedelta(days=365)).isoformat()
    assert _stable(body) == {
        "result": "cleared",
        "valid_until": expected_until,
        "vendors": [{"credit_code": vendor.credit_code, "name": vendor.name}],
    }
    assert set(body) == {"result", "valid_until", "vendors", "checked_at", "receipt_id"}
    # Through the named vendor, and with the name written with odd spacing / full-width forms.
    named = await lookup(wl, school, number, name=" 王小明 ", vendor_credit_code=vendor.credit_code.lower())
    assert named.json()["result"] == "cleared"
    # Reviewers judge for their own region (or a named one in scope).
    assert (await lookup(wl, reviewer, number)).json()["result"] == "cleared"
    city = await wl.reviewer("360100")
    assert (
        await wl.client.post(
            "/api/v1/lookup/people?region=360104", headers=city, json={"id_number": number, "name": "王小明"}
        )
    ).json()["result"] == "cleared"


async def test_every_reason_not_to_clear_gives_the_same_answer_and_the_same_statements(wl, monkeypatch):
    vendor, reviewer, consent = await _setup(wl)
    other_vendor, _ = await wl.approved(region_code="360104")
    school = await wl.school("360104")
    other_county = await wl.school("360102")

    _, ok = await cleared_person(wl, vendor, reviewer, consent)
    barred_id, barred = await cleared_person(wl, vendor, reviewer, consent)
    await record(
        wl,
        barred_id,
        reviewer,
        consent,
        check_type="criminal_record",
        result="adverse",
        query_date=today_in_china().isoformat(),
    )
    _, expired = await cleared_person(
        wl, vendor, reviewer, consent, query_date=(today_in_china() - timedelta(days=400)).isoformat()
    )
    pending_id, pending = await engage(wl, vendor)
    for check_type in CHECK_TYPES:
        await record(
            wl,
            pending_id,
            reviewer,
            consent,
            check_type=check_type,
            query_date=RECENT,
            result="pending" if check_type == "mental_health" else "clear",
        )
    departed_id, departed = await cleared_person(wl, vendor, reviewer, consent)
    gone = await wl.client.post(
        f"/api/v1/vendors/{vendor.id}/people/{departed_id}/departure", headers=vendor.headers, json={}
    )
    assert gone.status_code in (200, 201), gone.text
    _, not_started = await cleared_person(
        wl, vendor, reviewer, consent, start_date=(today_in_china() + timedelta(days=30)).isoformat()
    )
    revoked_vendor, _ = await wl.approved(region_code="360104")
    _, at_revoked = await cleared_person(wl, revoked_vendor, reviewer, consent)
    first, second = await wl.reviewer("360104"), await wl.reviewer("360104")
    request = (
        await wl.adjust(first, action="revoke", reason="撤销", vendor_id=revoked_vendor.id, ban_until=BAN)
    ).json()
    assert (await wl.confirm(second, request["request"]["id"])).status_code == 200
    # Suspended pending a complaint's investigation (the complaints tests open one through
    # the API; here the row alone, so that the statements are compared too).
    suspended_id, suspended = await cleared_person(wl, vendor, reviewer, consent)
    await wl.sql(
        "INSERT INTO person_suspensions (id, person_id, suspended_at) "
        "VALUES (gen_random_uuid(), CAST(:p AS uuid), now())",
        p=suspended_id,
    )

    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(re.sub(r"\$\d+(::\w+)?(, )?", "", statement)[:80])

    # The hot path also runs raw asyncpg statements on the transaction's connection
    # (people, engagements, check facts, whitelist state, receipt), which SQLAlchemy's
    # cursor events do not see: record those too.
    def raw(name):
        original = getattr(asyncpg.Connection, name)

        async def recorded(self, query, *args, **kwargs):
            seen(None, None, "raw: " + query.strip())
            return await original(self, query, *args, **kwargs)

        return recorded

    for name in ("fetch", "fetchrow", "fetchval", "execute"):
        monkeypatch.setattr(asyncpg.Connection, name, raw(name))

    cases = {
        "unknown number": (school, new_id_number(), {}),
        "wrong name": (school, ok, {"name": "王小红"}),
        "barred": (school, barred, {}),
        "expired check": (school, expired, {}),
        "pending check": (school, pending, {}),
        "departed": (school, departed, {}),
        "engagement not started yet": (school, not_started, {}),
        "another county": (other_county, ok, {}),
        "a vendor that does not engage them": (school, ok, {"vendor_credit_code": other_vendor.credit_code}),
        "vendor revoked": (school, at_revoked, {}),
        "suspended pending a complaint": (school, suspended, {}),
    }
    reference = await lookup(wl, school, ok)
    assert reference.json()["result"] == "cleared"
    # Every caller's token is in the worker's token cache once it has called (whatever it
    # asked): warm the other county's school too, so only the answer's cause varies below.
    await lookup(wl, other_county, new_id_number())
    engine = wl.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        statements.clear()
        await lookup(wl, school, ok)
        cleared_statements = list(statements)
        # One read (people, engagements, facts, vendors' whitelist state, checkpoint) and the
        # grouped receipt store; the token comes from the cache (re-validated by the store).
        assert len(cleared_statements) == 2, cleared_statements
        assert cleared_statements[0].startswith("raw: WITH p AS MATERIALIZED (SELECT k.asked, d.id"), cleared_statements
        assert cleared_statements[1].startswith("raw: SELECT out_ord, out_outcome"), cleared_statements
        for reason, (headers, number, extra) in cases.items():
            statements.clear()
            response = await lookup(wl, headers, number, **extra)
            assert response.status_code == 200, (reason, response.text)
            assert _stable(response.json()) == {"result": "not_cleared", "vendors": []}, reason
            assert set(response.json()) == {"result", "vendors", "checked_at", "receipt_id"}, reason
            assert statements == cleared_statements, reason
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(await _receipts(wl)) == len(cases) + 3


def _plan_shape(node: dict) -> tuple:
    """A plan node as what it did: its kind, the relation it read, the rows it gave and
    how often it ran (no timings, no costs), with its children's."""
    return (
        node["Node Type"],
        node.get("Relation Name"),
        node.get("Actual Rows"),
        node.get("Actual Loops"),
        tuple(_plan_shape(child) for child in node.get("Plans", ())),
    )


async def test_an_unknown_number_reads_what_a_known_number_with_a_wrong_name_reads(wl, monkeypatch):
    """No timing oracle: the lookup of a number nobody recorded runs the same statement
    with the same plan, reading the same number of rows at every step (a decoy person
    read in full), and judges a person just as often, as a known number with a wrong name."""
    from service.lookup import people, people_reader

    vendor, reviewer, consent = await _setup(wl)
    _, known = await cleared_person(wl, vendor, reviewer, consent)
    await cleared_person(wl, vendor, reviewer, consent)  # everyone recorded alike: any decoy costs the same
    school = await wl.school("360104")
    reads: list[tuple] = []
    judged: list[int] = []
    fetch, judge = asyncpg.Connection.fetch, people.cleared_until

    async def recorded(self, query, *args, **kwargs):
        rows = await fetch(self, query, *args, **kwargs)
        if query is people_reader.READ_PEOPLE:
            reads.append((args, len(rows)))
        return rows

    def counted(*args, **kwargs):
        judged.append(1)
        return judge(*args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "fetch", recorded)
    monkeypatch.setattr(people, "cleared_until", counted)

    async def asked(number: str, name: str) -> tuple[tuple, int, int]:
        reads.clear(), judged.clear()
        response = await lookup(wl, school, number, name=name)
        assert response.status_code == 200 and response.json()["result"] == "not_cleared", response.text
        ((args, rows),) = reads
        return args, rows, len(judged)

    await lookup(wl, school, known)  # warm the worker's caches
    conn = await asyncpg.connect(wl.db.dsn)
    try:
        biggest = await conn.fetchval("SELECT max(id_number_index) FROM people")
        wrong_args, wrong_rows, wrong_judged = await asked(known, "王小红")
        for _ in range(20):  # an unknown number whose decoy is the next person (not the wrap to the first)
            unknown_args, unknown_rows, unknown_judged = await asked(new_id_number(), "王小明")
            if unknown_args[0][0] < biggest:
                break
        assert unknown_rows == wrong_rows == 2  # the head row and one person row
        assert unknown_judged == wrong_judged == 1

        async def plan(indexes: list[str]) -> tuple:
            # The instant and the cache versions of one call for both: only the number differs.
            explained = await conn.fetchval(
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) " + people_reader.READ_PEOPLE,
                indexes,
                *wrong_args[1:],
            )
            return _plan_shape(json.loads(explained)[0]["Plan"])

        assert await plan(unknown_args[0]) == await plan(wrong_args[0])
    finally:
        await conn.close()


async def test_an_engagement_lets_the_person_in_from_its_start_date(wl, monkeypatch):
    """A vendor may register someone before they start; schools hear `cleared` only from
    the start date (China time), not before."""
    from datetime import datetime, time

    from service.lookup import people_reader
    from service.timeutil import CHINA_TZ

    vendor, reviewer, consent = await _setup(wl)
    starts = today_in_china() + timedelta(days=3)
    _, number = await cleared_person(wl, vendor, reviewer, consent, start_date=starts.isoformat())
    school = await wl.school("360104")
    assert (await lookup(wl, school, number)).json()["result"] == "not_cleared"
    first_instant = datetime.combine(starts, time(0), tzinfo=CHINA_TZ)
    monkeypatch.setattr(people_reader, "utcnow", lambda: first_instant - timedelta(microseconds=1))
    assert (await lookup(wl, school, number)).json()["result"] == "not_cleared"
    monkeypatch.setattr(people_reader, "utcnow", lambda: first_instant)
    assert (await lookup(wl, school, number)).json()["result"] == "cleared"


async def test_bad_input_is_422_and_stores_nothing(wl):
    vendor, reviewer, consent = await _setup(wl)
    _, number = await cleared_person(wl, vendor, reviewer, consent)
    school = await wl.school("360104")
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = await lookup(wl, school, bad)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_id_number" and error["details"][0]["field"] == "id_number"
    assert bad not in response.text
    missing = await wl.client.post("/api/v1/lookup/people", headers=school, json={"id_number": number})
    assert missing.status_code == 422 and missing.json()["error"]["details"][0]["field"] == "name"
    blank = await lookup(wl, school, number, name="  ")
    assert blank.status_code == 422 and blank.json()["error"]["details"][0]["code"] == "required"
    in_batch = await batch(wl, school, [{"id_number": number, "name": "王小明"}, {"id_number": bad, "name": "王"}])
    assert in_batch.status_code == 422
    assert in_batch.json()["error"]["details"][0]["field"] == "entries[1].id_number"
    assert await _receipts(wl) == []


async def test_the_raw_number_appears_in_no_log_or_answer_of_any_lookup(wl, capsys, caplog):
    """Single and batch lookups, cleared, unknown and malformed: the number never reaches
    a log line or a response body (only its keyed hash reaches the receipt)."""
    vendor, reviewer, consent = await _setup(wl)
    _, number = await cleared_person(wl, vendor, reviewer, consent)
    school = await wl.school("360104")
    unknown = new_id_number()
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    capsys.readouterr()
    bodies = [(await lookup(wl, school, n)).text for n in (number, unknown, bad, number.lower())]
    bodies.append(
        (
            await batch(wl, school, [{"id_number": number, "name": "王小明"}, {"id_number": unknown, "name": "王小明"}])
        ).text
    )
    bodies.append((await batch(wl, school, [{"id_number": bad, "name": "王小明"}])).text)
    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "/api/v1/lookup/people" in logs  # the requests were logged at all
    for raw in (number, unknown, bad):
        for haystack in (logs, *bodies):
            assert raw not in haystack and raw.lower() not in haystack and raw[6:14] + raw[14:17] not in haystack


async def test_vendors_and_anonymous_callers_may_not_look_people_up(wl):
    vendor, reviewer, consent = await _setup(wl)
    _, number = await cleared_person(wl, vendor, reviewer, consent)
    assert (await lookup(wl, vendor.headers, number)).status_code == 403
    assert (
        await wl.client.post("/api/v1/lookup/people", json={"id_number": number, "name": "王小明"})
    ).status_code == 401


async def test_batch_keeps_order_allows_500_and_refuses_501(wl):
    vendor, reviewer, consent = await _setup(wl)
    _, ok = await cleared_person(wl, vendor, reviewer, consent, name="李四")
    school = await wl.school("360104")
    entries = [{"id_number": new_id_number(), "name": "张三"} for _ in range(499)]
    entries.insert(250, {"id_number": ok, "name": "李四"})
    response = await batch(wl, school, entries)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"results", "checked_at", "receipt_id"} and len(body["results"]) == 500
    assert [r["result"] for r in body["results"]].index("cleared") == 250
    assert sum(r["result"] == "cleared" for r in body["results"]) == 1
    assert body["results"][251] == body["results"][0] == {"result": "not_cleared", "vendors": []}
    single = await lookup(wl, school, ok, name="李四")
    assert body["results"][250] == _stable(single.json())

    too_many = await batch(wl, school, entries + [{"id_number": ok, "name": "李四"}])
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "too_many_entries"
    assert (await batch(wl, school, [])).status_code == 422
    stored = await _receipts(wl)
    assert [r.kind for r in stored] == ["person_batch", "person"]
    assert stored[0].subject == "batch" and len(stored[0].subjects) == 500


async def test_receipts_verify_and_hold_no_number_or_name(wl):
    vendor, reviewer, consent = await _setup(wl)
    _, number = await cleared_person(wl, vendor, reviewer, consent, name="欧阳明月")
    school = await wl.school("360104")
    single = await lookup(wl, school, number, name="欧阳明月")
    many = await batch(
        wl, school, [{"id_number": number, "name": "欧阳明月"}, {"id_number": new_id_number(), "name": "欧阳明月"}]
    )
    keys = parse_public_key((await wl.client.get("/api/v1/keys")).text)
    for response, kind in ((single, "person"), (many, "person_batch")):
        assert number not in response.text and "欧阳明月" not in response.text
        served = (await wl.client.get(f"/api/v1/receipts/{response.json()['receipt_id']}", headers=school)).json()
        assert verify(served, keys) == []
        assert served["receipt"]["kind"] == kind
        assert number not in json.dumps(served, ensure_ascii=False) and "欧阳明月" not in served["canonical"]
    receipt = (await wl.client.get(f"/api/v1/receipts/{single.json()['receipt_id']}", headers=school)).json()
    assert set(receipt["receipt"]["query"]) == {"id_number_hmac", "name_hmac", "vendor_credit_code"}
    assert receipt["receipt"]["answer"] == _stable(single.json())
    for row in await _receipts(wl):
        stored = json.dumps([row.subject, row.subjects], ensure_ascii=False)
        stored += bytes(row.canonical).decode()
        assert number not in stored and "欧阳明月" not in stored
        # A school sees nothing of a check's content anywhere: no type, result or date.
        for word in (*CHECK_TYPES, 'clear"', "adverse", "pending", RECENT):
            assert word not in stored
    for word in (*CHECK_TYPES, "adverse", "pending", RECENT):
        assert word not in single.text and word not in many.text


async def test_the_person_side_lists_who_looked_them_up(wl):
    vendor, reviewer, consent = await _setup(wl)
    person_id, number = await cleared_person(wl, vendor, reviewer, consent)
    school = await wl.school("360104", code="3601040042")
    await lookup(wl, school, number)
    await batch(wl, school, [{"id_number": new_id_number(), "name": "张三"}, {"id_number": number, "name": "错名"}])
    path = f"/api/v1/people/{person_id}/lookups"
    response = await wl.client.get(path, headers=vendor.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["kind"], i["result"], i["school_code"]) for i in items] == [
        ("person_batch", "not_cleared", "3601040042"),
        ("person", "cleared", "3601040042"),
    ]
    assert items[0]["school_name"] and items[0]["caller_role"] == "school" and items[0]["region_code"] == "360104"
    assert (await wl.client.get(path, headers=reviewer)).status_code == 200
    # Outside scope: as for any person read, 404; schools have no such endpoint.
    other_vendor, _ = await wl.approved(region_code="360104")
    assert (await wl.client.get(path, headers=other_vendor.headers)).status_code == 404
    assert (await wl.client.get(path, headers=await wl.reviewer("360202"))).status_code == 404
    assert (await wl.client.get(path, headers=school)).status_code == 403


async def test_only_a_confirmed_bar_lift_clears_among_several_requests_for_one_check(wl):
    """Closed (declined, withdrawn) requests stay as rows next to the confirmed one: the
    lookup and the person's view must count the check once, as lifted — not once per
    request row, which would leave an unlifted copy barring the person."""
    vendor, reviewer, consent = await _setup(wl)
    person_id, number = await cleared_person(wl, vendor, reviewer, consent)
    adverse = await record(
        wl,
        person_id,
        reviewer,
        consent,
        check_type="sexual_offence_entry_query",
        result="adverse",
        query_date=today_in_china().isoformat(),
    )
    school = await wl.school("360104")
    first, second = await wl.reviewer("360000"), await wl.reviewer("360000")
    lifts = f"/api/v1/people/{person_id}/bar-lifts"
    body = {"check_id": adverse["id"], "reason": "经复核，系同名误报"}

    async def answers() -> tuple[str, str]:
        looked_up = await lookup(wl, school, number)
        assert looked_up.status_code == 200, looked_up.text
        view = await wl.client.get(f"/api/v1/people/{person_id}", headers=vendor.headers)
        return looked_up.json()["result"], view.json()["clearance"]

    declined = (await wl.client.post(lifts, headers=first, json=body)).json()
    assert (
        await wl.client.post(f"{lifts}/{declined['id']}/decline", headers=second, json={"reason": "证明不足"})
    ).status_code == 200
    assert await answers() == ("not_cleared", "barred")
    withdrawn = (await wl.client.post(lifts, headers=first, json=body)).json()
    assert (await wl.client.post(f"{lifts}/{withdrawn['id']}/withdraw", headers=first, json={})).status_code == 200
    lift = (await wl.client.post(lifts, headers=first, json=body)).json()
    assert await answers() == ("not_cleared", "barred")  # requested, not confirmed
    assert (await wl.client.post(f"{lifts}/{lift['id']}/confirm", headers=second, json={})).status_code == 200
    assert await answers() == ("cleared", "cleared")
    batch_answer = await batch(wl, school, [{"id_number": number, "name": "王小明"}])
    assert batch_answer.status_code == 200, batch_answer.text
    assert [item["result"] for item in batch_answer.json()["results"]] == ["cleared"]
