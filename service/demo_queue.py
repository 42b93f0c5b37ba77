"""The demo's review queue and a school's past checks, so that each role's console home
has something to do: an application waiting for the county (submitted), one
waiting for the city's final review, and the demo school's checks of
two vendors. Through the services, as the people would; loaded once."""

from __future__ import annotations

from sqlmodel import select

from service.applications import Application, ApplicationInput, create_application, transition
from service.audit import Signer
from service.db import Database
from service.demo_loop import _actor
from service.documents import list_documents
from service.lookup import lookup_vendor
from service.service_items import list_service_items
from service.vendors import Vendor

COUNTY = "360104"
# login of the vendor account -> the review steps its application goes through
STEPS = {"shuxiang": ["submit"], "tiyu": ["submit", "accept", "pass_preliminary", "pass_verification"]}


async def load_queue(db: Database, signer: Signer, credit_codes: dict[str, str]) -> None:
    """`credit_codes`: vendor login -> its credit code (every vendor already registered)."""
    county, school = await _actor(db, "qingyunpu"), await _actor(db, "school")
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
        items = await list_service_items(db, actor, vendor.id)
        documents = await list_documents(db, actor, vendor.id)
        view = (
            await create_application(
                db, actor, ApplicationInput(vendor.id, COUNTY, [i.id for i in items], [d.id for d in documents])
            )
        ).value
        for step in steps:
            who = actor if step == "submit" else county
            assert view is not None  # no idempotency key: never a replay
            view = (await transition(db, who, view.application.id, action=step, version=view.application.version)).value
    # A school with past checks: the admitted vendor and one still in review.
    for code in list(credit_codes.values())[:2]:
        await lookup_vendor(db, signer, school, code)
