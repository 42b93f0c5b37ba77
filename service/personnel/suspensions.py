"""A person's entry suspended everywhere, pending the investigation of a complaint.

A person-level state, on top of clearance: while a suspension is open, the person may
not enter any school for any vendor, whatever their checks say. The lookups answer
`not_cleared` with the same body as for every other cause, and orders naming the person
are blocked (their standing reads `entry_clearances`). A suspension is opened and lifted
by the complaints domain (service/complaints), each in its caller's transaction with its
audit event; rows are kept when lifted.

The rule is published as a pair: `suspended_sql` for the read side (the lookup's
statement), `open_suspension` for the write side.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import record_event
from service.personnel.models import PersonSuspension
from service.security import Actor
from service.webhooks import enqueue_standing_change


def open_suspension(lifted_at: datetime | None) -> bool:
    """A suspension holds until it is lifted."""
    return lifted_at is None


def suspended_sql(person: str) -> str:
    """SQL: the person row aliased `person` has an open suspension (index
    `ix_person_suspensions_open`)."""
    return f"EXISTS (SELECT 1 FROM person_suspensions s WHERE s.person_id = {person}.id AND s.lifted_at IS NULL)"


async def suspended_among(session: AsyncSession, person_ids: Iterable[UUID]) -> set[UUID]:
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return set()
    rows = (
        await session.exec(
            select(PersonSuspension.person_id, PersonSuspension.lifted_at).where(
                col(PersonSuspension.person_id).in_(ids), col(PersonSuspension.lifted_at).is_(None)
            )
        )
    ).all()
    return {person_id for person_id, lifted_at in rows if open_suspension(lifted_at)}


async def _standing_changed(session: AsyncSession, person_id: UUID, cause: str) -> None:
    """The one place a suspension or its lift tells subscribed schools that the orders
    naming this person changed standing: the webhook outbox, in this transaction."""
    await enqueue_standing_change(session, person_ids=[person_id], cause=cause)


async def suspend_person(
    session: AsyncSession,
    actor: Actor,
    person_id: UUID,
    *,
    complaint_id: UUID,
    case_code: str,
    region_code: str,
    now: datetime,
) -> PersonSuspension | None:
    """Suspend the person's entry for this complaint (None: already suspended for it)."""
    existing = (
        await session.exec(
            select(PersonSuspension).where(
                PersonSuspension.person_id == person_id,
                PersonSuspension.complaint_id == complaint_id,
                col(PersonSuspension.lifted_at).is_(None),
            )
        )
    ).first()
    if existing is not None:
        return None
    row = PersonSuspension(
        person_id=person_id, complaint_id=complaint_id, suspended_at=now, suspended_by=actor.account_id
    )
    session.add(row)
    await session.flush()
    await record_event(
        session,
        actor,
        "personnel:person:suspend",
        "person",
        person_id,
        region_code=region_code,
        reason=f"投诉 {case_code} 调查期间暂停入校",
        changes={"suspension": {"before": None, "after": {"id": row.id, "complaint_id": complaint_id}}},
    )
    await _standing_changed(session, person_id, "personnel:person:suspend")
    return row


async def lift_suspensions(
    session: AsyncSession,
    actor: Actor,
    *,
    complaint_id: UUID,
    case_code: str,
    region_code: str,
    reason: str,
    now: datetime,
) -> list[UUID]:
    """Lift every open suspension this complaint opened; the people whose entry it frees."""
    rows = (
        await session.exec(
            select(PersonSuspension)
            .where(PersonSuspension.complaint_id == complaint_id, col(PersonSuspension.lifted_at).is_(None))
            .with_for_update()
        )
    ).all()
    for row in rows:
        row.lifted_at, row.lifted_by = now, actor.account_id
        session.add(row)
        await record_event(
            session,
            actor,
            "personnel:person:lift_suspension",
            "person",
            row.person_id,
            region_code=region_code,
            reason=f"投诉 {case_code}：{reason}",
            changes={"suspension": {"before": {"id": row.id, "complaint_id": complaint_id}, "after": None}},
        )
        await _standing_changed(session, row.person_id, "personnel:person:lift_suspension")
    await session.flush()
    return [row.person_id for row in rows]
