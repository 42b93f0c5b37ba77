"""One import's staging, in the worker thread: each validated row decided (new, already
recorded, or a problem) and, while the import is clean, the rows to COPY and each
record's leaf in the import's commitment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from service.audit import CompactTree
from service.identifiers import describe_normalized, mask_id_number
from service.personnel.import_records import record_document, record_leaf
from service.personnel.import_rows import ParsedRow
from service.personnel.importfile import MAX_REPORTED_PROBLEMS, Problem
from service.personnel.people import ID_NUMBER_PURPOSE
from service.security import Actor, Keyring

#: What the database already holds of a chunk: blind index -> (name, person id), and
#: (check type, reference) -> (blind index, result, query date, valid until, authority).
KnownPeople = dict[str, tuple[str, str]]
KnownChecks = dict[tuple[str, str], tuple[Any, ...]]
#: A validated row with its blind index.
IndexedRow = tuple[ParsedRow, str]


@dataclass
class ImportRun:
    """Everything one import remembers across chunks (per distinct person and reference)."""

    actor: Actor
    keyring: Keyring
    consent_id: UUID
    consent_sha256: str
    import_id: UUID
    now: datetime
    request_id: str | None
    file_sha256: str
    people: dict[str, tuple[str, str, bool]] = field(default_factory=dict)  # index -> (name, id, created here)
    references: dict[tuple[str, str], int] = field(default_factory=dict)  # (type, reference) -> row
    problems: list[Problem] = field(default_factory=list)
    problems_total: int = 0
    rows: int = 0
    stored_rows: int = 0
    skipped: int = 0  # already recorded before this import (counted by the worker thread)
    # Counted by the task that stores chunks, which runs beside the worker thread:
    imported: int = 0
    people_created: int = 0
    leaves: list[bytes] = field(default_factory=list)  # each staged record's leaf hash, in leaf order
    tree: CompactTree = field(default_factory=CompactTree)  # their Merkle tree's frontier, grown as staged
    person_tail: tuple[Any, ...] = ()  # the columns every new person shares
    check_tail: tuple[Any, ...] = ()  # the columns every new check shares
    indexes: dict[str, str] = field(default_factory=dict)  # number -> blind index (people repeat in a file)
    masked: dict[str, str] = field(default_factory=dict)  # person id -> masked number, for their records

    def __post_init__(self) -> None:
        actor = self.actor
        self.person_tail = (actor.region_code, self.now, actor.account_id)
        self.check_tail = (self.consent_id, self.import_id, self.now, actor.account_id)

    def problem(self, problem: Problem) -> None:
        self.problems_total += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(problem)


@dataclass
class Staged:
    people: list[tuple[Any, ...]] = field(default_factory=list)
    checks: list[tuple[Any, ...]] = field(default_factory=list)
    rows: int = 0


def new_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs in canonical text form, from one read of the
    system's random source: about four times cheaper than uuid4() plus str()."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])
    text = raw.hex()
    return [
        f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
        for h in (text[i : i + 32] for i in range(0, len(text), 32))
    ]


def resolve(run: ImportRun, rows: list[IndexedRow], known_people: KnownPeople, known_checks: KnownChecks) -> Staged:
    """Worker thread: decide each row (new, already imported, or a problem) and, while
    the import is clean, build the rows to store and their leaves."""
    staged = Staged()
    people, references = run.people, run.references
    ids = iter(new_ids(2 * len(rows)))
    consent_id, import_id = str(run.consent_id), str(run.import_id)
    for row, index in rows:
        ok = True
        person = people.get(index)
        if person is None:
            known = known_people.get(index)
            if known is not None:
                person = people[index] = (known[0], known[1], False)
            else:
                person = people[index] = (row.name, next(ids), True)
                if run.problems_total == 0:
                    _stage_person(staged, run, row, index, person[1])
        if person[0] != row.name:
            run.problem(
                Problem(row.row, "name", "name_mismatch", "姓名与该身份证号码已登记（或文件中先出现）的姓名不一致")
            )
            ok = False
        key = (row.check_type, row.reference)
        first = references.get(key)
        if first is not None:
            run.problem(
                Problem(row.row, "reference", "duplicate_reference", f"查询编号与第 {first} 行重复（同一查询类型）")
            )
            continue
        references[key] = row.row
        existing = known_checks.get(key)
        if existing is not None:
            if existing == (index, row.result, row.query_date, row.valid_until, row.issuing_authority):
                run.skipped += 1  # imported before: nothing to add
            else:
                run.problem(
                    Problem(
                        row.row,
                        "reference",
                        "reference_conflict",
                        "该查询编号已登记，但人员、结果、查询日期、有效期或出具机关与本行不同",
                    )
                )
            continue
        if ok and run.problems_total == 0:
            _stage_check(staged, run, row, person[1], consent_id, import_id, ids)
    return staged


def _stage_person(staged: Staged, run: ImportRun, row: ParsedRow, index: str, person_id: str) -> None:
    number = row.number
    born, sex = describe_normalized(number)
    masked = run.masked[person_id] = mask_id_number(number)
    staged.people.append(
        (
            person_id,
            index,
            run.keyring.encrypt(number.encode(), ID_NUMBER_PURPOSE),
            masked,
            row.name,
            sex,
            born,
            *run.person_tail,
        )
    )


def _stage_check(
    staged: Staged,
    run: ImportRun,
    row: ParsedRow,
    person_id: str,
    consent_id: str,
    import_id: str,
    ids: Iterator[str],
) -> None:
    """The record's row, and its leaf in the import's commitment (next in order)."""
    check_id = next(ids)
    leaf = len(run.leaves)
    staged.checks.append(
        (
            check_id,
            person_id,
            row.check_type,
            row.result,
            row.query_date,
            row.reference,
            row.issuing_authority,
            row.valid_until,
            *run.check_tail,
            leaf,
        )
    )
    masked = run.masked.get(person_id)
    if masked is None:
        masked = run.masked[person_id] = mask_id_number(row.number)
    hashed = record_leaf(
        record_document(
            import_id=import_id,
            index=leaf,
            check_id=check_id,
            person_id=person_id,
            id_number_masked=masked,
            check_type=row.check_type,
            result=row.result,
            query_date=row.query_date,
            reference=row.reference,
            issuing_authority=row.issuing_authority,
            valid_until=row.valid_until,
            consent_document_id=consent_id,
        )
    )
    run.leaves.append(hashed)
    run.tree.append(hashed)  # the root is ready when the last chunk is staged
