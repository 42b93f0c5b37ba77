"""The demo's review queue and a school's past checks, so that each role's console home
has something to do: an application waiting in each review stage of 青云谱区 — with
the county (submitted, preliminary review, verification), with the city (final review)
— and one in its public notice (启明星科技 applying for a new item after its first
admission), shown on /public/notices; and the demo school's past checks of two vendors
and two of the admitted vendor's staff. Through the services, as the people would;
loaded once."""

from __future__ import annotations

from uuid import UUID

from sqlmodel import select

from service.applications import Application, ApplicationInput, create_application, transition
from service.audit import Signer
from service.db import Database
from service.demo_loop import STAFF, _actor
from service.documents import list_documents
from service.lookup import PersonQuery, lookup_person, lookup_vendor
from service.security import Actor, Keyring
from service.service_items import ServiceItemInput, create_service_item, list_service_items
from service.vendors import Vendor

COUNTY = "360104"
CITY_DECISION = "材料真实齐全，人员核查无异常，同意公示"
# login of the vendor account -> the review steps its application goes through (and
# the stage it then waits in)
STEPS = {
    "shuxiang": ["submit"],  # submitted: the county takes it in
    "xiaohe": ["submit", "accept"],  # preliminary review
    "ganpo": ["submit", "accept", "pass_preliminary"],  # verification
    "tiyu": ["submit", "accept", "pass_preliminary", "pass_verification"],  # final review: the city's turn
    "vendor": ["submit", "accept", "pass_preliminary", "pass_verification", "approve"],  # public notice
}
#: 启明星科技's new item: what it applies for after its first admission (the loop's).
NEW_ITEM = ServiceItemInput(
    2,
    "无人机编程与航拍",
    "学习无人机结构与图形化编程，在操场完成编队飞行与航拍任务。",
    ["upper_primary", "junior_secondary"],
    3500,
    "per_session",
    24,
    "学校操场",
)


async def load_queue(db: Database, signer: Signer, keyring: Keyring, credit_codes: dict[str, str]) -> None:
    """`credit_codes`: vendor login -> its credit code (every vendor already registered)."""
    county, city, school = await _actor(db, "qingyunpu"), await _actor(db, "nanchang"), await _actor(db, "school")
    async with db.transaction() as session:
        vendors = {v.credit_code: v for v in (await session.exec(select(Vendor))).all()}
        started = (
            await session.exec(
                select(Application.id).where(Application.vendor_id == vendors[credit_codes["shuxiang"]].id)
            )
        ).first()
    if started is not None:
        return  # loaded before
    for login, steps in STEPS.items():
        actor = await _actor(db, login)
        vendor = vendors[credit_codes[login]]
        if login == "vendor":  # admitted already (the loop): it applies for its new item only
            item = (await create_service_item(db, actor, vendor.id, NEW_ITEM)).value
            assert item is not None  # no idempotency key: never a replay
            item_ids = [item.id]
        else:
            item_ids = [i.id for i in await list_service_items(db, actor, vendor.id)]
        await _apply(db, actor, county, city, vendor.id, item_ids, steps)
    # A school with past checks: the admitted vendor, one still in review, and two of the
    # admitted vendor's staff (the second's checks end within the month).
    for code in (credit_codes["vendor"], credit_codes["shuxiang"]):
        await lookup_vendor(db, signer, school, code)
    for number, name in (STAFF[0], STAFF[2]):
        await lookup_person(db, signer, keyring, school, PersonQuery(id_number=number, name=name))


async def _apply(
    db: Database, vendor: Actor, county: Actor, city: Actor, vendor_id: UUID, item_ids: list[UUID], steps: list[str]
) -> None:
    documents = await list_documents(db, vendor, vendor_id)
    view = (
        await create_application(db, vendor, ApplicationInput(vendor_id, COUNTY, item_ids, [d.id for d in documents]))
    ).value
    for step in steps:
        who = vendor if step == "submit" else city if step == "approve" else county
        assert view is not None  # no idempotency key: never a replay
        reason = CITY_DECISION if step == "approve" else None
        view = (
            await transition(db, who, view.application.id, action=step, reason=reason, version=view.application.version)
        ).value
