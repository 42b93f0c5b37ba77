"""The demo's whitelist loop: one vendor admitted in 青云谱区 through the real review,
its staff cleared, a current term, three orders of the demo school — in force, at risk,
blocked — a published timetable and the open complaint behind the blocked order, so the
first screen shows the loop working.

Everything goes through the services, as the people would: the vendor applies, the
county reviews, the city decides (four eyes), the school orders and publishes. To admit
at once, the county's notice period is set to 0 for this one admission and restored
afterwards; both changes stay in the audit trail like any other.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TypeVar
from uuid import UUID

from sqlmodel import select

from service.accounts import Account, actor_of
from service.applications import ApplicationInput, conclude_due_notices, create_application, transition
from service.complaints import ComplaintInput, file_complaint
from service.db import Database
from service.documents import BlobStorage, list_documents
from service.idempotency import Reply
from service.identifiers import check_digit
from service.orders import OrderInput, Term, TermInput, create_term, one_month_after, place_order, transition_order
from service.personnel import (
    CHECK_TYPES,
    CheckInput,
    PersonInput,
    Upload,
    add_person,
    record_check,
    upload_authorisation,
)
from service.region_settings import update_settings
from service.security import Actor, Keyring
from service.service_items import list_service_items
from service.timetables import act_on_timetable, save_timetable
from service.timeutil import today_in_china
from service.whitelist import ActionInput, entries_of_application, take_action

COUNTY = "360104"
T = TypeVar("T")


def _value(reply: Reply[T]) -> T:
    """The result of a use case: the demo passes no idempotency key, so no reply is a replay."""
    assert reply.value is not None
    return reply.value


def _number(first17: str) -> str:
    return first17 + check_digit(first17)


# Synthetic numbers with valid check digits (GB 11643), never real people.
STAFF = [
    (_number("36010219880312402"), "周敏"),
    (_number("36010219900520801"), "吴磊"),
    (_number("36010219921105302"), "郑悦"),
]
AUTHORISATION_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>"
    b"endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


async def _actor(db: Database, login: str) -> Actor:
    async with db.transaction() as session:
        account = (await session.exec(select(Account).where(Account.login == login))).first()
    assert account is not None, "the demo accounts are seeded before the loop"
    return actor_of(account)


async def _admit(db: Database, vendor: Actor, county: Actor, city: Actor, vendor_id: UUID) -> dict[UUID, UUID]:
    """Apply, review, decide, admit: the whitelist entry of each item, by item."""
    items = await list_service_items(db, vendor, vendor_id)
    documents = await list_documents(db, vendor, vendor_id)
    app = _value(
        await create_application(
            db, vendor, ApplicationInput(vendor_id, COUNTY, [i.id for i in items], [d.id for d in documents])
        )
    ).application
    steps = [
        (vendor, "submit", None),
        (county, "accept", None),
        (county, "pass_preliminary", None),
        (county, "pass_verification", None),
        (city, "approve", "材料齐全，人员核查通过，同意纳入白名单"),
    ]
    admin = Actor.system()
    await update_settings(db, admin, COUNTY, {"notice_days": 0})
    try:
        for version, (actor, action, reason) in enumerate(steps, start=1):
            await transition(db, actor, app.id, action=action, reason=reason, version=version)
        await conclude_due_notices(db, application_id=app.id)
    finally:
        await update_settings(db, admin, COUNTY, {"notice_days": None})
    async with db.transaction() as session:
        return {e.service_item_id: e.id for e in await entries_of_application(session, app.id)}


async def _staff(
    db: Database, keyring: Keyring, storage: BlobStorage, vendor: Actor, county: Actor, vendor_id: UUID, max_bytes: int
) -> list[UUID]:
    """Three people, every check clear; the third was checked 350 days ago (ends soon)."""
    consent = _value(
        await upload_authorisation(
            db,
            storage,
            county,
            Upload(AUTHORISATION_PDF, "批量查询授权函.pdf", max_bytes),
            title="公安机关批量查询授权函",
            region_code=COUNTY,
            signed_on=today_in_china() - timedelta(days=400),
        )
    )
    ids = []
    for n, (number, name) in enumerate(STAFF):
        person = _value(
            await add_person(
                db, keyring, vendor, vendor_id, PersonInput(number, name, "lead_instructor", date(2025, 9, 1))
            )
        ).person
        checked = today_in_china() - timedelta(days=350 if n == 2 else 30)
        for check_type in CHECK_TYPES:
            await record_check(
                db,
                county,
                person.id,
                CheckInput(
                    check_type, "clear", checked, f"DEMO-{n}-{check_type}", "南昌市公安局青云谱分局", None, consent.id
                ),
            )
        ids.append(person.id)
    return ids


async def load_loop(db: Database, keyring: Keyring, storage: BlobStorage, vendor_id: UUID, max_bytes: int) -> None:
    async with db.transaction() as session:
        if (await session.exec(select(Term.id).where(Term.region_code == COUNTY))).first() is not None:
            return  # loaded before
    vendor, county, city = (await _actor(db, "vendor"), await _actor(db, "qingyunpu"), await _actor(db, "nanchang"))
    school = await _actor(db, "school")
    entries = await _admit(db, vendor, county, city, vendor_id)
    people = await _staff(db, keyring, storage, vendor, county, vendor_id, max_bytes)
    today = today_in_china()
    starts = today - timedelta(days=20)
    term = _value(
        await create_term(
            db,
            county,
            TermInput(COUNTY, "2026-2027 学年第一学期", starts, starts + timedelta(days=140), one_month_after(starts)),
        )
    )
    robotics, experiments = await list_service_items(db, vendor, vendor_id)
    orders = []
    # In force, at risk (its teacher's clearance ends in 15 days), blocked (suspended below).
    for item, weekdays, person in (
        (robotics, [1], people[0]),
        (robotics, [3], people[2]),
        (experiments, [2, 4], people[1]),
    ):
        data = OrderInput(term.id, item.id, weekdays, "16:30", "17:30", "科学教室", 30, ["upper_primary"], [person])
        orders.append(_value(await place_order(db, school, "2136010401", data)))
    for view in orders:
        await transition_order(db, vendor, view.order.id, action="accept", version=1)
    # One order blocked: its item suspended in the county while a complaint is looked into.
    await take_action(
        db, county, ActionInput("suspend", "家长反映收费问题，暂停待查", entry_ids=[entries[experiments.id]])
    )
    sessions = [
        {
            "weekday": d,
            "start_time": "15:40",
            "end_time": "16:30",
            "category_code": 1,
            "content": "作业辅导",
            "venue": "各班教室",
            "teacher": "班主任",
            "class_size": 45,
        }
        for d in range(1, 6)
    ]
    sessions += [
        {
            "weekday": d,
            "start_time": "17:30",
            "end_time": "18:20",
            "category_code": 4,
            "content": "校园足球",
            "venue": "学校操场",
            "teacher": "体育组 李老师",
            "class_size": 40,
        }
        for d in (2, 4)
    ]
    sessions += [
        {
            "weekday": d,
            "start_time": "16:30",
            "end_time": "17:30",
            "category_code": 3,
            "content": "合唱",
            "venue": "音乐教室",
            "teacher": "音乐组 陈老师",
            "class_size": 40,
        }
        for d in (5,)
    ]
    await save_timetable(db, school, "2136010401", term.id, sessions, version=0)
    await act_on_timetable(db, school, "2136010401", term.id, "file", version=1)
    await act_on_timetable(db, school, "2136010401", term.id, "publish", version=2)
    # The complaint behind the suspension, still open: the bureau's dashboard shows it.
    await file_complaint(
        db,
        school,
        "2136010401",
        ComplaintInput(
            "fee_overcharge", "有家长反映，科学实验课除公示收费外另收材料费每学期 120 元。", order_id=orders[2].order.id
        ),
    )
