"""Who a person is and who may see them: the identity (keyed hash of the number), the
cleaned name, a person's engagements with vendors, and the visibility rule every
personnel read goes through (`load_visible_person`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.errors import (
    Forbidden,
    NotFound,
)
from service.identifiers import birth_date, gender, mask_id_number
from service.personnel.models import (
    Engagement,
    Person,
)
from service.security import Actor, Keyring, Role
from service.vendors import Vendor, can_see_vendor

ID_NUMBER_PURPOSE = b"person.id_number"


WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Identity:
    """A validated resident ID number, in every form the service keeps of it."""

    index: str
    ciphertext: bytes
    masked: str
    gender: str
    birth_date: date


def identity(keyring: Keyring, number: str) -> Identity:
    """`number` must already be normalised (18 characters, upper-case)."""
    return Identity(
        index=keyring.blind_index(number),
        ciphertext=keyring.encrypt(number.encode(), ID_NUMBER_PURPOSE),
        masked=mask_id_number(number),
        gender=gender(number),
        birth_date=birth_date(number),
    )


def clean_name(name: str | None) -> str:
    """Names compare after NFKC folding and whitespace collapsing, nothing more."""
    return WHITESPACE.sub(" ", unicodedata.normalize("NFKC", name or "")).strip()


Engaged = tuple[Engagement, Vendor]


async def engagements_of(
    session: AsyncSession, person_ids: Iterable[UUID], *, current_only: bool = False
) -> dict[UUID, list[Engaged]]:
    ids = list(set(person_ids))
    found: dict[UUID, list[Engaged]] = {pid: [] for pid in ids}
    if not ids:
        return found
    query = (
        select(Engagement, Vendor)
        .join(Vendor, col(Vendor.id) == col(Engagement.vendor_id))
        .where(col(Engagement.person_id).in_(ids))
        .order_by(col(Engagement.created_at))
    )
    if current_only:
        query = query.where(col(Engagement.ended_at).is_(None))
    for engagement, vendor in (await session.exec(query)).all():
        found[engagement.person_id].append((engagement, vendor))
    return found


def can_see_person(actor: Actor, person: Person, engaged: list[Engaged]) -> bool:
    if actor.is_admin:
        return True
    if actor.role is Role.VENDOR:
        return any(e.ended_at is None and v.credit_code == actor.vendor_credit_code for e, v in engaged)
    if actor.role in (Role.REVIEWER, Role.AUDITOR):
        return actor.covers_region(person.origin_region_code) or any(
            actor.covers_region(v.region_code) for _, v in engaged
        )
    return False


async def load_visible_person(
    session: AsyncSession, actor: Actor, person_id: UUID, *, for_update: bool = False
) -> tuple[Person, list[Engaged]]:
    query = select(Person).where(Person.id == person_id)
    if for_update:
        query = query.with_for_update()
    person = (await session.exec(query)).first()
    engaged = (await engagements_of(session, [person_id]))[person_id] if person else []
    if person is None or not can_see_person(actor, person, engaged):
        raise NotFound("未找到该人员", code="person_not_found")
    return person, engaged


def _visible_engagements(actor: Actor, engaged: list[Engaged]) -> list[Engaged]:
    """A vendor sees only its own engagements; reviewers those of vendors in scope."""
    return [(e, v) for e, v in engaged if can_see_vendor(actor, v)]


def _require_writer(actor: Actor) -> None:
    if actor.role is Role.AUDITOR:
        raise Forbidden("审计人员只能查阅", code="role_not_allowed")


def _region_of(actor: Actor, engaged: list[Engaged]) -> str | None:
    """The region an event about a person belongs to: the acting vendor's, else the actor's."""
    if actor.role is Role.VENDOR:
        for engagement, vendor in engaged:
            if engagement.ended_at is None and vendor.credit_code == actor.vendor_credit_code:
                return vendor.region_code
    return actor.region_code
