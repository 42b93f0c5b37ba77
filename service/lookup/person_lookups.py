"""The looked-up side of person lookups: who checked this person, when, and what they
were told (the DBS model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlmodel import col, select

from service.db import Database
from service.lookup.records import LookupRecord, lookups_of
from service.personnel import load_visible_person
from service.schools import School
from service.security import Actor


@dataclass(frozen=True)
class PersonLookup:
    at: datetime
    kind: str  # person | person_batch
    caller_role: str | None
    school_code: str | None
    school_name: str | None
    region_code: str | None
    result: str  # cleared | not_cleared


ACCOUNT_ROLES = "SELECT id, role FROM accounts WHERE id = ANY($1::uuid[])"


def _result_for(record: LookupRecord, index: str) -> str:
    if record.kind == "person_batch":
        for entry, answer in zip(record.query.get("entries", []), record.answer.get("results", [])):
            if entry.get("id_number_hmac") == index:
                return answer["result"]
        return "not_cleared"
    return record.answer.get("result", "not_cleared")


async def person_lookups(db: Database, actor: Actor, person_id: UUID) -> list[PersonLookup]:
    """Who looked this person up, when, and what they were told (newest first): for
    the person's vendor and reviewers in scope (404 otherwise, as for any person read)."""
    async with db.transaction() as session:
        person, _ = await load_visible_person(session, actor, person_id)
        index = person.id_number_index
    records = [r for r in await lookups_of(db, index) if r.kind in ("person", "person_batch")]
    school_ids = list({r.school_id for r in records if r.school_id is not None})
    schools: dict[UUID, School] = {}
    accounts: dict[UUID, str] = {}
    async with db.transaction() as session:
        if school_ids:
            schools = {s.id: s for s in (await session.exec(select(School).where(col(School.id).in_(school_ids))))}
    account_ids = list({r.account_id for r in records})
    if account_ids:
        pool = await db.raw_pool()
        async with pool.acquire() as conn:
            rows = await conn.fetch(ACCOUNT_ROLES, account_ids)
        accounts = {row[0]: row[1] for row in rows}
    out = []
    for record in records:
        school = schools.get(record.school_id) if record.school_id else None
        out.append(
            PersonLookup(
                at=record.at,
                kind=record.kind,
                caller_role=accounts.get(record.account_id),
                school_code=school.code if school else None,
                school_name=school.name if school else None,
                region_code=record.region_code,
                result=_result_for(record, index),
            )
        )
    return out
